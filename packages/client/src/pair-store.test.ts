import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PairStore } from './pair-store.js';

const pair = (pairId: string) => ({ pairId, clientTicket: 'c'.repeat(64), serviceTicket: 'd'.repeat(64) });

test('pairs expire after their time and the oldest goes when full', () => {
  let now = 1000;
  const s = new PairStore({ ttlMs: 100, max: 2, now: () => now });
  s.add(pair('a'));
  now += 50;
  s.add(pair('b'));
  assert.equal(s.get('a')?.pairId, 'a');
  s.add(pair('c'));
  assert.equal(s.get('a'), undefined, 'the oldest was dropped');
  assert.equal(s.size, 2);
  now += 60;
  assert.equal(s.get('b')?.pairId, 'b');
  assert.equal(s.size, 2);
  now += 100;
  assert.equal(s.get('b'), undefined);
  assert.equal(s.size, 0);
});

test('wait resolves when the pair arrives, or undefined after the timeout or on clear', async () => {
  const s = new PairStore();
  const waiting = s.wait('x', 5000);
  s.add(pair('x'));
  assert.equal((await waiting)?.pairId, 'x');
  assert.equal((await s.wait('x', 0))?.pairId, 'x');
  assert.equal(await s.wait('nope', 10), undefined);
  const cleared = s.wait('y', 5000);
  s.clear();
  assert.equal(await cleared, undefined);
});
