import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { EventQueue } from './event-queue.js';

test('actions run earliest first, and in the order planned at one time', () => {
  const q = new EventQueue();
  const seen: string[] = [];
  q.at(5, () => seen.push('b'));
  q.at(1, () => {
    seen.push('a');
    q.at(5, () => seen.push('c'));
    q.at(0, () => seen.push('now'));
  });
  q.at(9, () => seen.push('late'));
  while (q.runOne(8));
  assert.deepEqual(seen, ['a', 'now', 'b', 'c']);
  assert.equal(q.now, 5);
  assert.equal(q.size, 1);
});
