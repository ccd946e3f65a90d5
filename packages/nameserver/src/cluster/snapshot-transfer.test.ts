// A primary's snapshot for a backup: a format-3 snapshot file's bytes that the backup checks and
// loads as a restart would (snapshot-transfer.ts, replica.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { ServiceView } from '@dpns/protocol';
import { Registry } from '../registry/registry.js';
import { registrySnapshotOf, snapshotLines } from '../registry/snapshot-lines.js';
import { decodeSnapshot, encodeSnapshot, writeSnapshot } from '../storage/snapshot.js';
import { snapshotName } from '../storage/snapshot-files.js';
import { writeSnapshotStream } from '../storage/snapshot-stream.js';
import { Scratch } from '../storage/testing.js';
import { SNAPSHOT_CHUNK, type SnapshotPieces } from './peer-transport.js';
import { BackupSnapshots, isSnapshotFile, snapshotForBackup } from './snapshot-transfer.js';

async function pieces(p: SnapshotPieces): Promise<Buffer[]> {
  const all: Buffer[] = [];
  for await (const piece of p) all.push(piece);
  return all;
}

async function joined(p: SnapshotPieces): Promise<string> {
  return Buffer.concat(await pieces(p)).toString('utf8');
}

/** A registry of `n` static services, at revision n. */
function registryOf(n: number): Registry {
  const reg = new Registry();
  for (let i = 0; i < n; i++) reg.apply([{ t: 'put', e: svc(`/s/n${i}`, 1000 + (i % 1000)) }], i + 1);
  return reg;
}

/** The registry's snapshot file written into `dir` as the store writes it; its path. */
async function stored(dir: string, reg: Registry): Promise<{ index: number; path: string }> {
  const image = reg.image();
  try {
    await writeSnapshotStream(dir, image.revision, snapshotLines(image));
  } finally {
    image.release();
  }
  return { index: reg.revision, path: `${dir}/${snapshotName(reg.revision)}` };
}

const svc = (name: string, port: number): ServiceView => ({ kind: 'service', name, state: 'running', since: 0, host: 'h', port, static: true } as ServiceView);

test('a snapshot for a backup is a format-3 file of the registry at its revision, loaded back whole', async () => {
  const reg = new Registry();
  for (let i = 0; i < 5000; i++) reg.apply([{ t: 'put', e: svc(`/s/n${i}`, 1000 + (i % 1000)) }], i + 1);
  reg.apply([{ t: 'put', e: { kind: 'alias', name: '/a', target: '/s/n7', since: 0 } as never }], 5001);
  const made = await snapshotForBackup(reg, undefined, 0);
  assert.equal(made.source, 'made');
  const { index } = made;
  const text = await joined(made.pieces);
  assert.equal(made.bytes, Buffer.byteLength(text));
  assert.equal(index, 5001);
  assert.ok(isSnapshotFile(text));
  assert.ok(isSnapshotFile(Buffer.from(text)), 'as bytes too');
  assert.ok(!isSnapshotFile(JSON.stringify(reg.snapshot())), 'a JSON document (an older primary\'s) is told apart');
  assert.ok(!isSnapshotFile(Buffer.from(JSON.stringify(reg.snapshot()))));
  assert.ok(!isSnapshotFile(Buffer.from('{"form')), 'a few bytes are not a file');
  const d = decodeSnapshot(Buffer.from(text, 'utf8'), index);
  assert.ok(d.ok, d.ok ? '' : d.reason);
  const back = new Registry();
  back.load(registrySnapshotOf(d.state));
  assert.equal(back.revision, 5001);
  assert.equal(back.size, reg.size);
  assert.deepEqual(back.get('/s/n4321'), reg.get('/s/n4321'));
  assert.deepEqual(back.resolve('/a').service, reg.get('/s/n7'));
});

test('a snapshot changed on the way, or for another index, does not check out', async () => {
  const reg = new Registry();
  reg.apply([{ t: 'put', e: svc('/x', 1) }], 1);
  const made = await snapshotForBackup(reg, undefined, 0);
  const { index } = made;
  const text = await joined(made.pieces);
  const flipped = Buffer.from(text.replace('"port":1', '"port":2'), 'utf8');
  const bad = decodeSnapshot(flipped, index);
  assert.ok(!bad.ok && /CRC-32 mismatch/.test(bad.reason));
  const other = decodeSnapshot(Buffer.from(text, 'utf8'), index + 1);
  assert.ok(!other.ok && /does not match/.test(other.reason));
  const cut = decodeSnapshot(Buffer.from(text.slice(0, -5), 'utf8'), index);
  assert.ok(!cut.ok);
});

test('the newest snapshot on disk is sent as it is when the log holds every record after it', async (t) => {
  const scratch = await Scratch.create(t);
  const reg = registryOf(3000);
  const file = await stored(scratch.dir, reg);
  reg.apply([{ t: 'put', e: svc('/later', 7) }], 3001);
  const sent = await snapshotForBackup(reg, file, 2990);
  assert.equal(sent.source, 'stored');
  assert.equal(sent.index, 3000, 'the file\'s index: the core sends the records after it');
  const onDisk = await readFile(file.path);
  const got = await pieces(sent.pieces);
  assert.ok(Buffer.concat(got).equals(onDisk), 'the file byte for byte');
  assert.equal(sent.bytes, onDisk.length);
  assert.ok(got.length > 2 && got.every((p) => p.length <= SNAPSHOT_CHUNK), 'in chunks');
  const older = await snapshotForBackup(reg, file, 3001);
  assert.equal(older.source, 'made');
  assert.equal(older.index, 3001, 'the registry now');
  assert.match(older.why ?? '', /older than the log held/);
});

test('a stored snapshot whose body does not check out is cut short before its end, and not offered again', async (t) => {
  const scratch = await Scratch.create(t);
  const reg = registryOf(20_000);
  const file = await stored(scratch.dir, reg);
  const bytes = await readFile(file.path);
  // A flipped port near the start: the CRC is known wrong only at the end of the body.
  await writeFile(file.path, Buffer.from(bytes.toString('utf8').replace('"port":1007', '"port":1008'), 'utf8'));
  const corrupt: number[] = [];
  const snaps = new BackupSnapshots(reg, () => file, (index) => corrupt.push(index));
  const first = await snaps.forBackup(0);
  assert.equal(first.source, 'stored', 'its header and trailer hold');
  const got: Buffer[] = [];
  await assert.rejects(async () => {
    for await (const p of first.pieces) got.push(p);
  }, /CRC-32 mismatch/);
  assert.ok(got.length > 1, 'pieces went before the mismatch was known');
  assert.ok(Buffer.concat(got).length < bytes.length - 100, 'but never the end of the body, nor the trailer');
  assert.deepEqual(corrupt, [file.index]);
  const next = await snaps.forBackup(0);
  assert.equal(next.source, 'made');
  assert.match(next.why ?? '', /did not check out/);
  const d = decodeSnapshot(Buffer.from(await joined(next.pieces), 'utf8'), next.index);
  assert.ok(d.ok, d.ok ? '' : d.reason);
  const gone = await snapshotForBackup(reg, { index: 20_000, path: `${scratch.dir}/missing` }, 0);
  assert.equal(gone.source, 'made');
  assert.match(gone.why ?? '', /ENOENT/);
});

test('a stored snapshot of an older format is not sent, and not taken for corrupt', async (t) => {
  const scratch = await Scratch.create(t);
  const reg = registryOf(100);
  await writeSnapshot(scratch.dir, 100, encodeSnapshot(100, reg.snapshot()));
  const file = { index: 100, path: `${scratch.dir}/${snapshotName(100)}` };
  const corrupt: number[] = [];
  const sent = await new BackupSnapshots(reg, () => file, (index) => corrupt.push(index)).forBackup(0);
  assert.equal(sent.source, 'made');
  assert.match(sent.why ?? '', /older format/);
  assert.deepEqual(corrupt, [], 'nothing logged as corrupt');
  const d = decodeSnapshot(Buffer.from(await joined(sent.pieces), 'utf8'), sent.index);
  assert.ok(d.ok, d.ok ? '' : d.reason);
});

test('a stored snapshot let go before its end closes its file', async (t) => {
  const scratch = await Scratch.create(t);
  const file = await stored(scratch.dir, registryOf(20_000));
  const sent = await snapshotForBackup(new Registry(), file, 0);
  const fds = (): number => readdirSync('/proc/self/fd').length;
  const before = fds();
  await sent.pieces.next();
  await sent.pieces.next();
  assert.equal(fds(), before + 1, 'the file is open while its chunks go');
  await sent.pieces.return(undefined);
  assert.equal(fds(), before, 'and closed when the snapshot is let go');
});
