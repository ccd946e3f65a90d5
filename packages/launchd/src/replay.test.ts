// The replay cache: a nonce is accepted once; memory stays bounded without letting a replay in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayCache } from './replay.js';

test('a nonce is accepted once within the window', () => {
  const c = new ReplayCache(30_000);
  assert.equal(c.admit('a', 1000, 1000), true);
  assert.equal(c.admit('a', 1000, 2000), false);
  assert.equal(c.admit('b', 1000, 2000), true);
});

test('nonces whose timestamp left the window are forgotten (the stale check refuses those requests)', () => {
  const c = new ReplayCache(1000);
  c.admit('a', 0, 0);
  c.admit('b', 500, 500);
  c.admit('c', 2000, 2000);
  assert.equal(c.size, 1, 'a and b are swept');
});

test('when full, the oldest is dropped and nothing as old as it is accepted any more', () => {
  const c = new ReplayCache(60_000, 3);
  for (const [n, ts] of [['a', 10], ['b', 20], ['c', 30], ['d', 40]] as const) assert.equal(c.admit(n, ts, 50), true);
  assert.equal(c.size, 3);
  assert.equal(c.admit('a', 10, 50), false, 'the evicted nonce cannot be replayed');
  assert.equal(c.admit('e', 5, 50), false, 'nor anything older');
  assert.equal(c.admit('f', 45, 50), true);
});
