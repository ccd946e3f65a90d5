import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogTail } from './log-tail.js';

const rec = (ep: number) => ({ ops: [], ep });

test('the tail answers epochs and records after an index, and forgets the oldest past its capacity', () => {
  const t = new LogTail(4, 10, 1);
  for (let i = 11; i <= 20; i++) t.push(i, rec(i < 15 ? 1 : 2));
  assert.equal(t.lastIndex, 20);
  assert.equal(t.lastEpoch, 2);
  assert.equal(t.epochAt(20), 2);
  // Capacity 4 (trimmed at 5): 16..20 or so are kept; 10 is long gone.
  assert.equal(t.epochAt(10), undefined);
  assert.equal(t.after(10, 100), undefined, 'records before the tail need a snapshot');
  assert.deepEqual(t.after(18, 100)?.map((r) => r.i), [19, 20]);
  assert.deepEqual(t.after(20, 100), []);
});

test('a gap (a snapshot installed) starts the tail over just before the new record', () => {
  const t = new LogTail(100);
  t.push(1, rec(1));
  t.push(50, rec(3));
  assert.equal(t.after(1, 10), undefined);
  assert.deepEqual(t.after(49, 10)?.map((r) => r.i), [50]);
  t.reset(70, 4);
  assert.equal(t.lastIndex, 70);
  assert.equal(t.epochAt(70), 4);
  assert.equal(t.lastEpoch, 4);
});
