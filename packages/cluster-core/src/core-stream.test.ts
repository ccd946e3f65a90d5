// The star from both ends, through `step`: the primary's read lease (from the send times of the
// rounds its backups echo), the deadline of a write no majority stored, a backup dropped for not
// acknowledging; a backup's echoes and its reads (only once caught up); and a member alone taking
// back records that never reached its disk. Carried over from the server's replicator, follower,
// lease-gate and log-tail tests when the server came to run on this core.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ClusterCore } from './core.js';
import { backupOf, config, core, HB, ofKind, primaryOfThree, sent, WINDOW } from './core.test.helper.js';
import { leaseSpanMs } from './read-lease.js';

/** The lease round sent among `fx`, if any. */
function roundOf(fx: ReturnType<ClusterCore['step']>): number | undefined {
  const m = sent(fx).find((x) => x.t === 'tick' && x.seq !== undefined);
  return m?.t === 'tick' ? m.seq : undefined;
}

/** Member 0 of three, primary with its epoch's first record committed on both backups. */
function settledPrimary(over: Parameters<typeof primaryOfThree>[0] = {}): { c: ClusterCore; t: number } {
  const { c, t } = primaryOfThree(over);
  c.step({ kind: 'durable', index: 1 }, t);
  c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 1 } }, t);
  c.step({ kind: 'message', from: 2, m: { t: 'ack', index: 1 } }, t);
  assert.equal(c.knownCommitted, 1);
  return { c, t };
}

test('read lease: it runs from the send time of the round a backup echoes, not from the echo\'s arrival', () => {
  const { c, t } = settledPrimary();
  const sentAt = t + 1;
  const seq = roundOf(c.step({ kind: 'tick' }, sentAt));
  assert.ok(seq !== undefined);
  // The echo arrives late (it waited in the socket); the lease still ends a lease span after the send.
  c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 1, seq } }, sentAt + 50);
  let fx = c.step({ kind: 'read', req: 1 }, sentAt + leaseSpanMs(WINDOW) - 1);
  assert.deepEqual(ofKind(fx, 'answer'), [{ kind: 'answer', req: 1, answer: { ok: true, index: 1 } }]);
  fx = c.step({ kind: 'read', req: 2 }, sentAt + leaseSpanMs(WINDOW));
  assert.deepEqual(ofKind(fx, 'answer'), [], 'the lease is over: the read waits for a new round');
  assert.notEqual(roundOf(fx), undefined);
});

test('read lease: echoes that arrive after a pause carry old rounds and earn nothing; a fresh round does', () => {
  const { c, t } = settledPrimary();
  const seq = roundOf(c.step({ kind: 'tick' }, t + 1));
  // Stopped for ten windows; both backups' echoes of that round waited in the socket all along.
  const resumed = t + 1 + WINDOW * 10;
  c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 1, seq } }, resumed);
  c.step({ kind: 'message', from: 2, m: { t: 'ack', index: 1, seq } }, resumed);
  const fx = c.step({ kind: 'read', req: 3 }, resumed);
  assert.deepEqual(ofKind(fx, 'answer'), [], 'no read answered from a lease that ran out while paused');
  const fresh = roundOf(fx);
  assert.ok(fresh !== undefined && fresh !== seq, 'a new round goes out at once');
  const after = c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 1, seq: fresh } }, resumed + 1);
  assert.deepEqual(ofKind(after, 'answer'), [{ kind: 'answer', req: 3, answer: { ok: true, index: 1 } }]);
});

test('read lease: rounds never sent earn nothing, and a backup that leaves takes its echoes with it', () => {
  const { c, t } = settledPrimary();
  c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 1, seq: 999 } }, t + 1);
  assert.deepEqual(ofKind(c.step({ kind: 'read', req: 4 }, t + 1), 'answer'), []);
  c.step({ kind: 'wake' }, t + 1 + HB);
  const seq = roundOf(c.step({ kind: 'tick' }, t + 2 + HB));
  c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 1, seq } }, t + 3 + HB);
  c.step({ kind: 'link-down', peer: 1 }, t + 4 + HB);
  assert.deepEqual(ofKind(c.step({ kind: 'read', req: 5 }, t + 4 + HB), 'answer'), [], 'backup 1 may vote for another now');
});

test('a write no majority stored by its deadline is refused NO_QUORUM, its outcome unknown', () => {
  const { c, t } = settledPrimary();
  c.step({ kind: 'write', req: 8, data: {} }, t + 1);
  // Both backups are heard (beats) but acknowledge nothing.
  let at = t + 1;
  let answers: ReturnType<ClusterCore['step']> = [];
  while (at <= t + 1 + WINDOW * 2 + HB && answers.length === 0) {
    at += HB;
    for (const from of [1, 2]) c.step({ kind: 'message', from, m: { t: 'beat', role: 'backup', epoch: 1, lastIndex: 1, lastEpoch: 1, primary: 0 } }, at);
    answers = ofKind(c.step({ kind: 'tick' }, at), 'answer');
  }
  assert.deepEqual(answers, [{ kind: 'answer', req: 8, answer: { ok: false, code: 'NO_QUORUM', outcome: 'unknown' } }]);
  assert.ok(at >= t + 1 + WINDOW * 2, `refused at ${at - t - 1} ms, before its deadline`);
});

test('sync: a backup in the star that stops acknowledging is dropped, its link closed, instead of stalling writes', () => {
  const { c, t } = settledPrimary();
  c.step({ kind: 'write', req: 9, data: {} }, t + 1);
  c.step({ kind: 'durable', index: 2 }, t + 1);
  c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 2 } }, t + 2);
  // Committed by the primary and backup 1 only once backup 2 no longer holds it up.
  let fx = c.step({ kind: 'tick' }, t + 3);
  assert.deepEqual(ofKind(fx, 'answer'), []);
  fx = c.step({ kind: 'message', from: 2, m: { t: 'beat', role: 'backup', epoch: 1, lastIndex: 1, lastEpoch: 1, primary: 0 } }, t + WINDOW + 10);
  fx = [...fx, ...c.step({ kind: 'tick' }, t + WINDOW + 10)];
  assert.deepEqual(ofKind(fx, 'close-link').map((e) => e.peer), [2]);
  assert.deepEqual(ofKind(fx, 'answer'), [{ kind: 'answer', req: 9, answer: { ok: true, index: 2 } }]);
});

/** Member 1 of three with reads from backups, following member 0 (primary of epoch 1, whose beat said its log ends at `head`). */
function following(head: number): { c: ClusterCore } {
  return { c: backupOf(1, 3, { head, links: [0], over: { readFromBackups: true } }) };
}

test('a backup echoes a lease round at once, repeating only an index it already acknowledged', () => {
  const { c } = following(1);
  let fx = c.step({ kind: 'message', from: 0, m: { t: 'tick', epoch: 1, lastIndex: 1, seq: 7 } }, 3);
  assert.deepEqual(sent(fx, 0), [{ t: 'ack', index: 0, seq: 7 }], 'nothing acknowledged yet: index 0, which no primary counts');
  c.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs: [{ i: 1, d: { ep: 1 } }] } }, 4);
  assert.deepEqual(sent(c.step({ kind: 'durable', index: 1 }, 5), 0), [{ t: 'ack', index: 1 }]);
  fx = c.step({ kind: 'message', from: 0, m: { t: 'tick', epoch: 1, lastIndex: 1, seq: 8 } }, 6);
  assert.deepEqual(sent(fx, 0), [{ t: 'ack', index: 1, seq: 8 }]);
  // A tick without a round gets no answer; one of another epoch breaks the stream off, unechoed.
  assert.deepEqual(sent(c.step({ kind: 'message', from: 0, m: { t: 'tick', epoch: 1, lastIndex: 1 } }, 7), 0), []);
  fx = c.step({ kind: 'message', from: 0, m: { t: 'tick', epoch: 2, lastIndex: 1, seq: 9 } }, 8);
  assert.deepEqual(sent(fx, 0), []);
  assert.deepEqual(ofKind(fx, 'close-link').map((e) => e.peer), [0]);
});

test('a backup serves reads only once it has stored what its primary held when it began following', () => {
  const { c } = following(3);
  const read = (req: number, at: number): boolean | undefined => ofKind(c.step({ kind: 'read', req }, at), 'answer')[0]?.answer.ok;
  assert.equal(read(1, 3), false, 'what it holds may be long out of date');
  c.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs: [{ i: 1, d: { ep: 1 } }, { i: 2, d: { ep: 1 } }] } }, 4);
  c.step({ kind: 'durable', index: 2 }, 5);
  c.step({ kind: 'message', from: 0, m: { t: 'tick', epoch: 1, lastIndex: 5, seq: 1 } }, 5);
  assert.equal(read(2, 6), false, 'short of 3: a later tick does not move the mark');
  c.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs: [{ i: 3, d: { ep: 1 } }] } }, 7);
  assert.equal(read(3, 7), false, 'record 3 is not on its disk yet');
  c.step({ kind: 'durable', index: 3 }, 8);
  assert.equal(read(4, 8), true);
  c.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs: [{ i: 4, d: { ep: 1 } }] } }, 9);
  assert.equal(read(5, 9), true, 'once caught up it lags only by what is in flight');
  assert.equal(read(6, 10 + WINDOW), false, 'nothing from the primary for a window: no more reads');
});

test('a member alone takes back records that never reached its disk; the next write takes their place', () => {
  const c = core(0, 1);
  c.step({ kind: 'start' }, 0);
  c.step({ kind: 'persisted' }, 1);
  c.step({ kind: 'durable', index: 1 }, 1);
  c.step({ kind: 'write', req: 7, data: { n: 'a' } }, 2);
  c.step({ kind: 'write', req: 8, data: { n: 'b' } }, 2);
  c.step({ kind: 'taken-back', from: 2 }, 3);
  assert.equal(c.log.lastIndex, 1);
  const fx = c.step({ kind: 'write', req: 9, data: { n: 'c' } }, 4);
  assert.deepEqual(ofKind(fx, 'store').map((e) => e.recs), [[{ i: 2, d: { n: 'c', ep: 1 } }]]);
  assert.deepEqual(ofKind(c.step({ kind: 'durable', index: 2 }, 5), 'answer'), [{ kind: 'answer', req: 9, answer: { ok: true, index: 2 } }]);
  // Records on disk, or a member with others that may hold them, cannot be taken back: it stops.
  assert.deepEqual(ofKind(c.step({ kind: 'taken-back', from: 2 }, 6), 'halt').length, 1);
  const { c: member, t } = primaryOfThree();
  member.step({ kind: 'write', req: 1, data: {} }, t);
  assert.equal(member.log.lastIndex, 2);
  assert.deepEqual(ofKind(member.step({ kind: 'taken-back', from: 2 }, t), 'halt').length, 1);
});

test('sync: a write commits only once every backup in the star has stored it; async: once on the primary\'s own disk', () => {
  const { c, t } = settledPrimary();
  c.step({ kind: 'write', req: 10, data: {} }, t + 1);
  c.step({ kind: 'durable', index: 2 }, t + 1);
  assert.deepEqual(ofKind(c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 2 } }, t + 2), 'answer'), [], 'backup 2 is in the star and has not stored it');
  assert.deepEqual(ofKind(c.step({ kind: 'message', from: 2, m: { t: 'ack', index: 2 } }, t + 3), 'answer'), [{ kind: 'answer', req: 10, answer: { ok: true, index: 2 } }]);
  const { c: a, t: at } = primaryOfThree({ replication: 'async' });
  a.step({ kind: 'write', req: 11, data: {} }, at);
  assert.deepEqual(ofKind(a.step({ kind: 'durable', index: 2 }, at + 1), 'answer'), [{ kind: 'answer', req: 11, answer: { ok: true, index: 2 } }]);
});

test('stepping down answers every waiting write NOT_PRIMARY, its outcome unknown', () => {
  const { c, t } = settledPrimary();
  c.step({ kind: 'write', req: 12, data: {} }, t + 1);
  const fx = c.step({ kind: 'message', from: 2, m: { t: 'beat', role: 'primary', epoch: 2, lastIndex: 1, lastEpoch: 1, primary: 2 } }, t + 2);
  assert.equal(c.role, 'candidate');
  assert.deepEqual(ofKind(fx, 'answer'), [{ kind: 'answer', req: 12, answer: { ok: false, code: 'NOT_PRIMARY', outcome: 'unknown' } }]);
});

test('a backup whose log went another way gets a snapshot, then the records after it, in order', () => {
  const { c, t } = settledPrimary();
  c.step({ kind: 'write', req: 13, data: {} }, t + 1);
  // Member 1 follows again holding record 1 of epoch 0 (a deposed primary's, never committed).
  let fx = c.step({ kind: 'message', from: 1, m: { t: 'follow', epoch: 1, lastIndex: 1, lastEpoch: 0 } }, t + 2);
  assert.deepEqual(ofKind(fx, 'make-snapshot'), [{ kind: 'make-snapshot', peer: 1 }]);
  assert.deepEqual(sent(fx, 1).filter((m) => m.t === 'append'), [], 'no live record before its snapshot');
  c.step({ kind: 'write', req: 14, data: {} }, t + 3);
  fx = c.step({ kind: 'snapshot-made', peer: 1, index: 1, data: '{}' }, t + 4);
  const frames = sent(fx, 1).map((m) => (m.t === 'snap' ? `snap ${m.index}` : m.t === 'append' ? `append ${m.recs.map((r) => r.i).join(',')}` : m.t));
  assert.deepEqual(frames, ['snap 1', 'append 2,3']);
});

test('a backup stores the records of every frame that came while its disk was busy in one go, in order', () => {
  const { c } = following(6);
  const rec = (i: number): { i: number; d: { ep: number } } => ({ i, d: { ep: 1 } });
  let fx = c.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs: [rec(1)] } }, 3);
  assert.deepEqual(ofKind(fx, 'store').map((e) => e.recs.map((r) => r.i)), [[1]], 'an idle disk takes the frame at once');
  for (const i of [2, 3, 4]) assert.deepEqual(ofKind(c.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs: [rec(i)] } }, 4), 'store'), [], 'the disk is busy');
  c.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs: [rec(4), rec(5)] } }, 4);
  fx = c.step({ kind: 'durable', index: 1 }, 5);
  assert.deepEqual(ofKind(fx, 'store').map((e) => e.recs.map((r) => r.i)), [[2, 3, 4, 5]], 'one write for the four frames, record 4 once');
  assert.deepEqual(sent(fx, 0).filter((m) => m.t === 'ack'), [{ t: 'ack', index: 1 }]);
  fx = c.step({ kind: 'durable', index: 5 }, 6);
  assert.deepEqual(sent(fx, 0).filter((m) => m.t === 'ack'), [{ t: 'ack', index: 5 }], 'acknowledged once, for the last');
  fx = c.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs: [rec(7)] } }, 7);
  assert.deepEqual(ofKind(fx, 'store'), [], 'a gap (6 missing) is not stored');
});

test('a backup that holds everything its primary had when it began following serves reads from the primary\'s next tick', () => {
  // Restarted with the primary's whole log on its disk: nothing more comes, but it has caught up.
  const c = new ClusterCore({ cfg: config(1, 3, { readFromBackups: true }), epoch: 1, votedFor: undefined, records: [{ i: 1, d: { ep: 1 } }, { i: 2, d: { ep: 1 } }] });
  c.step({ kind: 'start' }, 0);
  c.step({ kind: 'link-up', peer: 0 }, 1);
  c.step({ kind: 'message', from: 0, m: { t: 'beat', role: 'primary', epoch: 1, lastIndex: 2, lastEpoch: 1, primary: 0 } }, 2);
  const read = (req: number, at: number): boolean | undefined => ofKind(c.step({ kind: 'read', req }, at), 'answer')[0]?.answer.ok;
  assert.equal(read(1, 3), false, 'not before it has heard its primary on the new stream');
  c.step({ kind: 'message', from: 0, m: { t: 'tick', epoch: 1, lastIndex: 2, seq: 1 } }, 4);
  assert.equal(read(2, 5), true);
});

test('acks from a member that does not follow, and acks below what a backup already acknowledged, move nothing', () => {
  const { c, t } = settledPrimary();
  c.step({ kind: 'write', req: 15, data: {} }, t + 1);
  c.step({ kind: 'durable', index: 2 }, t + 1);
  // Member 3 is no member; member 1 repeats an old index; neither commits record 2.
  assert.deepEqual(ofKind(c.step({ kind: 'message', from: 3, m: { t: 'ack', index: 2 } }, t + 2), 'answer'), []);
  assert.deepEqual(ofKind(c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 1 } }, t + 2), 'answer'), []);
  assert.equal(c.knownCommitted, 1);
  // An ack past what was sent counts only up to what was sent.
  c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 99 } }, t + 3);
  assert.deepEqual(ofKind(c.step({ kind: 'message', from: 2, m: { t: 'ack', index: 2 } }, t + 3), 'answer'), [{ kind: 'answer', req: 15, answer: { ok: true, index: 2 } }]);
  assert.equal(c.knownCommitted, 2);
});

test('a backup far behind is sent its catch-up in frames of at most 2,000 records, in order', () => {
  // A log tail long enough to hold them all, or the backup would be sent a snapshot instead.
  const { c, t } = settledPrimary({ tailCapacity: 10_000 });
  for (let k = 0; k < 4500; k++) c.step({ kind: 'write', req: 100 + k, data: {} }, t + 1);
  const fx = c.step({ kind: 'message', from: 1, m: { t: 'follow', epoch: 1, lastIndex: 1, lastEpoch: 1 } }, t + 2);
  const frames = sent(fx, 1).flatMap((m) => (m.t === 'append' ? [m.recs] : []));
  assert.deepEqual(frames.map((recs) => recs.length), [2000, 2000, 500]);
  assert.deepEqual(frames.flat().map((r) => r.i), Array.from({ length: 4500 }, (_, k) => k + 2));
});
