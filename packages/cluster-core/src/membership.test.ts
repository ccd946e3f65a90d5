import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { CoreLog } from './log.js';
import { applyChange, majoritiesMayBeDisjoint, votersOf } from './membership.js';

function subsets(n: number): number[][] {
  const all: number[][] = [];
  for (let mask = 1; mask < 1 << n; mask++) all.push(Array.from({ length: n }, (_, s) => s).filter((s) => (mask & (1 << s)) !== 0));
  return all;
}

test('configurations one single-member change apart always share a member between any two majorities', () => {
  for (const a of subsets(7)) {
    for (let sid = 0; sid < 7; sid++) {
      const b = applyChange(a, { op: a.includes(sid) ? 'remove' : 'add', sid });
      if (b.length === 0) continue;
      assert.equal(majoritiesMayBeDisjoint(a, b), false, `${a.join(',')} -> ${b.join(',')}`);
    }
  }
});

test('two changes at once can leave two disjoint majorities (3 -> 5, 5 -> 3, an add and a remove)', () => {
  assert.equal(majoritiesMayBeDisjoint([0, 1, 2], [0, 1, 2, 3, 4]), true);
  assert.equal(majoritiesMayBeDisjoint([0, 1, 2, 3, 4], [0, 1, 2]), true);
  assert.equal(majoritiesMayBeDisjoint([0, 1, 2], [1, 2, 3]), true);
  assert.equal(majoritiesMayBeDisjoint([0, 1, 2], [0, 1, 2]), false);
});

test('a configuration record names its voters; anything else is not one', () => {
  assert.deepEqual(votersOf({ ep: 2, config: { voters: [0, 1, 3], change: { op: 'add', sid: 3 } } }), [0, 1, 3]);
  assert.equal(votersOf({ ep: 2 }), undefined);
  assert.equal(votersOf({ ep: 2, config: { voters: ['a'] } }), undefined);
  assert.equal(votersOf({ ep: 2, config: null }), undefined);
});

test('the log knows the configuration in effect at each index, across a trimmed tail and a snapshot', () => {
  const log = new CoreLog(4, [{ i: 1, d: { ep: 1 } }], 0, 0, [0, 1, 2]);
  assert.deepEqual(log.config, { index: 0, voters: [0, 1, 2] });
  log.add({ ep: 1, config: { voters: [0, 1, 2, 3], change: { op: 'add', sid: 3 } } });
  log.add({ ep: 1 });
  log.add({ ep: 1, config: { voters: [0, 1, 3], change: { op: 'remove', sid: 2 } } });
  assert.deepEqual(log.config, { index: 4, voters: [0, 1, 3] });
  assert.deepEqual(log.configAt(3).voters, [0, 1, 2, 3]);
  assert.deepEqual(log.configAt(1).voters, [0, 1, 2]);
  // Trimming the tail keeps what was in effect at its new base.
  for (let k = 0; k < 6; k++) log.add({ ep: 1 });
  assert.deepEqual(log.configAt(4).voters, [0, 1, 3]);
  assert.deepEqual(log.config.voters, [0, 1, 3]);
  log.reset(20, 2, [4, 5, 6]);
  assert.deepEqual(log.config, { index: 20, voters: [4, 5, 6] });
});
