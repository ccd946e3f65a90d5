// Snapshot files: format, verification, atomic writing and removal.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32c } from './crc32c.js';
import { decodeSnapshot, encodeSnapshot, listSnapshots, removeSnapshotsExcept, snapshotName, writeSnapshot } from './snapshot.js';
import { Scratch, spyOnFileHandles } from './testing.js';

function reasonOf(buf: Buffer, index: number): string {
  const r = decodeSnapshot(buf, index);
  assert.equal(r.ok, false, 'expected a bad snapshot');
  return r.ok ? '' : r.reason;
}

void test('a snapshot is a checksummed header line and then the state', () => {
  const state = { services: { '/a': { host: 'h', port: 1 } }, note: 'ü' };
  const buf = encodeSnapshot(12, state);
  const newline = buf.indexOf(0x0a);
  const body = buf.subarray(newline + 1);
  assert.deepEqual(JSON.parse(buf.subarray(0, newline).toString()), { format: 1, index: 12, crc32c: crc32c(body), bytes: body.length });
  assert.deepEqual(JSON.parse(body.toString()), state);
  assert.deepEqual(decodeSnapshot(buf, 12), { ok: true, state });
});

void test('decodeSnapshot refuses a damaged or mismatched snapshot', () => {
  const buf = encodeSnapshot(3, { a: [1, 2, 3] });
  const flipped = Buffer.from(buf);
  flipped[flipped.length - 3]! ^= 0x01;
  assert.match(reasonOf(flipped, 3), /CRC-32C mismatch/);
  assert.match(reasonOf(buf.subarray(0, buf.length - 1), 3), /bytes/);
  assert.match(reasonOf(buf, 4), /does not match/);
  assert.match(reasonOf(Buffer.from('garbage'), 3), /no header line/);
  assert.match(reasonOf(Buffer.from('{"format":4,"index":3}\n{}'), 3), /unknown format/);
  assert.throws(() => encodeSnapshot(1, undefined), TypeError);
});

void test('writeSnapshot leaves only the finished file; removeSnapshotsExcept keeps what it is told', async (t) => {
  const s = await Scratch.create(t);
  for (const index of [1, 5, 9]) await writeSnapshot(s.dir, index, encodeSnapshot(index, { index }));
  await writeFile(join(s.dir, `${snapshotName(10)}.tmp`), 'half');
  assert.deepEqual((await listSnapshots(s.dir)).map((f) => f.index), [1, 5, 9]);
  assert.deepEqual(decodeSnapshot(await readFile(join(s.dir, snapshotName(9))), 9), { ok: true, state: { index: 9 } });

  await removeSnapshotsExcept(s.dir, new Set([5, 9]));
  assert.deepEqual((await readdir(s.dir)).sort(), [snapshotName(5), snapshotName(9)]);
});

void test('an old snapshot is renamed out of the way and cut down in steps before it is unlinked', async (t) => {
  const s = await Scratch.create(t);
  const big = Buffer.alloc(1024 * 1024 + 10, 0x20);
  for (const index of [1, 5, 9]) await writeSnapshot(s.dir, index, index === 1 ? big : encodeSnapshot(index, { index }));
  // Each cut, with the data directory as it was then.
  const cuts: { len: number | undefined; files: string[] }[] = [];
  await spyOnFileHandles(t, s.dir, 'truncate', async (_fh, [len]) => {
    cuts.push({ len, files: (await readdir(s.dir)).sort() });
  });
  assert.deepEqual(await removeSnapshotsExcept(s.dir, new Set([5, 9]), 256 * 1024), [snapshotName(1)]);
  assert.deepEqual(cuts.map((c) => c.len), [big.length - 256 * 1024, big.length - 512 * 1024, big.length - 768 * 1024, big.length - 1024 * 1024]);
  // Cut under a temp file's name only: a crash half-way leaves nothing that would be read as a snapshot.
  for (const c of cuts) assert.deepEqual(c.files, [`${snapshotName(1)}.tmp`, snapshotName(5), snapshotName(9)]);
  assert.deepEqual((await readdir(s.dir)).sort(), [snapshotName(5), snapshotName(9)]);
});

void test('a snapshot to remove beside a leftover temp file of the same index: both go, once', async (t) => {
  const s = await Scratch.create(t);
  for (const index of [1, 5]) await writeSnapshot(s.dir, index, encodeSnapshot(index, { index }));
  await writeFile(join(s.dir, `${snapshotName(1)}.tmp`), 'half');
  assert.deepEqual((await removeSnapshotsExcept(s.dir, new Set([5]))).sort(), [snapshotName(1), `${snapshotName(1)}.tmp`].sort());
  assert.deepEqual(await readdir(s.dir), [snapshotName(5)]);
});

void test('a snapshot is flushed every syncBytes as it is written, under its temp name, and is whole at the end', async (t) => {
  const s = await Scratch.create(t);
  const contents = encodeSnapshot(7, { pad: 'x'.repeat(1024 * 1024) });
  // How far the temp file had got at each flush.
  const flushed: number[] = [];
  await spyOnFileHandles(t, s.dir, 'datasync', async (fh) => {
    flushed.push((await fh.stat()).size);
  });
  await writeSnapshot(s.dir, 7, contents, 256 * 1024);
  assert.deepEqual(flushed, [1, 2, 3, 4].map((k) => k * 256 * 1024), 'a flush each 256 KiB but after the last (the file\'s own sync follows)');
  assert.deepEqual(await readFile(join(s.dir, snapshotName(7))), contents);
});
