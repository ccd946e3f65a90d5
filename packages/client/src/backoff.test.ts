import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff.js';

test('doubles from min to max, jittered within [d/2, d], and resets', () => {
  const b = new Backoff({ minDelayMs: 50, maxDelayMs: 2000 });
  const top = () => 1;
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(() => b.next(top)), [50, 100, 200, 400, 800, 1600, 2000]);
  assert.equal(b.next(() => 0), 1000);
  b.reset();
  assert.equal(b.next(() => 0), 25);
  for (let i = 0; i < 100; i++) {
    const d = b.next();
    assert.ok(d >= 25 && d <= 2000, String(d));
  }
});
