import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { Heartbeat, PING_SLICE, type HeartbeatTarget } from './heartbeat.js';

class Peer implements HeartbeatTarget {
  pings = 0;
  deaths = 0;
  ping(): void {
    this.pings++;
  }
  dead(): void {
    this.deaths++;
  }
}

/** A heartbeat on a clock the test moves; `beat` is what the interval timer would call. */
function rig(intervalMs = 1000) {
  let clock = 0;
  const late: number[] = [];
  const hb = new Heartbeat(intervalMs, { now: () => clock, onLateRound: (ms) => late.push(ms), probe: false });
  hb.start();
  const beatAt = async (t: number) => {
    clock = t;
    hb.beat();
    await turn();
  };
  return { hb, beatAt, late };
}

test('a peer that answers every ping stays; one that stops is dead at the first beat after a missed one', async () => {
  const { hb, beatAt } = rig();
  const good = new Peer();
  const bad = new Peer();
  hb.add(good);
  hb.add(bad);
  await beatAt(1000);
  assert.equal(good.pings, 1);
  assert.equal(bad.pings, 1);
  hb.alive(good);
  await beatAt(2000);
  assert.equal(bad.deaths, 1, 'missed the ping of beat 1');
  assert.equal(good.deaths, 0);
  hb.alive(good);
  await beatAt(3000);
  assert.equal(good.deaths, 0);
  assert.equal(bad.deaths, 1, 'dead is said once');
  hb.stop();
});

test('not dead after one beat: a peer gets a whole interval to answer', async () => {
  const { hb, beatAt } = rig();
  const p = new Peer();
  hb.add(p);
  await beatAt(1000);
  assert.equal(p.deaths, 0);
  await beatAt(2000);
  assert.equal(p.deaths, 1);
  hb.stop();
});

test('an answer read in the same turn as the beat (before judgement) counts', async () => {
  const { hb, beatAt } = rig();
  const p = new Peer();
  hb.add(p);
  await beatAt(1000);
  // The server was busy: the timer fires, and the pong that waited in the socket is read in the
  // poll phase of the same loop turn, after the timer but before setImmediate callbacks.
  const judged = beatAt(2000);
  hb.alive(p);
  await judged;
  assert.equal(p.deaths, 0);
  await beatAt(3000);
  assert.equal(p.deaths, 1, 'and judged at the next beat');
  hb.stop();
});

test('a round in which the server was held judges nobody', async () => {
  const { hb, beatAt, late } = rig();
  const p = new Peer();
  hb.add(p);
  await beatAt(1000);
  // The event loop was held for 7.5 of the 8 s: the peer never had a fair chance to be heard.
  hb.stalled(7500);
  await beatAt(9000);
  assert.equal(p.deaths, 0);
  assert.equal(hb.lateRounds, 1);
  assert.deepEqual(late, [7500]);
  // The next round with the server listening judges it: it was pinged at 9000 and said nothing.
  await beatAt(10_000);
  assert.equal(p.deaths, 1);
  hb.stop();
});

test('a round cut short (the next beat soon after a late one) judges nobody', async () => {
  const { hb, beatAt } = rig();
  const p = new Peer();
  hb.add(p);
  await beatAt(1000);
  hb.stalled(600);
  await beatAt(2000);
  assert.equal(p.deaths, 0, 'only 400 ms of listening');
  await beatAt(2500);
  assert.equal(p.deaths, 0, 'only 500 ms since the last ping');
  await beatAt(3500);
  assert.equal(p.deaths, 1);
  hb.stop();
});

test('timer slack is not a stall', async () => {
  const { hb, beatAt } = rig();
  const p = new Peer();
  hb.add(p);
  await beatAt(1000);
  await beatAt(1900);
  assert.equal(p.deaths, 1);
  assert.equal(hb.lateRounds, 0);
  hb.stop();
});

test(`a round's pings go out ${PING_SLICE} a turn of the event loop, each peer pinged once; a peer removed meanwhile is not`, async () => {
  const { hb, beatAt } = rig();
  const peers = Array.from({ length: PING_SLICE * 3 + 5 }, () => new Peer());
  for (const p of peers) hb.add(p);
  const removed = peers[PING_SLICE * 2 + 1] as Peer;
  await beatAt(1000);
  assert.equal(peers.filter((p) => p.pings === 1).length, PING_SLICE, 'one slice with the judgement');
  await turn();
  assert.equal(peers.filter((p) => p.pings === 1).length, PING_SLICE * 2, 'the next in the next turn');
  hb.remove(removed);
  for (let i = 0; i < 4; i++) await turn();
  assert.equal(removed.pings, 0);
  assert.deepEqual(peers.filter((p) => p !== removed).map((p) => p.pings), peers.slice(1).map(() => 1));
  for (const p of peers) hb.alive(p);
  await beatAt(2000);
  for (let i = 0; i < 4; i++) await turn();
  assert.equal(peers.filter((p) => p !== removed && p.pings === 2).length, peers.length - 1);
  assert.equal(peers.filter((p) => p.deaths > 0).length, 0);
  hb.stop();
});

test('a beat that comes while the last round\'s pings are still going out sends them and judges nobody', async () => {
  const { hb, beatAt, late } = rig();
  const peers = Array.from({ length: PING_SLICE * 4 }, () => new Peer());
  for (const p of peers) hb.add(p);
  await beatAt(1000);
  // The next beat's judgement runs after the second slice, with two more to go: the peers of
  // those had no interval to answer in.
  await beatAt(2000);
  assert.equal(peers.filter((p) => p.deaths > 0).length, 0);
  assert.equal(late.length, 1);
  assert.ok(peers.every((p) => p.pings >= 1), 'every peer pinged');
  for (let i = 0; i < 6; i++) await turn();
  // A full round on time judges them: nobody answered.
  await beatAt(3000);
  assert.equal(peers.filter((p) => p.deaths === 1).length, peers.length);
  hb.stop();
});

// On node:test's mock clock: the heartbeat's own timers (the beat and the stall probe) fire as the
// test moves time, so each bound below is pinned to the millisecond. Real immediates stay real:
// a judgement runs in the loop turn after its beat, as it does in the server.

const I = 1000;

/** The beat at which §2.6 drops a silent peer last heard at `heardAt` (beats at I, 2I, ...): the second one after it. */
function droppedAtBeat(heardAt: number): number {
  return (Math.floor(heardAt / I) + 2) * I;
}

/** A peer that answers each ping `answerMs` later (a pong), or never once `answerMs` is undefined. */
class ClockPeer implements HeartbeatTarget {
  readonly pingedAt: number[] = [];
  readonly deadAt: number[] = [];
  /** A connection counts as heard when it is added. */
  heardAt = Date.now();
  constructor(private readonly hb: Heartbeat, public answerMs?: number) {
    hb.add(this);
  }
  ping(): void {
    this.pingedAt.push(Date.now());
    const ms = this.answerMs;
    if (ms !== undefined) setTimeout(() => this.heard(), ms);
  }
  /** A pong or any frame reached the server. */
  heard(): void {
    this.heardAt = Date.now();
    this.hb.alive(this);
  }
  dead(): void {
    this.deadAt.push(Date.now());
  }
}

function onMockClock(t: TestContext) {
  t.mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: 0 });
  const late: number[] = [];
  const hb = new Heartbeat(I, { now: () => Date.now(), onLateRound: (ms) => late.push(ms) });
  hb.start();
  t.after(() => hb.stop());
  return {
    hb,
    late,
    /**
     * Time passes with the server free: every timer fires on time, every judgement in the turn
     * after its beat. One millisecond a step: a mock timer sees the clock at the end of the step
     * that fired it.
     */
    async runTo(to: number): Promise<void> {
      while (Date.now() < to) {
        t.mock.timers.tick(1);
        await turn();
      }
    },
    /** The server holds its event loop for `ms`: every timer due meanwhile fires at the end, in one turn. */
    async hold(ms: number): Promise<void> {
      t.mock.timers.tick(ms);
      await turn();
    },
  };
}

/**
 * Not dropped a millisecond before `at`, dropped at `at`, and within §2.6's "between one and two
 * heartbeatMs after it was last heard from" (`since`: when a skipped round started afresh).
 */
async function assertDroppedAt(clock: ReturnType<typeof onMockClock>, p: ClockPeer, at: number, what: string, since = p.heardAt): Promise<void> {
  await clock.runTo(at - 1);
  assert.deepEqual(p.deadAt, [], `${what}: dropped before ${at} (at ${p.deadAt.join(', ')})`);
  await clock.runTo(at);
  assert.deepEqual(p.deadAt, [at], `${what}: not dropped at ${at}`);
  const silentFor = at - Math.max(since, p.heardAt);
  assert.ok(silentFor >= I && silentFor <= 2 * I, `${what}: dropped ${silentFor} ms after it was last heard`);
}

test('mock clock: a silent peer is dropped at the second beat after it was last heard, not a beat earlier or later', async (t) => {
  const clock = onMockClock(t);
  // All answer the pings of beats 1 and 2 (at 1010 and 2010), then go quiet at 2500; some send one
  // last frame, at 2999 (before beat 3) or just after beat 3, or answer beat 3's ping.
  const quietAfter2010 = new ClockPeer(clock.hb, 10);
  const frameAt2999 = new ClockPeer(clock.hb, 10);
  const frameAt3001 = new ClockPeer(clock.hb, 10);
  const frameAt3999 = new ClockPeer(clock.hb, 10);
  const pongAt3010 = new ClockPeer(clock.hb, 10);
  await clock.runTo(2500);
  for (const p of [quietAfter2010, frameAt2999, frameAt3001, frameAt3999]) p.answerMs = undefined;
  setTimeout(() => frameAt2999.heard(), 499);
  setTimeout(() => frameAt3001.heard(), 501);
  setTimeout(() => frameAt3999.heard(), 1499);
  await clock.runTo(3500);
  pongAt3010.answerMs = undefined;
  assert.deepEqual([quietAfter2010, frameAt2999, frameAt3001, pongAt3010].map((p) => p.heardAt), [2010, 2999, 3001, 3010]);

  // Heard before beat 3's ping: dropped at beat 4. Heard after it: beat 4 sees that, so beat 5.
  assert.equal(droppedAtBeat(2999), 4000);
  assert.equal(droppedAtBeat(3001), 5000);
  await assertDroppedAt(clock, quietAfter2010, 4000, 'last heard at 2010');
  assert.deepEqual(frameAt2999.deadAt, [4000], 'last heard at 2999');
  assert.deepEqual([frameAt3001, frameAt3999, pongAt3010].map((p) => p.deadAt.length), [0, 0, 0]);
  assert.equal(frameAt3999.heardAt, 3999);
  await assertDroppedAt(clock, frameAt3001, 5000, 'last heard at 3001');
  assert.deepEqual([frameAt3999, pongAt3010].map((p) => p.deadAt), [[5000], [5000]]);

  // Dropped once, and never pinged again.
  await clock.runTo(8000);
  assert.deepEqual(quietAfter2010.deadAt, [4000]);
  assert.deepEqual(quietAfter2010.pingedAt, [1000, 2000, 3000]);
  assert.deepEqual(frameAt3999.pingedAt, [1000, 2000, 3000, 4000]);
  assert.equal(clock.hb.lateRounds, 0);
});

test('mock clock: a peer that answers within the interval is never dropped; an answer 1 ms later than that is', async (t) => {
  const clock = onMockClock(t);
  // 1000: the pong arrives in the same loop turn as the next beat, and is read before it judges.
  const answering = [1, 500, 999, 1000].map((ms) => new ClockPeer(clock.hb, ms));
  const tooLate = new ClockPeer(clock.hb, 1001);
  // Beat 1 finds it heard (it connected at 0); its answer to that ping comes at 2001, after beat 2.
  await assertDroppedAt(clock, tooLate, 2000, 'answers 1001 ms after each ping');
  await clock.runTo(30 * I);
  for (const p of answering) {
    assert.deepEqual(p.deadAt, [], 'an answering peer was dropped');
    assert.equal(p.pingedAt.length, 30);
  }
  assert.equal(clock.hb.lateRounds, 0);
});

test('mock clock: a round in which the server was held judges nobody; the next round judges as usual', async (t) => {
  const clock = onMockClock(t);
  const silent = new ClockPeer(clock.hb);
  const answering = new ClockPeer(clock.hb, 100);
  await clock.runTo(1200);
  assert.deepEqual(silent.pingedAt, [1000]);
  // Held from 1200 to 6000: beats 2 to 6 fire late, together, with the silent peer's ping
  // unanswered for five intervals. The server heard nobody meanwhile, so it judges nobody.
  await clock.hold(4800);
  assert.equal(Date.now(), 6000);
  assert.deepEqual(silent.deadAt, [], 'dropped on a round the server was not listening');
  assert.equal(clock.hb.lateRounds, 1);
  assert.equal(clock.late.length, 1);
  assert.ok(Math.abs((clock.late[0] ?? 0) - 4800) <= 50, `the stall was measured as ${clock.late[0]} ms`);
  // A fresh round: both pinged at 6000, and the silent one is judged at the next beat.
  assert.deepEqual(silent.pingedAt, [1000, 6000]);
  await assertDroppedAt(clock, silent, 7000, 'silent since it connected, the server held', 6000);
  await clock.runTo(12_000);
  assert.deepEqual(answering.deadAt, []);
  assert.equal(clock.hb.lateRounds, 1);
});

test('mock clock: a hold under a quarter of the interval is timer noise, and the round still judges', async (t) => {
  const clock = onMockClock(t);
  const silent = new ClockPeer(clock.hb);
  await clock.runTo(1500);
  await clock.hold(200);
  await assertDroppedAt(clock, silent, 2000, 'silent, the server held for 200 of 1000 ms');
  assert.equal(clock.hb.lateRounds, 0);
});

test('mock clock: a hold over a quarter of the interval skips the round, and the next one judges', async (t) => {
  const clock = onMockClock(t);
  const silent = new ClockPeer(clock.hb);
  await clock.runTo(1500);
  // 300 ms, measured to within the probe's 25 ms: more than a quarter of the interval.
  await clock.hold(300);
  await clock.runTo(2000);
  assert.deepEqual(silent.deadAt, []);
  assert.equal(clock.hb.lateRounds, 1);
  await assertDroppedAt(clock, silent, 3000, 'silent, pinged again when the round was skipped', 2000);
});

test('mock clock: answering peers survive a long run of random answer delays and holds; a silent one is still dropped on time', async (t) => {
  const clock = onMockClock(t);
  // A fixed seed: the same run every time, and a failure can be replayed.
  let seed = 0x2545f491;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  class Jittery extends ClockPeer {
    override ping(): void {
      this.answerMs = 1 + Math.floor(random() * I);
      super.ping();
    }
  }
  const answering = [new Jittery(clock.hb), new Jittery(clock.hb), new ClockPeer(clock.hb, I)];
  for (let round = 1; round <= 60; round++) {
    if (random() < 0.3) {
      // Held from somewhere in this round to a beat 0 to 3 rounds on (a held server's interval
      // resumes from when it ran, so holds ending on a beat keep the mock's timer in phase with Node's).
      await clock.runTo(round * I - I + 1 + Math.floor(random() * (I - 1)));
      await clock.hold((round + Math.floor(random() * 4)) * I - Date.now());
      round = Date.now() / I;
    } else {
      await clock.runTo(round * I);
    }
  }
  for (const p of answering) assert.deepEqual(p.deadAt, [], 'an answering peer was dropped');
  assert.ok(clock.hb.lateRounds > 5, `only ${clock.hb.lateRounds} held rounds`);
  const last = Date.now();
  await clock.runTo(last + 1);
  const silent = new ClockPeer(clock.hb);
  await assertDroppedAt(clock, silent, droppedAtBeat(last + 1), 'silent, added after the holds');
  for (const p of answering) assert.deepEqual(p.deadAt, []);
});
