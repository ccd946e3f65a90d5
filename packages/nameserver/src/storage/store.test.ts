// The Store API end to end: reopen round trips, snapshots, close and refusals.
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { segmentName } from './segment.js';
import { encodeSnapshot, snapshotName } from './snapshot.js';
import { Store, StorageError } from './store.js';
import { appendAll, range, Scratch } from './testing.js';

function isCode(code: StorageError['code']): (err: unknown) => boolean {
  return (err: unknown) => err instanceof StorageError && err.code === code;
}

void test('an empty directory opens as a fresh store, with private directories', async (t) => {
  const s = await Scratch.create(t);
  const dir = join(s.dir, 'data', 'nested');
  const { store, recovered } = await s.open({ dir });
  assert.deepEqual(recovered, { snapshot: undefined, records: [], lastIndex: 0 });
  assert.equal(store.lastIndex, 0);
  assert.equal(store.state, 'open');
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  assert.equal((await stat(join(dir, 'wal'))).mode & 0o777, 0o700);
  assert.equal((await readFile(join(dir, 'LOCK'), 'utf8')).trim(), String(process.pid));
  await store.close();
});

void test('records survive a reopen, and appends continue after them', async (t) => {
  const s = await Scratch.create(t);
  const data = [{ op: 'add', name: '/a', port: 1 }, 'ünïcødé ✓', null, 3.5, [1, [2, { x: true }]]];
  {
    const { store } = await s.open();
    const first = store.append(data[0]);
    assert.equal(first.index, 1);
    assert.equal(store.append(data[1]).index, 2);
    assert.deepEqual(await appendAll(store, data.slice(2)), [3, 4, 5]);
    await first.durable;
    await store.close();
  }
  {
    const { store, recovered } = await s.open();
    assert.equal(recovered.lastIndex, 5);
    assert.deepEqual(recovered.records.map(({ index, data }) => ({ index, data })), data.map((d, k) => ({ index: k + 1, data: d })));
    assert.equal(recovered.droppedTail, undefined);
    assert.deepEqual(await appendAll(store, ['six']), [6]);
    await store.close();
  }
  const { recovered } = await s.open();
  assert.deepEqual(recovered.records.map((r) => r.index), range(1, 6));
  assert.equal(recovered.records[5]?.data, 'six');
});

void test('close flushes appends still queued, and is safe to call twice', async (t) => {
  const s = await Scratch.create(t);
  const { store } = await s.open();
  const pending = range(1, 50).map((n) => store.append({ n }));
  const closing = store.close();
  assert.equal(store.state, 'closed');
  await Promise.all([closing, store.close(), ...pending.map((p) => p.durable)]);
  await assert.rejects(readFile(join(s.dir, 'LOCK')), { code: 'ENOENT' });
  const { recovered } = await s.open();
  assert.deepEqual(recovered.records.map((r) => r.index), range(1, 50));
});

void test('append and snapshot after close are refused with CLOSED', async (t) => {
  const s = await Scratch.create(t);
  const { store } = await s.open();
  await appendAll(store, ['a']);
  await store.close();
  assert.throws(() => store.append('late'), isCode('CLOSED'));
  await assert.rejects(store.snapshot(1, {}), isCode('CLOSED'));
  assert.equal(store.lastIndex, 1);
});

void test('a second open of the same directory in this process is refused with LOCKED', async (t) => {
  const s = await Scratch.create(t);
  await s.open();
  await assert.rejects(s.open(), isCode('LOCKED'));
});

void test('a snapshot restores exactly, and segments it and its predecessor do not need are removed', async (t) => {
  const s = await Scratch.create(t);
  const stateAt = (n: number) => ({ count: n, names: range(1, n).map((k) => `/svc/${k}`) });
  {
    const { store } = await s.open({ segmentBytes: 512 });
    await appendAll(store, range(1, 30).map((n) => ({ n })));
    await store.snapshot(30, stateAt(30));
    await appendAll(store, range(31, 60).map((n) => ({ n })));
    await store.snapshot(60, stateAt(60));
    await appendAll(store, range(61, 90).map((n) => ({ n })));
    await store.snapshot(90, stateAt(90));
    await appendAll(store, range(91, 95).map((n) => ({ n })));
    await store.close();
  }
  // Kept: snapshots 60 and 90, and the segments from 61 on, which snapshot 60 needs.
  assert.deepEqual((await readdir(s.dir)).filter((n) => n.startsWith('snap-')).sort(), [snapshotName(60), snapshotName(90)]);
  const segments = (await readdir(s.walDir)).sort();
  assert.equal(segments[0], segmentName(61));
  const { recovered } = await s.open({ segmentBytes: 512 });
  assert.deepEqual(recovered.snapshot, { index: 90, state: stateAt(90) });
  assert.deepEqual(recovered.records.map(({ index, data }) => ({ index, data })), range(91, 95).map((n) => ({ index: n, data: { n } })));
  assert.equal(recovered.lastIndex, 95);
});

void test('openReplaced stores the snapshot file in place of everything, and opens on the state it was given', async (t) => {
  const s = await Scratch.create(t);
  {
    const { store } = await s.open();
    await appendAll(store, range(1, 20).map((n) => ({ n })));
    await store.close();
  }
  const state = { count: 3, names: ['/a', '/b', '/c'] };
  const { store, recovered } = await Store.openReplaced({ dir: s.dir, logger: s.logger }, { index: 50, contents: encodeSnapshot(50, state), state });
  try {
    // Taken as given, not read back: the very object.
    assert.equal(recovered.snapshot?.state, state);
    assert.equal(recovered.snapshot?.index, 50);
    assert.deepEqual(recovered.records, []);
    assert.equal(recovered.lastIndex, 50);
    assert.deepEqual((await readdir(s.dir)).filter((n) => n.startsWith('snap-')), [snapshotName(50)]);
    await appendAll(store, [{ n: 51 }]);
  } finally {
    await store.close();
  }
  // A plain open reads the same state from the file, and the record after it.
  const again = await s.open();
  assert.deepEqual(again.recovered.snapshot, { index: 50, state });
  assert.deepEqual(again.recovered.records.map(({ index, data }) => ({ index, data })), [{ index: 51, data: { n: 51 } }]);
});

void test('a snapshot takes the state as it was at the call', async (t) => {
  const s = await Scratch.create(t);
  const { store } = await s.open();
  await appendAll(store, [1]);
  const state = { items: ['before'] };
  const writing = store.snapshot(1, state);
  state.items.push('after');
  await writing;
  await store.close();
  const { recovered } = await s.open();
  assert.deepEqual(recovered.snapshot, { index: 1, state: { items: ['before'] } });
});

void test('a snapshot index past the last append is refused', async (t) => {
  const s = await Scratch.create(t);
  const { store } = await s.open();
  await appendAll(store, [1, 2]);
  await assert.rejects(store.snapshot(3, {}), RangeError);
  await assert.rejects(store.snapshot(1.5, {}), RangeError);
});

void test('a corrupt newest snapshot is passed over for the previous one and the log', async (t) => {
  const s = await Scratch.create(t);
  {
    const { store } = await s.open({ segmentBytes: 256 });
    await appendAll(store, range(1, 10));
    await store.snapshot(10, { upTo: 10 });
    await appendAll(store, range(11, 20));
    await store.snapshot(20, { upTo: 20 });
    await appendAll(store, range(21, 25));
    await store.close();
  }
  const newest = join(s.dir, snapshotName(20));
  const bytes = await readFile(newest);
  bytes[bytes.length - 2]! ^= 0x04;
  await writeFile(newest, bytes);

  const { recovered } = await s.open({ segmentBytes: 256 });
  assert.deepEqual(recovered.snapshot, { index: 10, state: { upTo: 10 } });
  assert.deepEqual(recovered.records.map(({ index, data }) => ({ index, data })), range(11, 25).map((n) => ({ index: n, data: n })));
  const warning = s.logger.at('warn').find((l) => l.msg.includes('snapshot is corrupt'));
  assert.equal(warning?.fields.snapshot, newest);
  assert.match(String(warning?.fields.reason), /CRC-32C/);
});
