// The core's membership changes (docs/CLUSTER.md, "Membership changes"): one at a time, through the
// log, effective on append, a new member caught up as a learner first.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { ClusterCore } from './core.js';
import { core, ofKind, primaryOfThree, sent, WINDOW } from './core.test.helper.js';
import type { CoreConfig } from './config.js';
import type { Effect } from './effects.js';
import type { WireRecord } from './messages.js';

/** A primary of three whose epoch's first record is committed (members 1 and 2 hold it). */
function settledPrimary(over: Partial<CoreConfig> = {}): { c: ClusterCore; t: number } {
  const { c, t } = primaryOfThree(over);
  c.step({ kind: 'durable', index: 1 }, t);
  c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 1 } }, t);
  c.step({ kind: 'message', from: 2, m: { t: 'ack', index: 1 } }, t);
  assert.equal(c.knownCommitted, 1);
  return { c, t };
}

/**
 * Member `self` of three, linked to member 0 and to `others`, a backup of member 0 (primary of
 * epoch 1) that has stored `recs` by time 4.
 */
function backupOf(self: number, others: number[], recs: WireRecord[]): ClusterCore {
  const b = core(self, 3);
  b.step({ kind: 'start' }, 0);
  for (const peer of [0, ...others]) b.step({ kind: 'link-up', peer }, 1);
  b.step({ kind: 'message', from: 0, m: { t: 'beat', role: 'primary', epoch: 1, lastIndex: 0, lastEpoch: 0, primary: 0 } }, 2);
  b.step({ kind: 'persisted' }, 2);
  b.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs } }, 3);
  b.step({ kind: 'durable', index: (recs.at(-1) as WireRecord).i }, 4);
  return b;
}

function answers(fx: readonly Effect[]): unknown[] {
  return ofKind(fx, 'answer').map((a) => a.answer);
}

test('a removal is appended at once, counts from then on, and is answered once a majority of the new configuration holds it', () => {
  const { c, t } = settledPrimary();
  let fx = c.step({ kind: 'members', req: 4, op: 'remove', sid: 2 }, t + 1);
  assert.deepEqual(ofKind(fx, 'store').map((e) => e.recs), [[{ i: 2, d: { ep: 1, config: { voters: [0, 1], change: { op: 'remove', sid: 2 } } } }]]);
  assert.deepEqual(ofKind(fx, 'members'), [{ kind: 'members', voters: [0, 1], index: 2, member: true }]);
  assert.deepEqual(c.voters, [0, 1]);
  assert.equal(c.quorum, 2);
  // A second change while the first is not committed: refused, nothing appended.
  fx = c.step({ kind: 'members', req: 5, op: 'remove', sid: 1 }, t + 1);
  assert.deepEqual(answers(fx), [{ ok: false, code: 'MEMBERSHIP_CHANGE_PENDING', outcome: 'none', }]);
  assert.deepEqual(ofKind(fx, 'store'), []);
  c.step({ kind: 'durable', index: 2 }, t + 2);
  // Member 2 no longer counts: its ack commits nothing.
  fx = c.step({ kind: 'message', from: 2, m: { t: 'ack', index: 2 } }, t + 2);
  assert.deepEqual(answers(fx), []);
  fx = c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 2 } }, t + 3);
  assert.deepEqual(answers(fx), [{ ok: true, index: 2 }]);
  // Asking again is answered as done.
  fx = c.step({ kind: 'members', req: 6, op: 'remove', sid: 2 }, t + 4);
  assert.deepEqual(answers(fx), [{ ok: true, index: 2 }]);
});

test('with two-changes-at-once planted, the primary takes a second change before the first commits', () => {
  const { c, t } = settledPrimary({ plant: 'two-changes-at-once' });
  c.step({ kind: 'members', req: 4, op: 'remove', sid: 2 }, t + 1);
  const fx = c.step({ kind: 'members', req: 5, op: 'remove', sid: 1 }, t + 1);
  assert.equal(ofKind(fx, 'store').length, 1);
  assert.deepEqual(c.voters, [0]);
});

test('no change before the primary has committed a record of its own epoch', () => {
  const { c, t } = primaryOfThree();
  const fx = c.step({ kind: 'members', req: 4, op: 'remove', sid: 2 }, t);
  assert.deepEqual(answers(fx), [{ ok: false, code: 'MEMBERSHIP_CHANGE_PENDING', outcome: 'none' }]);
});

test('only a primary changes members, and never the last voter away', () => {
  const b = core(1, 3);
  b.step({ kind: 'start' }, 0);
  let fx = b.step({ kind: 'members', req: 1, op: 'add', sid: 3 }, 1);
  assert.deepEqual(answers(fx), [{ ok: false, code: 'NOT_PRIMARY', outcome: 'none' }]);
  const alone = core(0, 1);
  alone.step({ kind: 'start' }, 0);
  alone.step({ kind: 'persisted' }, 1);
  alone.step({ kind: 'durable', index: 1 }, 2);
  fx = alone.step({ kind: 'members', req: 2, op: 'remove', sid: 0 }, 3);
  assert.deepEqual(answers(fx), [{ ok: false, code: 'MEMBERSHIP_CHANGE_INVALID', outcome: 'none' }]);
});

test('a new member catches up as a learner before the change that makes it a voter is appended', () => {
  const { c, t } = settledPrimary();
  let fx = c.step({ kind: 'members', req: 7, op: 'add', sid: 3, addr: 'h:4' }, t + 1);
  assert.deepEqual(ofKind(fx, 'dial'), [{ kind: 'dial', peer: 3 }]);
  assert.deepEqual(ofKind(fx, 'store'), []);
  // Another change meanwhile waits.
  fx = c.step({ kind: 'members', req: 8, op: 'remove', sid: 1 }, t + 1);
  assert.deepEqual(answers(fx), [{ ok: false, code: 'MEMBERSHIP_CHANGE_PENDING', outcome: 'none' }]);
  fx = c.step({ kind: 'link-up', peer: 3 }, t + 2);
  assert.ok(sent(fx, 3).some((m) => m.t === 'beat' && m.role === 'primary'));
  fx = c.step({ kind: 'message', from: 3, m: { t: 'follow', epoch: 1, lastIndex: 0, lastEpoch: 0 } }, t + 3);
  assert.deepEqual(sent(fx, 3), [{ t: 'append', epoch: 1, recs: [{ i: 1, d: { ep: 1 } }] }]);
  assert.deepEqual(c.voters, [0, 1, 2]);
  // Caught up: the change goes in the log, and member 3 counts from now on (3 of 4 make a majority).
  fx = c.step({ kind: 'message', from: 3, m: { t: 'ack', index: 1 } }, t + 4);
  assert.deepEqual(ofKind(fx, 'store').map((e) => e.recs), [[{ i: 2, d: { ep: 1, config: { voters: [0, 1, 2, 3], change: { op: 'add', sid: 3, addr: 'h:4' } } } }]]);
  assert.equal(c.quorum, 3);
  c.step({ kind: 'durable', index: 2 }, t + 5);
  // Member 2's link goes: now the primary, 1 and 3 must all hold it.
  c.step({ kind: 'link-down', peer: 2 }, t + 5);
  fx = c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 2 } }, t + 5);
  assert.deepEqual(answers(fx), []);
  fx = c.step({ kind: 'message', from: 3, m: { t: 'ack', index: 2 } }, t + 6);
  assert.deepEqual(answers(fx), [{ ok: true, index: 2 }]);
});

test('a member that does not catch up in time is not added', () => {
  const { c, t } = settledPrimary();
  c.step({ kind: 'members', req: 7, op: 'add', sid: 3 }, t + 1);
  let fx: Effect[] = [];
  for (let k = 1; k <= 5 && answers(fx).length === 0; k++) {
    const now = t + 1 + k * WINDOW;
    fx = c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 1 } }, now);
    fx.push(...c.step({ kind: 'message', from: 2, m: { t: 'ack', index: 1 } }, now), ...c.step({ kind: 'tick' }, now));
  }
  assert.deepEqual(answers(fx), [{ ok: false, code: 'MEMBER_NOT_CAUGHT_UP', outcome: 'none' }]);
  assert.deepEqual(c.voters, [0, 1, 2]);
});

test('a primary that removes itself leads until the change commits, then steps down and never stands', () => {
  const { c, t } = settledPrimary();
  c.step({ kind: 'members', req: 4, op: 'remove', sid: 0 }, t + 1);
  assert.equal(c.role, 'primary');
  c.step({ kind: 'durable', index: 2 }, t + 2);
  // Its own disk no longer counts: both others must hold the record.
  let fx = c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 2 } }, t + 2);
  assert.equal(c.role, 'primary');
  fx = c.step({ kind: 'message', from: 2, m: { t: 'ack', index: 2 } }, t + 3);
  assert.deepEqual(answers(fx), [{ ok: true, index: 2 }]);
  assert.equal(c.role, 'candidate');
  fx = c.step({ kind: 'tick' }, t + 10 * WINDOW);
  fx.push(...c.step({ kind: 'wake' }, t + 10 * WINDOW + 1));
  assert.ok(!sent(fx).some((m) => m.t === 'prevote' || m.t === 'vote'));
});

test('a member outside the configuration never stands, and its votes are refused', () => {
  const joiner = core(3, 3);
  let fx = joiner.step({ kind: 'start' }, 0);
  assert.deepEqual(ofKind(fx, 'members'), [{ kind: 'members', voters: [0, 1, 2], index: 0, member: false }]);
  assert.deepEqual(ofKind(fx, 'dial').map((d) => d.peer), [0, 1, 2]);
  for (const peer of [0, 1, 2]) joiner.step({ kind: 'link-up', peer }, 1);
  fx = joiner.step({ kind: 'wake' }, WINDOW * 3);
  fx.push(...joiner.step({ kind: 'tick' }, WINDOW * 4));
  assert.ok(!sent(fx).some((m) => m.t === 'prevote' || m.t === 'vote'));
  const voter = backupOf(1, [3], [{ i: 1, d: { ep: 1 } }]);
  const later = WINDOW * 3;
  voter.step({ kind: 'tick' }, later);
  assert.equal(voter.role, 'candidate');
  fx = voter.step({ kind: 'message', from: 3, m: { t: 'prevote', epoch: 5, lastIndex: 0, lastEpoch: 0 } }, later);
  const ans = sent(fx, 3)[0];
  assert.ok(ans?.t === 'prevote-ans' && !ans.granted && /not a voter/.test(ans.reason ?? ''));
  // Its epoch is not taken up (a voter behind it would take it up: vote-rules.ts, epochLearned).
  assert.deepEqual(ofKind(fx, 'persist'), []);
  // One outside our configuration with a log as new as ours may have been added without our knowing: granted.
  fx = voter.step({ kind: 'message', from: 3, m: { t: 'prevote', epoch: 5, lastIndex: 1, lastEpoch: 1 } }, later);
  assert.deepEqual(sent(fx, 3).map((m) => (m.t === 'prevote-ans' ? m.granted : undefined)), [true]);
});

test('a backup takes its configuration from the records it appends and from a snapshot', () => {
  const b = core(3, 3);
  b.step({ kind: 'start' }, 0);
  b.step({ kind: 'link-up', peer: 0 }, 1);
  b.step({ kind: 'message', from: 0, m: { t: 'beat', role: 'primary', epoch: 1, lastIndex: 2, lastEpoch: 1, primary: 0 } }, 2);
  b.step({ kind: 'persisted' }, 2);
  let fx = b.step({ kind: 'message', from: 0, m: { t: 'append', epoch: 1, recs: [{ i: 1, d: { ep: 1 } }, { i: 2, d: { ep: 1, config: { voters: [0, 1, 2, 3], change: { op: 'add', sid: 3 } } } }] } }, 3);
  // Effective on append, before it is on disk.
  assert.deepEqual(ofKind(fx, 'members'), [{ kind: 'members', voters: [0, 1, 2, 3], index: 2, member: true }]);
  b.step({ kind: 'durable', index: 2 }, 4);
  b.step({ kind: 'message', from: 0, m: { t: 'snap', epoch: 1, index: 9, data: '{}', last: true, voters: [0, 1, 3] } }, 5);
  fx = b.step({ kind: 'installed', index: 9, lastEpoch: 1 }, 6);
  assert.deepEqual(ofKind(fx, 'members'), [{ kind: 'members', voters: [0, 1, 3], index: 9, member: true }]);
  assert.equal(b.configIndex, 9);
});

test('a member whose own removal is its newest record stands, without its own vote, until it hears the removal committed', () => {
  for (const told of [false, true]) {
    const b = backupOf(2, [1], [{ i: 1, d: { ep: 1 } }, { i: 2, d: { ep: 1, config: { voters: [0, 1], change: { op: 'remove', sid: 2 } } } }]);
    if (told) b.step({ kind: 'message', from: 0, m: { t: 'tick', epoch: 1, lastIndex: 2, seq: 1, commit: 2 } }, 5);
    const t = 5 + WINDOW * 3;
    let fx = b.step({ kind: 'tick' }, t);
    fx.push(...b.step({ kind: 'wake' }, t + WINDOW));
    fx.push(...b.step({ kind: 'wake' }, t + 2 * WINDOW));
    const prevotes = sent(fx).filter((m) => m.t === 'prevote');
    if (told) {
      assert.deepEqual(prevotes, []);
      continue;
    }
    assert.ok(prevotes.length > 0);
    const epoch = prevotes[0]?.t === 'prevote' ? prevotes[0].epoch : 0;
    // One grant of the two voters is not a majority: its own vote does not count.
    fx = b.step({ kind: 'message', from: 0, m: { t: 'prevote-ans', epoch, granted: true } }, t + 2 * WINDOW);
    assert.deepEqual(ofKind(fx, 'persist'), []);
    fx = b.step({ kind: 'message', from: 1, m: { t: 'prevote-ans', epoch, granted: true } }, t + 2 * WINDOW);
    assert.deepEqual(ofKind(fx, 'persist'), [{ kind: 'persist', epoch, votedFor: 2 }]);
  }
});

test('a member outside its newest configuration stands, without its own vote, once a candidate that counts it was refused for its log', () => {
  const b = backupOf(2, [1], [{ i: 1, d: { ep: 1 } }, { i: 2, d: { ep: 1, config: { voters: [0, 1], change: { op: 'remove', sid: 2 } } } }, { i: 3, d: { ep: 1 } }]);
  b.step({ kind: 'message', from: 0, m: { t: 'tick', epoch: 1, lastIndex: 3, seq: 1, commit: 3 } }, 5);
  // Its removal is committed and it knows it: it does not stand of itself.
  const t = 5 + WINDOW * 3;
  let fx = b.step({ kind: 'tick' }, t);
  fx.push(...b.step({ kind: 'wake' }, t + WINDOW));
  assert.deepEqual(sent(fx).filter((m) => m.t === 'prevote'), []);
  // Member 1, whose log lacks record 3 and whose configuration still counts member 2, asks for its vote.
  const at = t + WINDOW + 1;
  b.step({ kind: 'message', from: 0, m: { t: 'beat', role: 'candidate', epoch: 1, lastIndex: 3, lastEpoch: 1 } }, at);
  b.step({ kind: 'message', from: 1, m: { t: 'beat', role: 'candidate', epoch: 1, lastIndex: 2, lastEpoch: 1 } }, at);
  fx = b.step({ kind: 'message', from: 1, m: { t: 'prevote', epoch: 2, lastIndex: 2, lastEpoch: 1 } }, at);
  const ans = sent(fx, 1)[0];
  assert.ok(ans?.t === 'prevote-ans' && !ans.granted && /behind ours/.test(ans.reason ?? ''));
  // Refused for its log, it stands at once (member 1 could not win without it), asking the voters.
  const asked = sent(fx).filter((m) => m.t === 'prevote');
  assert.equal(asked.length, 2);
  fx = b.step({ kind: 'message', from: 0, m: { t: 'prevote-ans', epoch: 2, granted: true } }, at + 1);
  assert.deepEqual(ofKind(fx, 'persist'), [], 'its own vote does not count: one grant of two voters is no majority');
  fx = b.step({ kind: 'message', from: 1, m: { t: 'prevote-ans', epoch: 2, granted: true } }, at + 1);
  assert.deepEqual(ofKind(fx, 'persist'), [{ kind: 'persist', epoch: 2, votedFor: 2 }]);
});

test('a member being added waits while a snapshot for it is made, sent and installed, and is given up on only without progress', () => {
  for (const acked of [true, false]) {
    const { c, t } = settledPrimary();
    c.step({ kind: 'members', req: 7, op: 'add', sid: 3 }, t + 1);
    c.step({ kind: 'link-up', peer: 3 }, t + 1);
    // Its log is not ours (here: from a position we never had), so it needs a snapshot.
    let fx = c.step({ kind: 'message', from: 3, m: { t: 'follow', epoch: 1, lastIndex: 7, lastEpoch: 9 } }, t + 2);
    assert.deepEqual(ofKind(fx, 'make-snapshot'), [{ kind: 'make-snapshot', peer: 3 }]);
    fx = c.step({ kind: 'snapshot-made', peer: 3, index: 1, data: '{}' }, t + 3);
    assert.equal(sent(fx, 3)[0]?.t, 'snap');
    // A large registry's snapshot takes many failure windows to install: the change waits.
    let now = t + 3;
    for (let k = 0; k < 20; k++) {
      now += WINDOW;
      fx = c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 1 } }, now);
      fx.push(...c.step({ kind: 'message', from: 2, m: { t: 'ack', index: 1 } }, now), ...c.step({ kind: 'tick' }, now));
      assert.deepEqual(answers(fx), [], `still waiting after ${k + 1} windows`);
    }
    if (acked) {
      fx = c.step({ kind: 'message', from: 3, m: { t: 'ack', index: 1 } }, now + 1);
      assert.deepEqual(ofKind(fx, 'store').map((e) => e.recs[0]?.d.config), [{ voters: [0, 1, 2, 3], change: { op: 'add', sid: 3 } }]);
      continue;
    }
    // Never acknowledged: given up on once the snapshot's allowance (100 windows) is out.
    let answered: unknown[] = [];
    for (let k = 0; k < 100 && answered.length === 0; k++) {
      now += WINDOW;
      fx = c.step({ kind: 'message', from: 1, m: { t: 'ack', index: 1 } }, now);
      fx.push(...c.step({ kind: 'message', from: 2, m: { t: 'ack', index: 1 } }, now), ...c.step({ kind: 'tick' }, now));
      answered = answers(fx);
    }
    assert.deepEqual(answered, [{ ok: false, code: 'MEMBER_NOT_CAUGHT_UP', outcome: 'none' }]);
    assert.deepEqual(c.voters, [0, 1, 2]);
  }
});
