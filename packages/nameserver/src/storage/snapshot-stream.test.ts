// Snapshot format 3: lines written a batch at a time come back as the lines, unparsed; damage is
// refused, a failed write leaves nothing, and a store still reads formats 2 and 1.
import assert from 'node:assert/strict';
import { fstatSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32c } from './crc32c.js';
import { decodeSnapshot, encodeSnapshot, snapshotName } from './snapshot.js';
import { SnapshotLines, snapshotStreamParts, writeSnapshotStream } from './snapshot-stream.js';
import { appendAll, range, Scratch, spyOnFileHandles } from './testing.js';

async function* batches(elements: unknown[], per: number): AsyncGenerator<string> {
  for (let k = 0; k < elements.length; k += per) yield elements.slice(k, k + per).map((e) => `${JSON.stringify(e)}\n`).join('');
}

/** The values of a format-3 file's lines. */
function parsed(r: ReturnType<typeof decodeSnapshot>): unknown {
  assert.ok(r.ok && r.state instanceof SnapshotLines);
  return r.state.all().map((l) => JSON.parse(l) as unknown);
}

void test('elements written in batches read back as their lines, one element a line', async (t) => {
  const s = await Scratch.create(t);
  // Over a megabyte, so the lines are decoded in more than one piece, one of them longer than a piece.
  const elements = [{ head: 1 }, ...range(1, 9000).map((n) => ({ name: `/s/${n}`, note: 'ü\n"x"'.repeat(n % 50) })), 'x'.repeat(1.5 * 2 ** 20), [1, 2], 'str', 7];
  const bytes = await writeSnapshotStream(s.dir, 9, batches(elements, 16));
  const buf = await readFile(join(s.dir, snapshotName(9)));
  assert.equal(bytes, buf.length);
  assert.ok(buf.length > 2 ** 21);
  assert.deepEqual(JSON.parse(buf.subarray(0, buf.indexOf(0x0a)).toString()), { format: 3, index: 9 });
  assert.deepEqual(parsed(decodeSnapshot(buf, 9)), elements);
  assert.deepEqual(await readdir(s.dir), [snapshotName(9)]);
});

void test('a snapshot goes to the disk in steps as it is written, not all at its end', async (t) => {
  const s = await Scratch.create(t);
  // Each fdatasync of the file being written, with its size then.
  const synced: number[] = [];
  await spyOnFileHandles(t, s.dir, 'datasync', (fh) => synced.push(fstatSync(fh.fd).size));
  const elements = range(1, 3300).map((n) => ({ name: `/s/${n}`, pad: 'x'.repeat(1000) }));
  const bytes = await writeSnapshotStream(s.dir, 3, batches(elements, 10), 256 * 1024);
  assert.ok(bytes > 3 * 2 ** 20);
  // One at least every 256 KiB and a batch (~10 KB), never more than one a step.
  assert.ok(synced.length >= Math.floor(bytes / (256 * 1024)) - 1, `${synced.length} flushes for ${bytes} bytes`);
  for (let k = 1; k < synced.length; k++) {
    const step = (synced[k] as number) - (synced[k - 1] as number);
    assert.ok(step >= 256 * 1024 && step < 256 * 1024 + 20_000, `flushed after ${step} bytes`);
  }
  const buf = await readFile(join(s.dir, snapshotName(3)));
  assert.deepEqual(parsed(decodeSnapshot(buf, 3)), elements);
  // The default step is 4 MiB: a file of 3 MiB is flushed once, at its end (by fsync, not counted here).
  synced.length = 0;
  await writeSnapshotStream(s.dir, 4, batches(elements, 10));
  assert.deepEqual(synced, []);
});

void test('the pieces sent to a backup join to the very bytes of the file, non-ASCII lines included', async (t) => {
  const s = await Scratch.create(t);
  // Multi-byte characters, so a length or CRC taken from the text's UTF-16 units instead of its UTF-8 bytes shows.
  const elements = [{ head: 1 }, ...range(1, 3000).map((n) => ({ name: `/s/${n}`, note: 'ü€😀'.repeat(n % 7) }))];
  await writeSnapshotStream(s.dir, 5, batches(elements, 64));
  const file = await readFile(join(s.dir, snapshotName(5)));
  const parts = await snapshotStreamParts(5, batches(elements, 64));
  assert.ok(parts.length > 3);
  const joined = Buffer.from(parts.join(''), 'utf8');
  assert.ok(joined.equals(file));
  assert.deepEqual(parsed(decodeSnapshot(joined, 5)), elements);
});

void test('a format-2 file (CRC-32C, values parsed at read) is still read', () => {
  const elements = [{ head: 1 }, { name: '/a', note: 'ü' }, 7];
  const body = Buffer.from(elements.map((e) => `${JSON.stringify(e)}\n`).join(''));
  const file = Buffer.concat([Buffer.from('{"format":2,"index":4}\n'), body, Buffer.from(`${JSON.stringify({ bytes: body.length, crc32c: crc32c(body) })}\n`)]);
  assert.deepEqual(decodeSnapshot(file, 4), { ok: true, state: elements });
  const flipped = Buffer.from(file);
  flipped[file.indexOf('/a')] = 0x41;
  const damaged = decodeSnapshot(flipped, 4);
  assert.ok(!damaged.ok);
  assert.match(damaged.reason, /CRC-32C mismatch/);
});

void test('an empty array, and a damaged or cut file, are told apart', async (t) => {
  const s = await Scratch.create(t);
  await writeSnapshotStream(s.dir, 3, batches([], 1));
  const empty = await readFile(join(s.dir, snapshotName(3)));
  assert.deepEqual(parsed(decodeSnapshot(empty, 3)), []);

  await writeSnapshotStream(s.dir, 4, batches([{ a: 1 }, { b: 2 }], 1));
  const good = await readFile(join(s.dir, snapshotName(4)));
  const flipped = Buffer.from(good);
  flipped[good.indexOf('"a"')] = 0x41; // a byte of the body changed
  const reason = (buf: Buffer, index = 4): string => {
    const r = decodeSnapshot(buf, index);
    assert.equal(r.ok, false);
    return r.ok ? '' : r.reason;
  };
  assert.match(reason(flipped), /CRC-32 mismatch/);
  assert.match(reason(good.subarray(0, good.length - 1)), /no trailer/);
  assert.match(reason(good.subarray(0, good.length - 12)), /no trailer|trailer/);
  assert.match(reason(good, 5), /does not match the file name/);
});

void test('a batch that fails half-way leaves no snapshot file behind', async (t) => {
  const s = await Scratch.create(t);
  async function* failing(): AsyncGenerator<string> {
    yield '{"a":1}\n';
    throw new Error('producer broke');
  }
  await assert.rejects(writeSnapshotStream(s.dir, 2, failing()), /producer broke/);
  async function* unterminated(): AsyncGenerator<string> {
    yield 'no newline';
  }
  await assert.rejects(writeSnapshotStream(s.dir, 2, unterminated()), TypeError);
  assert.deepEqual(await readdir(s.dir), []);
});

void test('a store recovers from a streamed snapshot, and still from a format-1 one', async (t) => {
  const s = await Scratch.create(t);
  {
    const { store } = await s.open();
    await appendAll(store, range(1, 20).map((n) => ({ n })));
    await store.snapshotStream(20, batches(range(1, 20), 7));
    await appendAll(store, range(21, 25).map((n) => ({ n })));
    await store.close();
  }
  {
    const { recovered, store } = await s.open();
    assert.equal(recovered.snapshot?.index, 20);
    assert.ok(recovered.snapshot.state instanceof SnapshotLines);
    assert.deepEqual(recovered.snapshot.state.all(), range(1, 20).map(String));
    assert.deepEqual(recovered.records.map((r) => r.index), range(21, 25));
    await store.close();
  }
  // A data directory written before formats 2 and 3: its snapshot is one JSON document.
  const old = await Scratch.create(t);
  {
    const { store } = await old.open();
    await appendAll(store, range(1, 5).map((n) => ({ n })));
    await store.close();
  }
  await writeFile(join(old.dir, snapshotName(5)), encodeSnapshot(5, { revision: 5, entries: [] }));
  const { recovered } = await old.open();
  assert.deepEqual(recovered.snapshot, { index: 5, state: { revision: 5, entries: [] } });
});
