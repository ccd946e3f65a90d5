// Recovery at open: torn tails are cut off, real corruption stops the open with CORRUPT.
import assert from 'node:assert/strict';
import { readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeRecord, encodeRecord, RECORD_HEADER_BYTES } from './record.js';
import { segmentName } from './segment.js';
import { ASIDE_BYTES } from './body-aside.js';
import { encodeSnapshot, snapshotName, SnapshotLines } from './snapshot.js';
import { writeSnapshotStream } from './snapshot-stream.js';
import { StorageError } from './store.js';
import { appendAll, range, Scratch } from './testing.js';

// Byte offset of every record in a segment file.
async function recordOffsets(path: string): Promise<number[]> {
  const buf = await readFile(path);
  const offsets: number[] = [];
  for (let offset = 0; offset < buf.length; ) {
    const r = decodeRecord(buf, offset);
    assert.ok(r.ok, `record at ${offset} decodes`);
    offsets.push(offset);
    offset += r.bytes;
  }
  return offsets;
}

async function flipBit(path: string, offset: number, mask = 0x01): Promise<void> {
  const buf = await readFile(path);
  buf[offset]! ^= mask;
  await writeFile(path, buf);
}

// A store with records 1..n, closed; small segments when asked.
async function filled(s: Scratch, n: number, segmentBytes?: number): Promise<void> {
  const { store } = await s.open(segmentBytes === undefined ? {} : { segmentBytes });
  for (const k of range(1, n)) await appendAll(store, [{ k, pad: 'x'.repeat(20) }]);
  await store.close();
}

function corruptError(...mustName: string[]): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof StorageError, `a StorageError, got ${String(err)}`);
    assert.equal(err.code, 'CORRUPT');
    for (const s of mustName) assert.ok(err.message.includes(s), `message names ${s}: ${err.message}`);
    assert.match(err.message, /restore it from a backup/);
    return true;
  };
}

void test('a last record cut mid-way is dropped; earlier ones survive and appends carry on', async (t) => {
  const s = await Scratch.create(t);
  await filled(s, 20);
  const [segment] = await s.segments();
  assert.ok(segment !== undefined);
  const last = (await recordOffsets(segment)).at(-1)!;
  await truncate(segment, last + RECORD_HEADER_BYTES + 5);

  {
    const { store, recovered } = await s.open();
    assert.deepEqual(recovered.records.map((r) => r.index), range(1, 19));
    assert.equal(recovered.lastIndex, 19);
    assert.deepEqual(recovered.droppedTail, {
      segment,
      offset: last,
      bytes: RECORD_HEADER_BYTES + 5,
      reason: recovered.droppedTail?.reason,
    });
    assert.match(recovered.droppedTail?.reason ?? '', /past end of file/);
    const warning = s.logger.at('warn').find((l) => l.msg.includes('torn'));
    assert.deepEqual([warning?.fields.segment, warning?.fields.offset, warning?.fields.bytes], [segment, last, RECORD_HEADER_BYTES + 5]);
    assert.equal((await stat(segment)).size, last, 'the file is cut back to the last good record');
    assert.deepEqual(await appendAll(store, ['twenty', 'twenty-one']), [20, 21]);
    await store.close();
  }
  const { recovered } = await s.open();
  assert.equal(recovered.droppedTail, undefined);
  assert.deepEqual(recovered.records.map((r) => r.index), range(1, 21));
  assert.deepEqual(recovered.records.slice(-2).map((r) => r.data), ['twenty', 'twenty-one']);
});

void test('a cut inside the header of the last record is a torn tail too', async (t) => {
  const s = await Scratch.create(t);
  await filled(s, 3);
  const [segment] = await s.segments();
  const last = (await recordOffsets(segment!)).at(-1)!;
  await truncate(segment!, last + 3);
  const { recovered } = await s.open();
  assert.equal(recovered.lastIndex, 2);
  assert.match(recovered.droppedTail?.reason ?? '', /short header/);
});

void test('a bit flip in the last record is dropped with a warning', async (t) => {
  const s = await Scratch.create(t);
  await filled(s, 20);
  const [segment] = await s.segments();
  const last = (await recordOffsets(segment!)).at(-1)!;
  const size = (await stat(segment!)).size;
  await flipBit(segment!, last + RECORD_HEADER_BYTES + 10, 0x20);

  const { store, recovered } = await s.open();
  assert.deepEqual(recovered.records.map((r) => r.index), range(1, 19));
  assert.equal(recovered.droppedTail?.offset, last);
  assert.equal(recovered.droppedTail?.bytes, size - last);
  assert.match(recovered.droppedTail?.reason ?? '', /CRC-32C mismatch/);
  assert.equal(s.logger.at('warn').length, 1);
  assert.equal(store.append('next').index, 20);
});

void test('a bit flip in a segment that is not the last is corruption, named with file and offset', async (t) => {
  const s = await Scratch.create(t);
  await filled(s, 30, 200);
  const segments = await s.segments();
  assert.ok(segments.length >= 3, `${segments.length} segments`);
  const victim = segments[1]!;
  const second = (await recordOffsets(victim))[1]!;
  await flipBit(victim, second + RECORD_HEADER_BYTES + 2);
  await assert.rejects(s.open({ segmentBytes: 200 }), corruptError(victim, `offset ${second}`, 'CRC-32C'));
  // The failed open let go of the directory.
  await assert.rejects(readFile(join(s.dir, 'LOCK')), { code: 'ENOENT' });
});

void test('a missing segment (a gap in the indexes) is corruption', async (t) => {
  const s = await Scratch.create(t);
  await filled(s, 30, 200);
  const segments = await s.segments();
  await rm(segments[1]!);
  await assert.rejects(s.open(), corruptError(segments[2]!, 'gap'));
});

void test('a log that does not start where the snapshot (or record 1) leaves off is corruption', async (t) => {
  const s = await Scratch.create(t);
  await filled(s, 30, 200);
  const segments = await s.segments();
  await rm(segments[0]!);
  await assert.rejects(s.open(), corruptError(segments[1]!, 'missing'));
});

void test('a record out of sequence is corruption in a non-last segment and a dropped tail in the last', async (t) => {
  const s = await Scratch.create(t);
  await (await s.open()).store.close();
  const records = [1, 2, 4].map((i) => encodeRecord(i, { i }));
  const first = join(s.walDir, segmentName(1));
  await writeFile(first, Buffer.concat(records));
  await writeFile(join(s.walDir, segmentName(5)), encodeRecord(5, { i: 5 }));
  const offset = records[0]!.length + records[1]!.length;
  await assert.rejects(s.open(), corruptError(first, `offset ${offset}`, 'index 4 where 3 was expected'));

  await rm(join(s.walDir, segmentName(5)));
  const { recovered } = await s.open();
  assert.equal(recovered.lastIndex, 2);
  assert.deepEqual(recovered.droppedTail, { segment: first, offset, bytes: records[2]!.length, reason: 'record has index 4 where 3 was expected' });
});

void test('a snapshot ahead of the log starts a new segment after it', async (t) => {
  const s = await Scratch.create(t);
  await filled(s, 5);
  await writeFile(join(s.dir, snapshotName(8)), encodeSnapshot(8, { at: 8 }));
  {
    const { store, recovered } = await s.open();
    assert.deepEqual(recovered.snapshot, { index: 8, state: { at: 8 } });
    assert.deepEqual(recovered.records, []);
    assert.equal(recovered.lastIndex, 8);
    assert.deepEqual(await appendAll(store, ['nine']), [9]);
    await store.close();
  }
  assert.deepEqual((await s.segments()).map((p) => p.slice(-24)), [segmentName(1), segmentName(9)]);
  const { recovered } = await s.open();
  assert.deepEqual(recovered.records.map(({ index, data }) => ({ index, data })), [{ index: 9, data: 'nine' }]);
});

void test('a record the snapshot covers is passed over unchecked, and checked when recovery falls back on the log before it', async (t) => {
  const s = await Scratch.create(t);
  await filled(s, 30, 200);
  const segments = await s.segments();
  assert.ok(segments.length >= 3, `${segments.length} segments`);
  // The snapshot covers the victim's first two records, so recovery starts in the victim and skips them.
  const victim = segments[1]!;
  const firstIndex = Number(/(\d+)\.log$/.exec(victim)![1]);
  const offsets = await recordOffsets(victim);
  assert.ok(offsets.length >= 3, `${offsets.length} records in ${victim}`);
  const base = firstIndex + 1;
  await writeFile(join(s.dir, snapshotName(base)), encodeSnapshot(base, { upTo: base }));
  // A byte of its data, past the `{"i":N,` that skipping reads.
  await flipBit(victim, offsets[1]! + RECORD_HEADER_BYTES + 14);
  {
    const { store, recovered } = await s.open({ segmentBytes: 200 });
    assert.deepEqual(recovered.snapshot, { index: base, state: { upTo: base } });
    assert.deepEqual(recovered.records.map((r) => r.index), range(base + 1, 30));
    assert.equal(recovered.droppedTail, undefined);
    await store.close();
  }
  // The snapshot found corrupt, every record is needed (the log scanned while it was read, for
  // the snapshot's base, is scanned again): the damaged one is found, named by file and offset.
  await flipBit(join(s.dir, snapshotName(base)), (await stat(join(s.dir, snapshotName(base)))).size - 3);
  await assert.rejects(s.open({ segmentBytes: 200 }), corruptError(victim, `offset ${offsets[1]!}`, 'CRC-32C'));
  assert.ok(s.logger.at('warn').some((l) => l.msg.includes('snapshot is corrupt')), 'the snapshot was found corrupt first');
  // Without it, the same.
  await rm(join(s.dir, snapshotName(base)));
  await assert.rejects(s.open({ segmentBytes: 200 }), corruptError(victim, `offset ${offsets[1]!}`, 'CRC-32C'));
});

void test('a large snapshot is checked on another thread while the log is read, and one found corrupt then is fallen back from', async (t) => {
  const s = await Scratch.create(t);
  await filled(s, 30, 200);
  await writeFile(join(s.dir, snapshotName(10)), encodeSnapshot(10, { upTo: 10 }));
  // Format 3, its body past the size whose checksum is computed aside (and read into shared memory).
  const line = `${JSON.stringify({ pad: 'y'.repeat(1000) })}\n`;
  const count = Math.ceil(ASIDE_BYTES / line.length) + 7;
  async function* batches(): AsyncGenerator<string> {
    for (let i = 0; i < count; i += 1000) yield line.repeat(Math.min(1000, count - i));
  }
  const large = join(s.dir, snapshotName(20));
  await writeSnapshotStream(s.dir, 20, batches());
  {
    const { store, recovered } = await s.open({ segmentBytes: 200 });
    assert.equal(recovered.snapshot?.index, 20);
    const lines = recovered.snapshot.state;
    assert.ok(lines instanceof SnapshotLines);
    assert.equal(lines.count, count);
    assert.equal(lines.line(count - 1), line.trimEnd());
    assert.deepEqual(recovered.records.map((r) => r.index), range(21, 30));
    await store.close();
  }
  // One byte of a line in the middle of the body: only the checksum can tell.
  const bytes = await readFile(large);
  await flipBit(large, bytes.indexOf('yyyy', bytes.length / 2) + 2);
  {
    const { store, recovered } = await s.open({ segmentBytes: 200 });
    assert.deepEqual(recovered.snapshot, { index: 10, state: { upTo: 10 } });
    assert.deepEqual(recovered.records.map((r) => r.index), range(11, 30));
    const warned = s.logger.at('warn').find((l) => l.msg.includes('snapshot is corrupt; falling back to the one before it'));
    assert.ok(warned !== undefined, 'the corrupt snapshot is named in a warning');
    assert.match(JSON.stringify(warned), /CRC-32 mismatch/);
    await store.close();
  }
  // With nothing before it, the log alone; a torn tail is still cut (once the verdict is in).
  await rm(join(s.dir, snapshotName(10)));
  const last = (await s.segments()).at(-1)!;
  await truncate(last, (await stat(last)).size - 3);
  {
    const { store, recovered } = await s.open({ segmentBytes: 200 });
    assert.equal(recovered.snapshot, undefined);
    assert.deepEqual(recovered.records.map((r) => r.index), range(1, 29));
    assert.ok(recovered.droppedTail !== undefined);
    assert.ok(s.logger.at('warn').some((l) => l.msg.includes('snapshot is corrupt; replaying the WAL without it')));
    await store.close();
  }
});
