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

test('a new tail ends where its snapshot did', () => {
  const t = new LogTail(4, 10, 3);
  assert.equal(t.lastIndex, 10);
  assert.equal(t.lastEpoch, 3);
  assert.equal(t.epochAt(10), 3);
  assert.deepEqual(t.after(10, 5), []);
  assert.equal(t.after(9, 5), undefined);
});

test('the last epoch is the newest record\'s', () => {
  const t = new LogTail(100);
  for (const [i, ep] of [[1, 1], [2, 1], [3, 1], [4, 2]] as const) t.push(i, rec(ep));
  assert.equal(t.lastEpoch, 2);
  t.push(5, { ops: [] });
  assert.equal(t.epochAt(5), 0, 'a record from before epochs is epoch 0');
});

test('a tail keeps up to a quarter over its capacity, then trims to it, remembering where it was cut', () => {
  const t = new LogTail(4);
  for (let i = 1; i <= 5; i++) t.push(i, rec(3));
  assert.deepEqual(t.after(0, 10)?.map((r) => r.i), [1, 2, 3, 4, 5], '5 records: within a quarter over');
  t.push(6, rec(3));
  assert.equal(t.lastIndex, 6);
  assert.equal(t.after(1, 10), undefined);
  assert.deepEqual(t.after(2, 10)?.map((r) => r.i), [3, 4, 5, 6]);
  assert.equal(t.epochAt(2), 3, 'the epoch of the last record cut off');
  assert.deepEqual(t.after(3, 2)?.map((r) => r.i), [4, 5], 'at most max');
});

test('truncateFrom forgets the records from an index on', () => {
  const t = new LogTail(100, 10, 1);
  for (let i = 11; i <= 15; i++) t.push(i, rec(1));
  t.truncateFrom(16);
  assert.equal(t.lastIndex, 15, 'past the end: nothing to forget');
  t.truncateFrom(14);
  assert.equal(t.lastIndex, 13);
  assert.deepEqual(t.after(10, 10)?.map((r) => r.i), [11, 12, 13]);
  t.truncateFrom(11);
  assert.equal(t.lastIndex, 10);
  t.push(11, rec(2));
  t.truncateFrom(10);
  assert.equal(t.lastIndex, 9, 'from the tail\'s base: the log ends before it');
  assert.deepEqual(t.after(9, 10), []);
  t.push(10, rec(2));
  t.push(11, rec(2));
  assert.equal(t.lastIndex, 11, 'and goes on from there');
  t.truncateFrom(5);
  assert.equal(t.lastIndex, 4, 'from before the tail (a batch longer than a short tail): the log ends before that too');
  assert.deepEqual(t.after(4, 10), []);
  assert.equal(t.epochAt(4), 1, 'the base epoch is kept');
});
