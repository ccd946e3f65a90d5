import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { backupOf, core, HB, ofKind, primaryOfThree, sent, votingOfThree, WINDOW } from './core.test.helper.js';
import type { Effect } from './effects.js';
import type { VoteRequest } from './messages.js';

test('a member alone elects itself at start, and answers a write once its disk has it', () => {
  const c = core(0, 1);
  let fx = c.step({ kind: 'start' }, 0);
  assert.deepEqual(ofKind(fx, 'persist'), [{ kind: 'persist', epoch: 1, votedFor: 0 }]);
  fx = c.step({ kind: 'persisted' }, 1);
  assert.equal(c.role, 'primary');
  // The epoch's first record, empty.
  assert.deepEqual(ofKind(fx, 'store').map((e) => e.recs), [[{ i: 1, d: { ep: 1 } }]]);
  fx = c.step({ kind: 'write', req: 7, data: { op: 'x' } }, 2);
  assert.deepEqual(ofKind(fx, 'store').map((e) => e.recs), [[{ i: 2, d: { op: 'x', ep: 1 } }]]);
  assert.deepEqual(ofKind(fx, 'answer'), []);
  fx = c.step({ kind: 'durable', index: 2 }, 3);
  assert.deepEqual(ofKind(fx, 'answer'), [{ kind: 'answer', req: 7, answer: { ok: true, index: 2 } }]);
});

test('a vote is answered only once it is persisted, and a member votes once per epoch', () => {
  const c = core(2, 3);
  c.step({ kind: 'start' }, 0);
  c.step({ kind: 'link-up', peer: 0 }, 1);
  c.step({ kind: 'link-up', peer: 1 }, 1);
  const t = WINDOW + 10; // past the window a member honours after it starts
  let fx = c.step({ kind: 'message', from: 0, m: { t: 'vote', epoch: 1, lastIndex: 0, lastEpoch: 0 } }, t);
  assert.deepEqual(ofKind(fx, 'persist'), [{ kind: 'persist', epoch: 1, votedFor: 0 }]);
  assert.deepEqual(sent(fx), []);
  // A second request waits behind the persist.
  fx = c.step({ kind: 'message', from: 1, m: { t: 'vote', epoch: 1, lastIndex: 0, lastEpoch: 0 } }, t);
  assert.deepEqual(sent(fx), []);
  fx = c.step({ kind: 'persisted' }, t + 1);
  const answers = [...sent(fx, 0), ...sent(fx, 1)];
  assert.deepEqual(answers.map((m) => (m.t === 'vote-ans' ? m.granted : undefined)), [true, false]);
});

test('a vote for a log older than ours is refused (granted with vote-without-log-check planted)', () => {
  for (const plant of [undefined, 'vote-without-log-check'] as const) {
    const c = core(1, 3, { plant });
    c.step({ kind: 'start' }, 0);
    c.step({ kind: 'link-up', peer: 0 }, 1);
    // It follows a primary of epoch 1 that sends two records.
    c.step({ kind: 'message', from: 0, m: { t: 'beat', role: 'primary', epoch: 1, lastIndex: 2, lastEpoch: 1, primary: 0 } }, 2);
    c.step({ kind: 'persisted' }, 2);
    c.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs: [{ i: 1, d: { ep: 1 } }, { i: 2, d: { ep: 1 } }] } }, 3);
    c.step({ kind: 'durable', index: 2 }, 4);
    assert.equal(c.role, 'backup');
    const t = 4 + WINDOW * 3; // long after the primary went silent
    c.step({ kind: 'tick' }, t);
    assert.equal(c.role, 'candidate');
    const fx = c.step({ kind: 'message', from: 0, m: { t: 'vote', epoch: 2, lastIndex: 1, lastEpoch: 1 } }, t);
    if (plant === undefined) {
      // Refused, but the requester's epoch is taken up (persisted before the answer), so that
      // this member's own next prevote asks for a newer one than the requester's.
      assert.deepEqual(ofKind(fx, 'persist'), [{ kind: 'persist', epoch: 2, votedFor: undefined }]);
      assert.deepEqual(sent(fx, 0), []);
      const ans = sent(c.step({ kind: 'persisted' }, t + 1), 0)[0];
      assert.ok(ans?.t === 'vote-ans' && !ans.granted && /behind ours/.test(ans.reason ?? ''));
      assert.equal(c.epoch, 2);
    } else {
      assert.deepEqual(ofKind(fx, 'persist'), [{ kind: 'persist', epoch: 2, votedFor: 0 }]);
    }
  }
});

test('a candidate that voted for another in an epoch does not vote for itself in it', () => {
  const c = core(1, 3);
  c.step({ kind: 'start' }, 0);
  c.step({ kind: 'link-up', peer: 0 }, 1);
  c.step({ kind: 'link-up', peer: 2 }, 1);
  const t = WINDOW + 10;
  // Member 0 comes first in SID order but has been silent for a window: we stand at once.
  let fx = c.step({ kind: 'wake' }, t);
  assert.ok(sent(fx).some((m) => m.t === 'prevote' && m.epoch === 1));
  // Member 2 asks for its vote in epoch 1 first: granted and persisted.
  fx = c.step({ kind: 'message', from: 2, m: { t: 'vote', epoch: 1, lastIndex: 0, lastEpoch: 0 } }, t);
  c.step({ kind: 'persisted' }, t);
  assert.equal(c.votedFor, 2);
  // Our prevote wins now; the self-vote must not overwrite the vote for member 2.
  fx = c.step({ kind: 'message', from: 0, m: { t: 'prevote-ans', epoch: 1, granted: true } }, t);
  assert.deepEqual(ofKind(fx, 'persist'), []);
  assert.equal(c.votedFor, 2);
  assert.ok(!sent(fx).some((m) => m.t === 'vote'));
});

test('a backup acknowledges records once its disk has them (at once with ack-before-fsync planted)', () => {
  for (const plant of [undefined, 'ack-before-fsync'] as const) {
    const c = core(1, 3, { plant });
    c.step({ kind: 'start' }, 0);
    c.step({ kind: 'link-up', peer: 0 }, 1);
    c.step({ kind: 'message', from: 0, m: { t: 'beat', role: 'primary', epoch: 1, lastIndex: 0, lastEpoch: 0, primary: 0 } }, 2);
    const fx0 = c.step({ kind: 'persisted' }, 2);
    assert.deepEqual(sent(fx0, 0), [{ t: 'follow', epoch: 1, lastIndex: 0, lastEpoch: 0 }]);
    let fx = c.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs: [{ i: 1, d: { ep: 1 } }] } }, 3);
    assert.equal(ofKind(fx, 'store').length, 1);
    assert.deepEqual(sent(fx, 0), plant === undefined ? [] : [{ t: 'ack', index: 1 }]);
    fx = c.step({ kind: 'durable', index: 1 }, 4);
    assert.deepEqual(sent(fx, 0), plant === undefined ? [{ t: 'ack', index: 1 }] : []);
  }
});

test('a primary commits on a majority and holds reads until its epoch\'s first record is committed', () => {
  const { c, t } = primaryOfThree();
  let fx = c.step({ kind: 'durable', index: 1 }, t);
  fx = c.step({ kind: 'read', req: 5 }, t);
  // No lease yet: a lease round goes out at once, and the read waits.
  const rounds = sent(fx).filter((m) => m.t === 'tick' && m.seq !== undefined);
  assert.equal(rounds.length, 2);
  assert.deepEqual(ofKind(fx, 'answer'), []);
  const seq = rounds[0]?.t === 'tick' ? rounds[0].seq : undefined;
  fx = c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 0, seq } }, t + 1);
  // The lease holds, but the epoch's first record is not committed: still waiting.
  assert.deepEqual(ofKind(fx, 'answer'), []);
  fx = c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 1 } }, t + 2);
  // Member 2 followed after the record was appended and is still catching up, so it is not yet
  // in the star: the primary and member 1 are the majority.
  assert.equal(c.commitIndex, 1);
  assert.deepEqual(ofKind(fx, 'answer'), [{ kind: 'answer', req: 5, answer: { ok: true, index: 1 } }]);
});

test('the planted commit-on-minority bug commits on the primary\'s disk alone', () => {
  const { c, t } = primaryOfThree({ plant: 'commit-on-minority' });
  c.step({ kind: 'durable', index: 1 }, t);
  assert.equal(c.commitIndex, 1);
  const sound = primaryOfThree();
  sound.c.step({ kind: 'durable', index: 1 }, sound.t);
  assert.equal(sound.c.knownCommitted, undefined);
});

test('a primary that hears no majority refuses writes, then steps down at its next heartbeat', () => {
  const { c, t } = primaryOfThree();
  const later = t + WINDOW + 1;
  const fx = c.step({ kind: 'write', req: 9, data: {} }, later);
  assert.deepEqual(ofKind(fx, 'answer'), [{ kind: 'answer', req: 9, answer: { ok: false, code: 'NO_QUORUM', outcome: 'none' } }]);
  c.step({ kind: 'tick' }, later);
  assert.equal(c.role, 'candidate');
});

test('a primary without a lease refuses a read after one heartbeat (read-without-lease planted: answers it)', () => {
  for (const plant of [undefined, 'read-without-lease'] as const) {
    const { c, t } = primaryOfThree({ plant });
    c.step({ kind: 'durable', index: 1 }, t);
    c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 1 } }, t);
    c.step({ kind: 'message', from: 2, m: { t: 'ack', index: 1 } }, t);
    let fx = c.step({ kind: 'read', req: 3 }, t + 1);
    if (plant === undefined) {
      assert.deepEqual(ofKind(fx, 'answer'), []);
      fx = c.step({ kind: 'wake' }, t + 1 + HB);
      assert.deepEqual(ofKind(fx, 'answer').map((a) => a.answer.ok), [false]);
    } else {
      assert.deepEqual(ofKind(fx, 'answer').map((a) => a.answer.ok), [true]);
    }
  }
});

test('a primary that hears a member in a newer epoch steps down, though it still hears a majority', () => {
  const { c, t } = primaryOfThree();
  assert.equal(c.role, 'primary');
  // Member 2 stood while this primary was paused and voted for itself in epoch 2; it is heard, but takes none of our records.
  c.step({ kind: 'message', from: 2, m: { t: 'beat', role: 'candidate', epoch: 2, lastIndex: 0, lastEpoch: 0 } }, t + 1);
  assert.equal(c.role, 'candidate');
});

test('a member that wins its election while a newer epoch is on its way to disk is no primary once it is there', () => {
  const { c, t } = votingOfThree();
  // Member 2 was elected in epoch 2 meanwhile; its beat starts epoch 2 on its way to disk...
  const fx = c.step({ kind: 'message', from: 2, m: { t: 'beat', role: 'primary', epoch: 2, lastIndex: 0, lastEpoch: 0, primary: 2 } }, t + 1);
  assert.deepEqual(ofKind(fx, 'persist'), [{ kind: 'persist', epoch: 2, votedFor: undefined }]);
  // ...when member 1's vote for epoch 1 wins this member that epoch.
  c.step({ kind: 'message', from: 1, m: { t: 'vote-ans', epoch: 1, granted: true } }, t + 2);
  c.step({ kind: 'persisted' }, t + 3);
  assert.equal(c.epoch, 2);
  assert.notEqual(c.role, 'primary');
});

test('a backup that moves to a newer primary while a snapshot is on its way to disk asks it for the log only once the snapshot is in (seed 102,205)', () => {
  const c = backupOf(1, 3, { head: 5, links: [0, 2] });
  let fx = c.step({ kind: 'message', from: 0, m: { t: 'snap', epoch: 1, index: 5, data: '[]', last: true, voters: [0, 1, 2] } }, 3);
  assert.equal(ofKind(fx, 'install').length, 1);
  // Member 2 is primary of epoch 2; the snapshot of epoch 1 is still being written.
  c.step({ kind: 'message', from: 2, m: { t: 'beat', role: 'primary', epoch: 2, lastIndex: 6, lastEpoch: 2, primary: 2 } }, 4);
  fx = c.step({ kind: 'persisted' }, 5);
  assert.equal(c.role, 'backup');
  assert.deepEqual(sent(fx, 2), [], 'asked the new primary for the log after an end that is about to change');
  fx = c.step({ kind: 'installed', index: 5, lastEpoch: 1 }, 6);
  assert.deepEqual(sent(fx, 2), [{ t: 'follow', epoch: 2, lastIndex: 5, lastEpoch: 1 }]);
});

test('a backup whose log differs from its primary\'s where their records overlap lets go of the stream instead of extending it', () => {
  const c = backupOf(1, 3, { head: 2, links: [0] });
  c.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs: [{ i: 1, d: { ep: 1 } }, { i: 2, d: { ep: 1 } }] } }, 3);
  c.step({ kind: 'durable', index: 2 }, 4);
  // Frames no correct primary of epoch 1 sends: record 2 of another epoch, then record 3.
  const fx = c.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs: [{ i: 2, d: { ep: 2 } }, { i: 3, d: { ep: 2 } }] } }, 5);
  assert.deepEqual(ofKind(fx, 'store'), []);
  assert.deepEqual(ofKind(fx, 'close-link').map((e) => e.peer), [0]);
});

test('a candidate takes up a voter\'s newer epoch from its beat, and asks for the one after it (seeds 583,065 and 733,555)', () => {
  const c = core(0, 3);
  c.step({ kind: 'start' }, 0);
  c.step({ kind: 'link-up', peer: 1 }, 1);
  c.step({ kind: 'link-up', peer: 2 }, 1);
  // Member 1 voted in epoch 5 for a candidate since lost; it would refuse our prevotes for epoch 5.
  const t = WINDOW + 10;
  let fx = c.step({ kind: 'message', from: 1, m: { t: 'beat', role: 'candidate', epoch: 5, lastIndex: 0, lastEpoch: 0 } }, t);
  assert.deepEqual(ofKind(fx, 'persist'), [{ kind: 'persist', epoch: 5, votedFor: undefined }]);
  c.step({ kind: 'persisted' }, t);
  assert.equal(c.epoch, 5);
  assert.equal(c.votedFor, undefined);
  // A prevote round for epoch 1 may have started before: once it is over, the next asks for epoch 6.
  fx = [];
  for (let at = t + 1; at <= t + 4 * HB; at += 10) fx.push(...c.step({ kind: 'wake' }, at));
  const asked = sent(fx).flatMap((m) => (m.t === 'prevote' ? [m.epoch] : []));
  assert.ok(asked.length > 0 && asked.every((e) => e === 6), `prevotes for ${asked.join(',')}`);
  // Not from a member outside our configuration (a removed member must not move the cluster's epoch).
  c.step({ kind: 'link-up', peer: 7 }, t + 3);
  fx = c.step({ kind: 'message', from: 7, m: { t: 'beat', role: 'candidate', epoch: 9, lastIndex: 0, lastEpoch: 0 } }, t + 3);
  assert.deepEqual(ofKind(fx, 'persist'), []);
});

test('a backup that still hears its primary does not take up a candidate\'s newer epoch from its beat', () => {
  const { c, t } = primaryOfThree();
  const b = core(1, 3);
  b.step({ kind: 'start' }, 0);
  b.step({ kind: 'link-up', peer: 0 }, 1);
  b.step({ kind: 'link-up', peer: 2 }, 1);
  b.step({ kind: 'message', from: 0, m: { t: 'beat', role: 'primary', epoch: 1, lastIndex: 0, lastEpoch: 0, primary: 0 } }, t);
  b.step({ kind: 'persisted' }, t);
  assert.equal(b.role, 'backup');
  const fx = b.step({ kind: 'message', from: 2, m: { t: 'beat', role: 'candidate', epoch: 4, lastIndex: 0, lastEpoch: 0 } }, t + 1);
  assert.deepEqual(ofKind(fx, 'persist'), []);
  assert.equal(c.role, 'primary');
});

/**
 * Member 2 of three, backup of primary 0 with record 1 of epoch 1 on disk, member 1 (ahead of it
 * in SID order, with an empty log) heard at `t`. Returns the core and the time.
 */
function backupAfterOne(): { b: ReturnType<typeof core>; t: number } {
  const b = backupOf(2, 3, { head: 1, links: [0, 1], at: 10 });
  b.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs: [{ i: 1, d: { ep: 1 } }] } }, 11);
  b.step({ kind: 'durable', index: 1 }, 12);
  assert.equal(b.role, 'backup');
  const t = 100;
  b.step({ kind: 'message', from: 1, m: { t: 'beat', role: 'backup', epoch: 1, lastIndex: 0, lastEpoch: 0, primary: 0 } }, t);
  return { b, t };
}

const prevotes = (fx: readonly Effect[]): VoteRequest[] => sent(fx).filter((m): m is VoteRequest => m.t === 'prevote');

test('a member waiting its turn behind one ahead in SID order stands at once when that one asks with an older log', () => {
  const { b, t } = backupAfterOne();
  // The primary dies: member 1 is live and ahead, so member 2 waits its turn (two heartbeats).
  const fx = b.step({ kind: 'link-down', peer: 0 }, t);
  assert.equal(b.role, 'candidate');
  assert.deepEqual(prevotes(fx), []);
  // Member 1 asks with a log behind ours: it cannot win our vote, so we stand now, not at t + 2 HB.
  const asked = b.step({ kind: 'message', from: 1, m: { t: 'prevote', epoch: 2, lastIndex: 0, lastEpoch: 0 } }, t + 5);
  assert.deepEqual(prevotes(asked), [{ t: 'prevote', epoch: 2, lastIndex: 1, lastEpoch: 1 }]);
});

test('a member ahead in SID order that asked with an older log before the primary died does not make us wait our turn', () => {
  const { b, t } = backupAfterOne();
  // Asked while we still heard the primary (refused on the log rule all the same).
  b.step({ kind: 'message', from: 1, m: { t: 'prevote', epoch: 2, lastIndex: 0, lastEpoch: 0 } }, t);
  const fx = b.step({ kind: 'link-down', peer: 0 }, t + 3);
  assert.deepEqual(prevotes(fx), [{ t: 'prevote', epoch: 2, lastIndex: 1, lastEpoch: 1 }]);
});

test('woken a little before its deadline (a timer may fire early by our clock), the core asks for the deadline again', () => {
  const { b, t } = backupAfterOne();
  const fx = b.step({ kind: 'link-down', peer: 0 }, t);
  const wakes = ofKind(fx, 'wake').map((e) => e.at);
  const turn = t + 2 * HB;
  assert.deepEqual(wakes, [turn]);
  const early = b.step({ kind: 'wake' }, turn - 0.5);
  assert.deepEqual(prevotes(early), []);
  assert.deepEqual(ofKind(early, 'wake').map((e) => e.at), [turn]);
  assert.deepEqual(prevotes(b.step({ kind: 'wake' }, turn)).map((m) => m.epoch), [2]);
});
