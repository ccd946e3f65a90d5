import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { epochLearned, logAtLeastAsNew, voteRefusal, type VoterState } from './vote-rules.js';

const me: VoterState = { log: { lastIndex: 10, lastEpoch: 3 }, epoch: 3, votedFor: undefined, hearsPrimary: false, primarySid: undefined };

test('a log is at least as new by the epoch of its last record first, then its length', () => {
  assert.ok(logAtLeastAsNew({ lastIndex: 1, lastEpoch: 4 }, { lastIndex: 10, lastEpoch: 3 }));
  assert.ok(logAtLeastAsNew({ lastIndex: 10, lastEpoch: 3 }, { lastIndex: 10, lastEpoch: 3 }));
  assert.ok(!logAtLeastAsNew({ lastIndex: 9, lastEpoch: 3 }, { lastIndex: 10, lastEpoch: 3 }));
});

test('the rules, in their order', () => {
  assert.equal(voteRefusal({ t: 'vote', epoch: 4, lastIndex: 9, lastEpoch: 3 }, 1, me)?.rule, 'log');
  assert.equal(voteRefusal({ t: 'vote', epoch: 4, lastIndex: 9, lastEpoch: 3 }, 1, me, true), undefined);
  assert.equal(voteRefusal({ t: 'vote', epoch: 4, lastIndex: 10, lastEpoch: 3 }, 1, { ...me, hearsPrimary: true })?.rule, 'primary');
  assert.equal(voteRefusal({ t: 'prevote', epoch: 3, lastIndex: 10, lastEpoch: 3 }, 1, me)?.rule, 'epoch');
  assert.equal(voteRefusal({ t: 'prevote', epoch: 4, lastIndex: 10, lastEpoch: 3 }, 1, me), undefined);
  assert.equal(voteRefusal({ t: 'vote', epoch: 2, lastIndex: 10, lastEpoch: 3 }, 1, me)?.rule, 'epoch');
  assert.equal(voteRefusal({ t: 'vote', epoch: 3, lastIndex: 10, lastEpoch: 3 }, 1, { ...me, votedFor: 2 })?.rule, 'voted');
  assert.equal(voteRefusal({ t: 'vote', epoch: 3, lastIndex: 10, lastEpoch: 3 }, 2, { ...me, votedFor: 2 }), undefined);
});

test('a member refusing a request for its log takes up the epoch the requester reached, unless it hears a primary', () => {
  assert.equal(epochLearned({ t: 'vote', epoch: 5, lastIndex: 9, lastEpoch: 3 }, me), 5);
  assert.equal(epochLearned({ t: 'prevote', epoch: 5, lastIndex: 9, lastEpoch: 3 }, me), 4);
  assert.equal(epochLearned({ t: 'prevote', epoch: 4, lastIndex: 9, lastEpoch: 3 }, me), undefined);
  assert.equal(epochLearned({ t: 'vote', epoch: 5, lastIndex: 9, lastEpoch: 3 }, { ...me, hearsPrimary: true }), undefined);
  assert.equal(epochLearned({ t: 'vote', epoch: 5, lastIndex: 10, lastEpoch: 3 }, me), undefined);
});
