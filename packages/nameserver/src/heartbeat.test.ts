import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { Heartbeat, type HeartbeatTarget } from './heartbeat.js';

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
  hb.beat();
  hb.alive(p);
  await turn();
  assert.equal(p.deaths, 0);
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
