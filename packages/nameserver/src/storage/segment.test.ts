// Segment file names, scanning a segment, and truncating it.
import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeRecord } from './record.js';
import { listSegments, scanSegment, segmentName, truncateSegment } from './segment.js';
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
