import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDpnsError } from '@dpns/protocol';
import { createLogger } from '@dpns/node-kit';
import { LogTail } from './log-tail.js';
import type { PeerLink } from './peer-link.js';
import { Replicator } from './replicator.js';
import type { ReplicationMode } from './cluster-config.js';

/** A frame the primary sent, with the members the tests look at. */
interface Sent {
  t: string;
  epoch?: number;
  recs?: { i: number }[];
  index?: number;
  data?: string;
  last?: boolean;
  lastIndex?: number;
}

/** Stands in for a backup's link: records what the primary sends, and whether it cut the link. */
interface FakeLink {
  sent: Sent[];
  /** The lease round of each tick, in order (kept out of `sent`, which the older tests compare whole). */
  rounds: number[];
  /** The index of each tick without a round, which ends a catch-up (kept out of `sent` too). */
  caughtUpTo: number[];
  cutBecause: string | undefined;
  link: PeerLink;
}

function fakeLink(): FakeLink {
  const f: FakeLink = { sent: [], rounds: [], caughtUpTo: [], cutBecause: undefined, link: undefined as unknown as PeerLink };
  f.link = {
    open: true,
    send(m: Sent & { seq?: number }) {
      const { seq, ...rest } = m;
      if (m.t === 'tick' && seq === undefined) return void f.caughtUpTo.push(m.lastIndex as number);
      if (seq !== undefined) f.rounds.push(seq);
      f.sent.push(rest);
    },
    close(why: string) {
      f.cutBecause = why;
    },
  } as unknown as PeerLink;
  return f;
}

interface RigOptions {
  /** Records the tail holds (1..records, epoch 1). */
  records?: number;
  capacity?: number;
  /** Stands in for serialising the state; by default the tail's end at once, as '{}'. */
  snapshot?: (tail: LogTail) => Promise<{ index: number; json: string }>;
}

function rig(mode: ReplicationMode, quorum = 2, opts: RigOptions = {}) {
  let now = 1000;
  let leases = 0;
  const tail = new LogTail(opts.capacity ?? 1000, 0, 0);
  for (let i = 1; i <= (opts.records ?? 10); i++) tail.push(i, { ops: [], ep: 1 });
  const dropped: [number, string][] = [];
  const snapshot = opts.snapshot ?? ((t: LogTail) => Promise.resolve({ index: t.lastIndex, json: '{}' }));
  const r = new Replicator({
    mode, quorum, epoch: 1, tail, snapshotJson: () => snapshot(tail), ackTimeoutMs: 500, windowMs: 600, onLease: () => leases++,
    log: createLogger({ level: 'silent', format: 'json' }), now: () => now, onDropped: (sid, why) => dropped.push([sid, why]),
  });
  const append = (i: number) => {
    const rec = { ops: [], ep: 1 };
    tail.push(i, rec);
    r.push(i, rec);
  };
  return { r, tail, append, dropped, advance: (ms: number) => (now += ms), leases: () => leases };
}

const settled = async (p: Promise<void>): Promise<string> => {
  let state = 'pending';
  p.then(() => (state = 'resolved'), (e: Error) => (state = `rejected: ${e.message}`));
  await new Promise((res) => setImmediate(res));
  await new Promise((res) => setImmediate(res));
  return state;
};

test('sync: a write commits only once every backup in the star has stored it', async () => {
  const { r, append } = rig('sync');
  const b1 = fakeLink();
  const b2 = fakeLink();
  r.follow(1, b1.link, { lastIndex: 10, lastEpoch: 1 });
  r.follow(2, b2.link, { lastIndex: 10, lastEpoch: 1 });
  append(11);
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(b1.sent.at(-1)?.recs?.map((x) => x.i), [11], 'streamed to each backup');
  r.localDurableAt(11);
  const w = r.waitCommitted(11);
  assert.equal(await settled(w), 'pending');
  r.ack(1, { t: 'ack', index: 11 });
  assert.equal(await settled(w), 'pending', 'a majority has it, but backup 2 is in the star too');
  r.ack(2, { t: 'ack', index: 11 });
  assert.equal(await settled(w), 'resolved');
});

test('sync: a backup that stops acknowledging is dropped from the star instead of stalling writes', async () => {
  const { r, append, advance } = rig('sync');
  const b1 = fakeLink();
  const b2 = fakeLink();
  r.follow(1, b1.link, { lastIndex: 10, lastEpoch: 1 });
  r.follow(2, b2.link, { lastIndex: 10, lastEpoch: 1 });
  append(11);
  await new Promise((res) => setImmediate(res));
  r.localDurableAt(11);
  const w = r.waitCommitted(11);
  r.ack(1, { t: 'ack', index: 11 });
  advance(400);
  r.tick();
  assert.equal(await settled(w), 'pending', 'not yet past the ack timeout');
  assert.equal(b2.cutBecause, undefined);
  advance(200);
  r.tick();
  assert.match(b2.cutBecause ?? '', /dropped from the star/);
  assert.equal(await settled(w), 'resolved', 'the primary and backup 1 are a majority');
});

test('sync: without a majority storing it, a write fails with NO_QUORUM in time', async () => {
  const { r, append, advance } = rig('sync');
  append(11);
  r.localDurableAt(11);
  const w = r.waitCommitted(11);
  assert.equal(await settled(w), 'pending');
  advance(1100);
  r.tick();
  assert.match(await settled(w), /rejected: the write was not stored on a majority/);
});

test('async: a write commits once it is on the primary\'s own disk', async () => {
  const { r, append } = rig('async');
  r.follow(1, fakeLink().link, { lastIndex: 10, lastEpoch: 1 });
  append(11);
  r.localDurableAt(11);
  assert.equal(await settled(r.waitCommitted(11)), 'resolved');
});

test('a backup whose log went another way, or is older than the tail, gets a snapshot, then the records after it', async () => {
  const { r, append } = rig('sync');
  const diverged = fakeLink();
  r.follow(1, diverged.link, { lastIndex: 10, lastEpoch: 0 });
  // Appended while the snapshot is being serialised: sent after it, not before.
  append(11);
  await new Promise((res) => setImmediate(res));
  assert.deepEqual(diverged.sent.map((m) => m.t), ['snap', 'append']);
  assert.deepEqual(diverged.sent[1]?.recs?.map((x) => x.i), [11]);
  assert.deepEqual(diverged.caughtUpTo, [11], 'then a tick says how far the stream goes: the backup serves reads once there');
  const ahead = fakeLink();
  r.follow(2, ahead.link, { lastIndex: 12, lastEpoch: 1 });
  await new Promise((res) => setImmediate(res));
  assert.equal(ahead.sent[0]?.t, 'snap');
  const behind = fakeLink();
  r.follow(1, behind.link, { lastIndex: 7, lastEpoch: 1 });
  assert.equal(behind.sent[0]?.t, 'append');
  assert.deepEqual(behind.sent[0]?.recs?.map((x) => x.i), [8, 9, 10, 11]);
  assert.deepEqual(behind.caughtUpTo, [11]);
});

test('stepping down fails every waiting write with NOT_PRIMARY', async () => {
  const { r, append } = rig('sync');
  r.follow(1, fakeLink().link, { lastIndex: 10, lastEpoch: 1 });
  append(11);
  r.localDurableAt(11);
  const w = r.waitCommitted(11);
  r.close('stepped down');
  assert.match(await settled(w), /stopped being the primary/);
});

const turn = () => new Promise((res) => setImmediate(res));

/** A promise and the hands that settle it, for a snapshot that takes a while to make. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const MiB = 1024 * 1024;

/** A backup that follows at the head of the rig's log (index 10, epoch 1). */
function atHead(r: Replicator, sid = 1): FakeLink {
  const b = fakeLink();
  r.follow(sid, b.link, { lastIndex: 10, lastEpoch: 1 });
  return b;
}

/** A backup whose log went another way (index 10, epoch 0): it gets a snapshot. */
function diverged(r: Replicator): FakeLink {
  const b = fakeLink();
  r.follow(1, b.link, { lastIndex: 10, lastEpoch: 0 });
  return b;
}

test('a new primary has committed what its log holds; a backup already up to date is sent nothing and is in the star', async () => {
  const { r } = rig('sync');
  assert.equal(r.committed, 10);
  assert.equal(await settled(r.waitCommitted(10)), 'resolved');
  const b = atHead(r);
  assert.deepEqual([...r.status()], [[1, { matchIndex: 10, inStar: true }]]);
  assert.deepEqual(b.sent, []);
  assert.deepEqual(b.caughtUpTo, [10], 'but a tick, so that it knows it has caught up');
});

test('a backup behind catches up from the log in frames of at most 2000 records, and joins the star at the head it joined at', () => {
  const { r } = rig('sync', 2, { records: 4500, capacity: 5000 });
  const b = fakeLink();
  r.follow(1, b.link, { lastIndex: 0, lastEpoch: 0 });
  assert.deepEqual(b.sent.map((m) => [m.t, m.epoch, m.recs?.length, m.recs?.[0]?.i]), [['append', 1, 2000, 1], ['append', 1, 2000, 2001], ['append', 1, 500, 4001]]);
  assert.deepEqual(r.status().get(1), { matchIndex: 0, inStar: false });
  r.ack(1, { t: 'ack', index: 4499 });
  assert.deepEqual(r.status().get(1), { matchIndex: 4499, inStar: false }, 'one short of the head it joined at');
  r.ack(1, { t: 'ack', index: 4500 });
  assert.deepEqual(r.status().get(1), { matchIndex: 4500, inStar: true });
});

test('sync: a backup still catching up from a snapshot holds no write up, gets no live record before its snapshot, and every one after', async () => {
  const snap = deferred<{ index: number; json: string }>();
  const { r, append } = rig('sync', 2, { snapshot: () => snap.promise });
  const slow = fakeLink();
  r.follow(2, slow.link, { lastIndex: 3, lastEpoch: 9 });
  atHead(r);
  append(11);
  await turn();
  assert.equal(slow.sent.length, 0, 'its snapshot is still being made');
  r.localDurableAt(11);
  const w = r.waitCommitted(11);
  r.ack(1, { t: 'ack', index: 11 });
  assert.equal(await settled(w), 'resolved', 'this server and backup 1 are a majority; backup 2 is not in the star');
  assert.equal(r.committed, 11);
  assert.deepEqual(r.status().get(2), { matchIndex: 0, inStar: false });

  snap.resolve({ index: 10, json: '{}' });
  await turn();
  assert.deepEqual(slow.sent.map((m) => [m.t, m.index ?? m.recs?.map((x) => x.i)]), [['snap', 10], ['append', [11]]]);
  append(12);
  await turn();
  assert.deepEqual(slow.sent.at(-1)?.recs?.map((x) => x.i), [12]);
  assert.deepEqual(r.status().get(2), { matchIndex: 0, inStar: false });
  r.ack(2, { t: 'ack', index: 12 });
  assert.deepEqual(r.status().get(2), { matchIndex: 12, inStar: true });
});

test('records a backup got with its catch-up are not sent again with the batch of the same turn', async () => {
  const { r, append } = rig('sync');
  const b1 = atHead(r);
  append(11);
  const b2 = atHead(r, 2);
  append(12);
  await turn();
  assert.deepEqual(b1.sent.map((m) => m.recs?.map((x) => x.i)), [[11, 12]]);
  assert.deepEqual(b2.sent.map((m) => m.recs?.map((x) => x.i)), [[11], [12]]);
  assert.ok(b2.sent.every((m) => m.t === 'append' && m.epoch === 1));
});

test('records appended in one turn go in one frame; each turn\'s reach the backups', async () => {
  const { r, append } = rig('sync');
  const b = atHead(r);
  append(11);
  append(12);
  await turn();
  append(13);
  await turn();
  assert.deepEqual(b.sent.map((m) => [m.t, m.epoch, m.recs?.map((x) => x.i)]), [['append', 1, [11, 12]], ['append', 1, [13]]]);
});

test('a snapshot goes in chunks of 1 MiB, the last one marked, with nothing after it when nothing followed it', async () => {
  for (const [size, chunks] of [[2 * MiB + 1, 3], [MiB, 1], [2, 1], [0, 1]] as const) {
    const json = 'x'.repeat(size);
    const { r } = rig('sync', 2, { snapshot: (t) => Promise.resolve({ index: t.lastIndex, json }) });
    const b = diverged(r);
    await turn();
    assert.deepEqual(b.sent.map((m) => m.t), Array.from({ length: chunks }, () => 'snap'), `${size} characters`);
    assert.equal(b.sent.map((m) => m.data).join(''), json);
    assert.deepEqual(b.sent.map((m) => m.last), Array.from({ length: chunks }, (_, k) => k === chunks - 1));
    assert.ok(b.sent.every((m) => m.index === 10 && m.epoch === 1));
  }
});

test('a snapshot that cannot be made, or that the log outran, cuts the link so the backup follows again', async () => {
  const failing = rig('sync', 2, { snapshot: () => Promise.reject(new Error('out of memory')) });
  const b = diverged(failing.r);
  await turn();
  assert.equal(b.cutBecause, 'no snapshot could be made');
  assert.deepEqual(b.sent, []);

  const snap = deferred<{ index: number; json: string }>();
  const outrun = rig('sync', 2, { records: 4, capacity: 4, snapshot: () => snap.promise });
  const c = fakeLink();
  outrun.r.follow(1, c.link, { lastIndex: 4, lastEpoch: 0 });
  for (let i = 5; i <= 12; i++) outrun.append(i);
  snap.resolve({ index: 4, json: '{}' });
  await turn();
  assert.equal(c.cutBecause, 'the log moved on while a snapshot was made; follow again');
});

test('a snapshot is not sent on a link the backup replaced, nor by a primary that stepped down', async () => {
  const snap = deferred<{ index: number; json: string }>();
  const { r } = rig('sync', 2, { snapshot: () => snap.promise });
  const old = diverged(r);
  atHead(r);
  assert.equal(old.cutBecause, 'the backup followed again on a new link');
  snap.resolve({ index: 10, json: '{}' });
  await turn();
  assert.deepEqual(old.sent, []);

  const later = deferred<{ index: number; json: string }>();
  const down = rig('sync', 2, { snapshot: () => later.promise });
  const b = diverged(down.r);
  down.r.close('stepped down');
  later.resolve({ index: 10, json: '{}' });
  await turn();
  assert.deepEqual(b.sent, []);
  assert.equal(b.cutBecause, 'stepped down');
});

test('after stepping down nothing is followed or sent, and every write fails with NOT_PRIMARY', async () => {
  const { r, append } = rig('sync');
  r.close('stepped down');
  r.close('twice is safe');
  const b = atHead(r);
  append(11);
  await turn();
  assert.deepEqual(b.sent, []);
  assert.deepEqual([...r.status()], []);
  await assert.rejects(r.waitCommitted(11), (e: unknown) => isDpnsError(e, 'NOT_PRIMARY') && e.details?.role === 'candidate');
});

test('acknowledgements: from a stranger, not an index, stale or beyond what was sent, none moves a backup on wrongly', async () => {
  const { r, append } = rig('sync');
  atHead(r);
  append(11);
  await turn();
  r.localDurableAt(11);
  r.ack(7, { t: 'ack', index: 11 });
  r.ack(1, { t: 'ack', index: Number.NaN });
  r.ack(1, { t: 'ack', index: 10.5 });
  assert.deepEqual(r.status().get(1), { matchIndex: 10, inStar: true });
  r.ack(1, { t: 'ack', index: 99 });
  assert.deepEqual(r.status().get(1), { matchIndex: 11, inStar: true }, 'no more than it was sent');
  r.ack(1, { t: 'ack', index: 10 });
  assert.equal(r.status().get(1)?.matchIndex, 11, 'a stale ack takes nothing back');
  assert.equal(r.committed, 11);
});

test('sync: the ack clock runs from when records go out to a backup that had acknowledged everything; an idle backup is never dropped', async () => {
  const { r, append, advance, dropped } = rig('sync');
  const b = atHead(r);
  advance(10_000);
  r.tick();
  assert.equal(b.cutBecause, undefined, 'nothing outstanding');
  assert.deepEqual(b.sent.at(-1), { t: 'tick', epoch: 1, lastIndex: 10 });
  append(11);
  await turn();
  advance(500);
  r.tick();
  assert.equal(b.cutBecause, undefined, 'exactly the limit: not yet');
  advance(1);
  r.tick();
  assert.equal(b.cutBecause, 'dropped from the star: no acknowledgement for 501 ms (limit 500 ms)');
  assert.deepEqual(dropped, [[1, 'no acknowledgement for 501 ms (limit 500 ms)']]);
  assert.deepEqual([...r.status()], []);
});

/** A backup in the star sent record 11, and `gap` ms later record 12, neither acknowledged yet. */
async function sentTwo(gap: number) {
  const x = rig('sync');
  const b = atHead(x.r);
  x.append(11);
  await turn();
  x.advance(gap);
  x.append(12);
  await turn();
  return { ...x, b };
}

test('sync: more records do not restart the ack clock of a backup that is behind; a partial ack does, a repeated one does not', async () => {
  const one = await sentTwo(300);
  one.advance(201);
  one.r.tick();
  assert.match(one.b.cutBecause ?? '', /no acknowledgement for 501 ms/);

  const two = await sentTwo(100);
  two.advance(100);
  two.r.ack(1, { t: 'ack', index: 11 });
  two.advance(400);
  two.r.tick();
  assert.equal(two.b.cutBecause, undefined, '400 ms since the partial ack');
  two.advance(100);
  two.r.ack(1, { t: 'ack', index: 11 });
  two.advance(1);
  two.r.tick();
  assert.match(two.b.cutBecause ?? '', /no acknowledgement for 501 ms/);
});

test('a backup catching up is never dropped for being slow: only one in the star holds writes up', async () => {
  const snap = deferred<{ index: number; json: string }>();
  const { r, append, advance } = rig('sync', 2, { snapshot: () => snap.promise });
  const b = diverged(r);
  advance(10_000);
  r.tick();
  snap.resolve({ index: 10, json: '{}' });
  await turn();
  append(11);
  await turn();
  advance(10_000);
  r.tick();
  assert.equal(b.cutBecause, undefined);
  assert.deepEqual(b.sent.at(-1), { t: 'tick', epoch: 1, lastIndex: 11 });
});

test('a write not committed by its deadline (twice the ack timeout) fails with NO_QUORUM, at the deadline exactly', async () => {
  const { r, append, advance } = rig('sync');
  append(11);
  r.localDurableAt(11);
  const w = r.waitCommitted(11);
  advance(999);
  r.tick();
  assert.equal(await settled(w), 'pending');
  advance(1);
  r.tick();
  await assert.rejects(w, (e: unknown) => isDpnsError(e, 'NO_QUORUM'));
});

test('a waiter resolves when its own index commits, not before; a late durability report takes nothing back', async () => {
  const { r, append } = rig('sync');
  atHead(r);
  append(11);
  append(12);
  await turn();
  const w11 = r.waitCommitted(11);
  const w12 = r.waitCommitted(12);
  r.localDurableAt(12);
  r.localDurableAt(11);
  r.ack(1, { t: 'ack', index: 11 });
  assert.equal(await settled(w11), 'resolved');
  assert.equal(await settled(w12), 'pending');
  r.ack(1, { t: 'ack', index: 12 });
  assert.equal(await settled(w12), 'resolved');
  assert.equal(r.committed, 12);
});

test('a backup leaves when the link it followed on closes, not an older one; what was committed stays committed', async () => {
  const { r, append } = rig('sync');
  const b1 = atHead(r);
  const b2 = atHead(r, 2);
  append(11);
  await turn();
  r.localDurableAt(11);
  r.ack(1, { t: 'ack', index: 11 });
  r.ack(2, { t: 'ack', index: 11 });
  assert.equal(r.committed, 11);
  const again = fakeLink();
  r.follow(1, again.link, { lastIndex: 11, lastEpoch: 1 });
  r.unlink(1, b1.link);
  r.unlink(9, b1.link);
  assert.deepEqual([...r.status().keys()].sort(), [1, 2]);
  r.unlink(1, again.link);
  r.unlink(2, b2.link);
  assert.deepEqual([...r.status()], []);
  assert.equal(r.committed, 11);
  append(12);
  r.localDurableAt(12);
  assert.equal(await settled(r.waitCommitted(12)), 'pending', 'alone, this server is no majority of three');
});

test('records appended while a snapshot was made follow it in frames of at most 2000', async () => {
  const snap = deferred<{ index: number; json: string }>();
  const { r, append } = rig('sync', 2, { capacity: 5000, snapshot: () => snap.promise });
  const b = diverged(r);
  for (let i = 11; i <= 2510; i++) append(i);
  snap.resolve({ index: 10, json: '{}' });
  await turn();
  assert.deepEqual(b.sent.map((m) => [m.t, m.recs?.length, m.recs?.[0]?.i]), [['snap', undefined, undefined], ['append', 2000, 11], ['append', 500, 2011]]);
});

test('read lease: earned when a backup echoes a round, from that round\'s send time, not the echo\'s arrival', () => {
  const { r, advance, leases } = rig('sync', 2);
  const b1 = fakeLink();
  const b2 = fakeLink();
  r.follow(1, b1.link, { lastIndex: 10, lastEpoch: 1 });
  r.follow(2, b2.link, { lastIndex: 10, lastEpoch: 1 });
  assert.equal(r.leaseUntil, Number.NEGATIVE_INFINITY, 'no lease before any echo');
  r.tick(); // round sent at 1000
  const seq = b1.rounds.at(-1) as number;
  assert.equal(b2.rounds.at(-1), seq, 'one round goes to every backup');
  advance(100);
  r.ack(1, { t: 'ack', index: 10, seq });
  assert.equal(r.leaseUntil, 1000 + 600 * 0.8, 'runs from the send time');
  assert.equal(leases(), 1);
  r.ack(2, { t: 'ack', index: 10, seq });
  assert.equal(leases(), 1, 'an echo that does not extend the lease is no news');
});

test('read lease: echoes that arrive after a pause carry old rounds and earn nothing', () => {
  const { r, advance } = rig('sync', 2);
  const b1 = fakeLink();
  r.follow(1, b1.link, { lastIndex: 10, lastEpoch: 1 });
  r.tick();
  const seq = b1.rounds.at(-1) as number;
  advance(6000); // stopped; the echo waited in the socket all along
  r.ack(1, { t: 'ack', index: 10, seq });
  assert.ok(r.leaseUntil <= 7000, `lease ends at ${r.leaseUntil}, before now (7000)`);
});

test('read lease: a 5-member cluster needs two backups; a backup that leaves takes its echoes with it', () => {
  const { r, advance } = rig('sync', 3);
  const links = [1, 2, 3, 4].map(() => fakeLink());
  links.forEach((l, k) => r.follow(k + 1, l.link, { lastIndex: 10, lastEpoch: 1 }));
  r.tick(); // round at 1000
  const first = links[0]?.rounds.at(-1) as number;
  advance(150);
  r.tick(); // round at 1150
  const second = links[0]?.rounds.at(-1) as number;
  r.ack(1, { t: 'ack', index: 10, seq: second });
  assert.equal(r.leaseUntil, Number.NEGATIVE_INFINITY, 'one backup and the primary are not three');
  r.ack(2, { t: 'ack', index: 10, seq: first });
  assert.equal(r.leaseUntil, 1000 + 480, 'the second newest echo counts');
  r.unlink(1, (links[0] as FakeLink).link);
  assert.equal(r.leaseUntil, Number.NEGATIVE_INFINITY, 'backup 1 may vote for another now');
  r.follow(2, fakeLink().link, { lastIndex: 10, lastEpoch: 1 });
  r.ack(3, { t: 'ack', index: 10, seq: second });
  assert.equal(r.leaseUntil, Number.NEGATIVE_INFINITY, 'backup 2 followed again on a new link: its old echo is void');
});

test('read lease: renewLease sends a round at once; rounds never sent, or long forgotten, earn nothing', () => {
  const { r, advance } = rig('sync', 2);
  const b1 = fakeLink();
  r.follow(1, b1.link, { lastIndex: 10, lastEpoch: 1 });
  r.ack(1, { t: 'ack', index: 10, seq: 1 });
  assert.equal(r.leaseUntil, Number.NEGATIVE_INFINITY, 'round 1 was never sent');
  r.renewLease();
  assert.deepEqual(b1.sent.at(-1), { t: 'tick', epoch: 1, lastIndex: 10 });
  const old = b1.rounds.at(-1) as number;
  for (let k = 0; k < 70; k++) {
    advance(150);
    r.tick();
  }
  r.ack(1, { t: 'ack', index: 10, seq: old });
  assert.equal(r.leaseUntil, Number.NEGATIVE_INFINITY);
  r.ack(1, { t: 'ack', index: 10, seq: b1.rounds.at(-1) as number });
  assert.equal(r.leaseUntil, 1000 + 70 * 150 + 480);
  r.close('stepped down');
  assert.equal(r.leaseUntil, Number.NEGATIVE_INFINITY, 'a closed replicator holds no lease');
});

test('read lease: a stand-alone primary (quorum 1) holds it from the start', () => {
  const { r } = rig('sync', 1);
  assert.equal(r.leaseUntil, Number.POSITIVE_INFINITY);
});
