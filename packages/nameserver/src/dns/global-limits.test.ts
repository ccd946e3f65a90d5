import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GlobalLimits } from './global-limits.js';

test('the global query rate: a burst of as many as a second allows, then refills with time', () => {
  let now = 0;
  const g = new GlobalLimits(3, 10, () => now);
  assert.deepEqual([g.takeQuery(), g.takeQuery(), g.takeQuery(), g.takeQuery()], [true, true, true, false]);
  now += 334;
  assert.equal(g.takeQuery(), true, 'a third of a second refills one of three a second');
  assert.equal(g.takeQuery(), false);
});

test('launch waits: at most maxLaunchWaits at once, and a wait that ends frees its place', () => {
  const g = new GlobalLimits(100, 2);
  assert.equal(g.enterLaunch(), true);
  assert.equal(g.enterLaunch(), true);
  assert.equal(g.enterLaunch(), false, 'a third wait past the cap of 2');
  assert.equal(g.launchesInFlight, 2, 'a refused wait is not counted');
  g.leaveLaunch();
  assert.equal(g.launchesInFlight, 1);
  assert.equal(g.enterLaunch(), true);
  assert.equal(g.enterLaunch(), false);
});
