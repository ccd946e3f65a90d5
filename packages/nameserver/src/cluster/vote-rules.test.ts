import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epochLearned, logAtLeastAsNew, voteRefusal, type VoterState } from './vote-rules.js';

const me = (over: Partial<VoterState> = {}): VoterState => ({
  log: { lastIndex: 10, lastEpoch: 2 }, epoch: 2, votedFor: undefined, hearsPrimary: false, primarySid: undefined, ...over,
});

test('a newer epoch at the end of the log beats a longer log', () => {
  assert.equal(logAtLeastAsNew({ lastIndex: 5, lastEpoch: 3 }, { lastIndex: 10, lastEpoch: 2 }), true);
  assert.equal(logAtLeastAsNew({ lastIndex: 11, lastEpoch: 1 }, { lastIndex: 10, lastEpoch: 2 }), false);
  assert.equal(logAtLeastAsNew({ lastIndex: 10, lastEpoch: 2 }, { lastIndex: 10, lastEpoch: 2 }), true);
  assert.equal(logAtLeastAsNew({ lastIndex: 9, lastEpoch: 2 }, { lastIndex: 10, lastEpoch: 2 }), false);
});

test('a candidate whose log lacks what we have never gets our vote, whatever its epoch', () => {
  const r = voteRefusal({ t: 'vote', epoch: 99, lastIndex: 9, lastEpoch: 2 }, 1, me());
  assert.equal(r?.rule, 'log');
});

test('nobody gets a vote while we still hear a primary (a member cut off alone cannot depose it)', () => {
  assert.equal(voteRefusal({ t: 'prevote', epoch: 3, lastIndex: 10, lastEpoch: 2 }, 1, me({ hearsPrimary: true, primarySid: 0 }))?.rule, 'primary');
});

test('one vote per epoch: the same candidate may ask again, another may not', () => {
  const voted = me({ epoch: 3, votedFor: 1 });
  assert.equal(voteRefusal({ t: 'vote', epoch: 3, lastIndex: 10, lastEpoch: 2 }, 1, voted), undefined);
  assert.equal(voteRefusal({ t: 'vote', epoch: 3, lastIndex: 10, lastEpoch: 2 }, 2, voted)?.rule, 'voted');
  assert.equal(voteRefusal({ t: 'vote', epoch: 4, lastIndex: 10, lastEpoch: 2 }, 2, voted), undefined, 'a newer epoch is a new vote');
  assert.equal(voteRefusal({ t: 'vote', epoch: 2, lastIndex: 10, lastEpoch: 2 }, 2, voted)?.rule, 'epoch');
});

test('a prevote needs an epoch newer than ours, and grants nothing that is kept', () => {
  assert.equal(voteRefusal({ t: 'prevote', epoch: 2, lastIndex: 10, lastEpoch: 2 }, 1, me())?.rule, 'epoch');
  assert.equal(voteRefusal({ t: 'prevote', epoch: 3, lastIndex: 10, lastEpoch: 2 }, 1, me()), undefined);
});

test('a vote in our own epoch goes to the first candidate that asks', () => {
  assert.equal(voteRefusal({ t: 'vote', epoch: 2, lastIndex: 10, lastEpoch: 2 }, 3, me()), undefined);
});

test('each refusal says why, with the numbers', () => {
  const reason = (req: Parameters<typeof voteRefusal>[0], state: VoterState) => voteRefusal(req, 2, state)?.reason;
  assert.equal(reason({ t: 'vote', epoch: 5, lastIndex: 9, lastEpoch: 2 }, me()), 'its log (9@2) is behind ours (10@2)');
  assert.equal(reason({ t: 'vote', epoch: 5, lastIndex: 10, lastEpoch: 2 }, me({ hearsPrimary: true, primarySid: 0 })), 'we still hear the primary (SID 0)');
  assert.equal(reason({ t: 'prevote', epoch: 2, lastIndex: 10, lastEpoch: 2 }, me()), 'epoch 2 is not newer than ours (2)');
  assert.equal(reason({ t: 'vote', epoch: 1, lastIndex: 10, lastEpoch: 2 }, me()), 'epoch 1 is older than ours (2)');
  assert.equal(reason({ t: 'vote', epoch: 2, lastIndex: 10, lastEpoch: 2 }, me({ votedFor: 1 })), 'we already voted in epoch 2');
});

test('a member refusing a request for its log takes up the epoch the requester reached, unless it hears a primary', () => {
  assert.equal(epochLearned({ t: 'vote', epoch: 5, lastIndex: 9, lastEpoch: 2 }, me()), 5);
  assert.equal(epochLearned({ t: 'prevote', epoch: 5, lastIndex: 9, lastEpoch: 2 }, me()), 4);
  assert.equal(epochLearned({ t: 'prevote', epoch: 3, lastIndex: 9, lastEpoch: 2 }, me()), undefined);
  assert.equal(epochLearned({ t: 'vote', epoch: 5, lastIndex: 9, lastEpoch: 2 }, me({ hearsPrimary: true })), undefined);
  assert.equal(epochLearned({ t: 'vote', epoch: 5, lastIndex: 10, lastEpoch: 2 }, me()), undefined);
});
