import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@dpns/node-kit';
import { LogTail } from './log-tail.js';
import type { PeerLink } from './peer-link.js';
import { Replicator } from './replicator.js';
import type { ReplicationMode } from './cluster-config.js';

/** Stands in for a backup's link: records what the primary sends, and whether it cut the link. */
interface FakeLink {
  sent: { t: string; recs?: { i: number }[] }[];
  cutBecause: string | undefined;
  link: PeerLink;
}

function fakeLink(): FakeLink {
  const f: FakeLink = { sent: [], cutBecause: undefined, link: undefined as unknown as PeerLink };
  f.link = {
    open: true,
    send(m: { t: string; recs?: { i: number }[] }) {
      f.sent.push(m);
    },
    close(why: string) {
      f.cutBecause = why;
    },
  } as unknown as PeerLink;
  return f;
}

function rig(mode: ReplicationMode, quorum = 2) {
  let now = 1000;
  const tail = new LogTail(1000, 0, 0);
  for (let i = 1; i <= 10; i++) tail.push(i, { ops: [], ep: 1 });
  const r = new Replicator({
    mode, quorum, epoch: 1, tail, snapshotJson: () => Promise.resolve({ index: tail.lastIndex, json: '{}' }), ackTimeoutMs: 500,
    log: createLogger({ level: 'silent', format: 'json' }), now: () => now, onDropped: () => undefined,
  });
  const append = (i: number) => {
    const rec = { ops: [], ep: 1 };
    tail.push(i, rec);
    r.push(i, rec);
  };
  return { r, tail, append, advance: (ms: number) => (now += ms) };
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
  const ahead = fakeLink();
  r.follow(2, ahead.link, { lastIndex: 12, lastEpoch: 1 });
  await new Promise((res) => setImmediate(res));
  assert.equal(ahead.sent[0]?.t, 'snap');
  const behind = fakeLink();
  r.follow(1, behind.link, { lastIndex: 7, lastEpoch: 1 });
  assert.equal(behind.sent[0]?.t, 'append');
  assert.deepEqual(behind.sent[0]?.recs?.map((x) => x.i), [8, 9, 10, 11]);
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
