import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { CoreLog, KEEP_LIMIT } from './log.js';

function filled(capacity: number, upTo: number, keepAfter?: number): CoreLog {
  const log = new CoreLog(capacity, []);
  if (keepAfter !== undefined) log.keepAfter(keepAfter);
  for (let i = 1; i <= upTo; i++) log.add({ ep: 1 });
  return log;
}

test('the log holds its capacity and up to a quarter more, dropping the oldest', () => {
  const log = filled(8, 100);
  assert.equal(log.lastIndex, 100);
  const held = log.lastIndex - log.firstAfter;
  assert.ok(held >= 8 && held <= 10, `holds ${held}`);
  assert.equal(log.after(log.firstAfter - 1), undefined);
  assert.deepEqual(log.after(log.firstAfter)?.map((r) => r.i), Array.from({ length: held }, (_, k) => log.firstAfter + 1 + k));
});

test('records after the kept index stay past the capacity, up to KEEP_LIMIT times it', () => {
  const log = filled(8, 8 * KEEP_LIMIT, 0);
  assert.equal(log.firstAfter, 0, 'all 32 kept');
  assert.equal(log.after(0)?.length, 8 * KEEP_LIMIT);
  log.add({ ep: 1 });
  assert.equal(log.lastIndex - log.firstAfter, 8, 'past the limit the capacity wins');
});

test('a kept index that moves on lets the records before it go, a quarter of the capacity at a time', () => {
  const log = filled(8, 20, 0);
  assert.equal(log.firstAfter, 0);
  log.keepAfter(15);
  log.add({ ep: 1 });
  assert.equal(log.firstAfter, 13, 'down to the capacity: 21 - 8');
  log.keepAfter(14);
  for (let i = 0; i < 10; i++) log.add({ ep: 1 });
  assert.equal(log.firstAfter, 13, 'one record could go, not a quarter of the capacity');
  log.keepAfter(16);
  log.add({ ep: 1 });
  assert.equal(log.firstAfter, 16, 'three can go: 32 - 8 would be 24, the kept index stops it at 16');
  assert.deepEqual(log.after(16)?.map((r) => r.i)[0], 17);
});

test('a kept index the log has already dropped does not hold it back', () => {
  const log = filled(8, 40);
  const base = log.firstAfter;
  log.keepAfter(base - 5);
  for (let i = 0; i < 40; i++) log.add({ ep: 1 });
  assert.ok(log.lastIndex - log.firstAfter <= 10, `holds ${log.lastIndex - log.firstAfter}`);
});
