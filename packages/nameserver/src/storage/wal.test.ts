// The WAL write path: group commit, segment roll, and failures that cannot be taken back being fatal.
import assert from 'node:assert/strict';
import { access, readFile, stat, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { decodeRecord } from './record.js';
import { segmentName } from './segment.js';
import { StorageError } from './store.js';
import { appendAll, range, Scratch } from './testing.js';

void test('1000 appends at once share a handful of writes and fsyncs, and resolve in index order', async (t) => {
  const s = await Scratch.create(t);
  const { store } = await s.open();
  const appends = range(1, 1000).map((n) => store.append({ n }));
  assert.deepEqual(appends.map((a) => a.index), range(1, 1000), 'indexes are assigned at the call');
  assert.equal(store.lastIndex, 1000);
  const resolved: number[] = [];
  await Promise.all(appends.map((a) => a.durable.then(() => resolved.push(a.index))));
  assert.deepEqual(resolved, range(1, 1000));
  const { appends: count, writes, fsyncs } = store.stats;
  assert.equal(count, 1000);
  assert.equal(writes, fsyncs, 'one write per fsync');
  assert.ok(fsyncs <= 5, `${fsyncs} fsyncs for 1000 appends`);
});

void test('appends made while an fsync is in flight go out together in the next batch', async (t) => {
  const s = await Scratch.create(t);
  const { store } = await s.open();
  const first = store.append('first');
  // Issued from a later turn of the event loop, while the first batch is on its way to the disk.
  const later = await new Promise<{ index: number; durable: Promise<void> }[]>((resolve) =>
    setImmediate(() => resolve(range(1, 100).map((n) => store.append({ n })))),
  );
  await Promise.all([first.durable, ...later.map((a) => a.durable)]);
  assert.ok(store.stats.fsyncs <= 3, `${store.stats.fsyncs} fsyncs for 101 appends`);
});

void test('the WAL rolls to a new segment, named for its first record, once one passes segmentBytes', async (t) => {
  const s = await Scratch.create(t);
  const { store } = await s.open({ segmentBytes: 300 });
  for (const n of range(1, 40)) await appendAll(store, [{ n, pad: 'x'.repeat(30) }]);
  await store.close();
  const segments = await s.segments();
  assert.ok(segments.length >= 5, `${segments.length} segments`);
  assert.equal(basename(segments[0]!), segmentName(1));
  for (const path of segments.slice(0, -1)) {
    const size = (await stat(path)).size;
    assert.ok(size >= 300 && size < 300 + 60, `${basename(path)} is ${size} bytes`);
  }
  const { recovered } = await s.open({ segmentBytes: 300 });
  assert.deepEqual(recovered.records.map((r) => r.index), range(1, 40));
  for (const path of segments) {
    const first = decodeRecord(await readFile(path), 0);
    assert.ok(first.ok && segmentName(first.index) === basename(path), `${basename(path)} starts with its own index`);
  }
});

void test('a failed write that cannot be cut back (a device, not a file) fails the store for good', async (t) => {
  try {
    await access('/dev/full');
  } catch {
    t.skip('no /dev/full here');
    return;
  }
  const s = await Scratch.create(t);
  const { store } = await s.open();
  // The first segment is created on the first write; make it a device where every write fails.
  await symlink('/dev/full', join(s.walDir, segmentName(1)));
  const batch = range(1, 3).map((n) => store.append(n));
  const isFailed = (err: unknown) => err instanceof StorageError && err.code === 'FAILED';
  for (const a of batch) await assert.rejects(a.durable, isFailed);
  assert.equal(store.state, 'failed');
  assert.throws(() => store.append('after'), isFailed);
  await assert.rejects(store.snapshot(1, {}), isFailed);
  assert.equal(store.lastIndex, 3, 'a refused append takes no index');
  const errors = s.logger.at('error');
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]?.fields.error), /ENOSPC/);
  assert.equal(store.stats.fsyncs, 0);
  await store.close();
  assert.equal(store.state, 'closed');
  await assert.rejects(readFile(join(s.dir, 'LOCK')), { code: 'ENOENT' });
});
