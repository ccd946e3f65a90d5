// Segment file names, scanning a segment, and truncating it.
import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32c } from './crc32c.js';
import { StorageError } from './errors.js';
import { encodeRecord, RECORD_HEADER_BYTES } from './record.js';
import { listSegments, parseWhilePending, scanSegment, segmentName, truncateSegment } from './segment.js';
import { Scratch } from './testing.js';

void test('segment names carry the first index in 16 digits and sort in index order', async (t) => {
  const s = await Scratch.create(t);
  assert.equal(segmentName(1), 'wal-0000000000000001.log');
  for (const first of [100, 9, 1]) await writeFile(join(s.dir, segmentName(first)), '');
  await writeFile(join(s.dir, 'notes.txt'), '');
  await writeFile(join(s.dir, 'wal-12.log'), '');
  assert.deepEqual((await listSegments(s.dir)).map((f) => f.firstIndex), [1, 9, 100]);
  assert.deepEqual(await listSegments(join(s.dir, 'missing')), []);
});

void test('scanSegment reads records in sequence and stops at the first bad one', async (t) => {
  const s = await Scratch.create(t);
  const path = join(s.dir, segmentName(5));
  const good = [encodeRecord(5, 'a'), encodeRecord(6, 'b')];
  await writeFile(path, Buffer.concat([...good, encodeRecord(8, 'skipped one'), encodeRecord(9, 'd')]));
  const scan = await scanSegment(path, 5);
  assert.deepEqual(scan.records.map(({ index, data }) => ({ index, data })), [{ index: 5, data: 'a' }, { index: 6, data: 'b' }]);
  const goodBytes = good[0]!.length + good[1]!.length;
  assert.equal(scan.goodBytes, goodBytes);
  assert.deepEqual(scan.bad, { offset: goodBytes, reason: 'record has index 8 where 7 was expected' });

  await truncateSegment(path, goodBytes);
  assert.equal((await stat(path)).size, goodBytes);
  const again = await scanSegment(path, 5);
  assert.equal(again.bad, undefined);
  assert.equal(again.records.length, 2);
  // Records a snapshot covers are checked and counted, not returned.
  const skipping = await scanSegment(path, 5, 5);
  assert.deepEqual([skipping.skipped, skipping.records.map(({ index, data }) => ({ index, data }))], [1, [{ index: 6, data: 'b' }]]);
});

/** Whether a scanned record holds its data parsed (an own value), not parsed when read. */
function held(r: { data: unknown }): boolean {
  return Object.getOwnPropertyDescriptor(r, 'data') !== undefined;
}

void test('parseWhilePending parses records in order until the promise settles, and not at all once it has', async (t) => {
  const s = await Scratch.create(t);
  const path = join(s.dir, segmentName(1));
  const data = (i: number): unknown => ({ ops: [{ t: 'put', e: { name: `/p/s${i}`, port: i } }] });
  await writeFile(path, Buffer.concat(Array.from({ length: 5000 }, (_, k) => encodeRecord(k + 1, data(k + 1)))));

  const settledAlready = (await scanSegment(path, 1)).records;
  assert.equal(await parseWhilePending(settledAlready, Promise.resolve()), 0);
  assert.ok(!settledAlready.some(held), 'nothing parsed for a promise already settled');

  const { records } = await scanSegment(path, 1);
  // Settles after a few turns: the first steps are parsed, the rest are not.
  const pending = new Promise((r) => setImmediate(() => setImmediate(() => setImmediate(r))));
  const n = await parseWhilePending(records, pending);
  assert.ok(n > 0 && n < records.length, `parsed ${n} of ${records.length}`);
  assert.deepEqual(records.map(held), records.map((_, k) => k < n), 'the first n records are held parsed, in order');
  assert.deepEqual(records.map(({ index, data: d }) => ({ index, data: d })), records.map((_, k) => ({ index: k + 1, data: data(k + 1) })));

  // A rejected promise settles it too.
  const rejected = (await scanSegment(path, 1)).records;
  const failing = Promise.reject(new Error('the snapshot did not check out'));
  failing.catch(() => undefined);
  assert.equal(await parseWhilePending(rejected, failing), 0);
});

void test('parseWhilePending stops at a record whose data does not parse, which still throws CORRUPT when read', async (t) => {
  const s = await Scratch.create(t);
  const path = join(s.dir, segmentName(1));
  const notJson = Buffer.from('{"i":3,"d":', 'utf8');
  const header = Buffer.alloc(RECORD_HEADER_BYTES);
  header.writeUInt32LE(notJson.length, 0);
  header.writeUInt32LE(crc32c(notJson), 4);
  await writeFile(path, Buffer.concat([encodeRecord(1, 'a'), encodeRecord(2, 'b'), header, notJson, encodeRecord(4, 'd')]));
  const { records } = await scanSegment(path, 1);
  assert.equal(records.length, 4);
  assert.equal(await parseWhilePending(records, new Promise(() => undefined)), 2);
  assert.deepEqual(records.map(held), [true, true, false, false]);
  assert.throws(() => records[2]!.data, (err: unknown) => err instanceof StorageError && err.code === 'CORRUPT');
  assert.equal(records[3]!.data, 'd');
});
