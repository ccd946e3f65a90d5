// A snapshot made from the one before it is the file a whole snapshot of the same image would
// be, byte for byte, after any mix of changes (puts, deletes, aliases, session advertisements,
// names that must be parsed out of their lines, entries read back from text); a corrupt earlier
// file is refused and leaves no new one behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { Prng } from '@dpns/cluster-core';
import type { EntryView } from '@dpns/protocol';
import { corruptOnePortDigit, Scratch } from '../storage/testing.js';
import { snapshotName } from '../storage/snapshot.js';
import { readSnapshotBody } from '../storage/snapshot-body.js';
import type { Store } from '../storage/store.js';
import type { Op } from './ops.js';
import type { ChangedEntries } from './changed-entries.js';
import { Registry, type ChangedNames } from './registry.js';
import { snapshotLines } from './snapshot-lines.js';
import { mergeInput, mergeLines } from './snapshot-merge.js';

/** A seeded generator, so a failing seed can be run again. */
function rng(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}

function tracked(c: ChangedNames): ChangedEntries {
  assert.ok(c.entries !== undefined, 'the changed names are kept track of');
  return c.entries;
}

// Plain ASCII names mostly; a few whose lines are parsed for their names (an escape, non-ASCII).
const NAMES = [...Array.from({ length: 300 }, (_, i) => `/m/g${i % 7}/s${i}`), '/m/é', '/m/q"uote', '/m/b\\s', '/m/z\u{1F600}', '/m/\uE000'];

function randomEntry(r: () => number, name: string, rev: number): EntryView {
  const x = r();
  if (x < 0.1) return { kind: 'alias', name, target: NAMES[Math.floor(r() * NAMES.length)] as string, since: rev };
  const advertiser = x < 0.25 ? { kind: 'session' as const, connection: `c${Math.floor(r() * 9)}` } : { kind: 'static' as const };
  return { kind: 'service', name, state: 'running', since: rev, host: `h${Math.floor(r() * 5)}`, port: 1 + Math.floor(r() * 60000), advertiser } as EntryView;
}

function randomOps(r: () => number, reg: Registry, rev: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const name = NAMES[Math.floor(r() * NAMES.length)] as string;
    const y = r();
    let op: Op;
    if (y < 0.2) op = { t: 'del', n: name };
    else if (y < 0.3) op = { t: 'tickets', n: name, v: { launchId: `l${rev}`, service: 's', nameserver: 'n' } };
    else op = { t: 'put', e: randomEntry(r, name, rev) };
    reg.apply([op], rev++);
    // Read back from text now and then: unchanged, but no longer held as its line.
    if (r() < 0.1) reg.get(NAMES[Math.floor(r() * NAMES.length)] as string);
  }
}

async function fileBytes(store: Scratch, index: number): Promise<Buffer> {
  return readFile(join(store.dir, snapshotName(index)));
}

async function wholeSnapshot(reg: Registry, store: Store, scratch: Scratch): Promise<Buffer> {
  const image = reg.image();
  try {
    await store.snapshotStream(reg.revision, snapshotLines(image));
  } finally {
    image.release();
  }
  return fileBytes(scratch, reg.revision);
}

test('a snapshot made from the one before is byte for byte the whole snapshot of the same registry', async (t) => {
  for (let seed = 1; seed <= 12; seed++) {
    const r = rng(seed);
    const merged = await Scratch.create(t);
    const whole = await Scratch.create(t);
    const ms = await merged.open();
    const ws = await whole.open();
    const reg = new Registry();
    let rev = 0;
    const step = async (n: number): Promise<void> => {
      randomOps(r, reg, rev + 1, n);
      for (; rev < reg.revision; rev++) {
        ms.store.append({ ops: [] });
        ws.store.append({ ops: [] });
      }
    };
    await step(200);
    // The first snapshot is whole; each one after it is made from the one before.
    reg.takeChanged();
    let base = reg.revision;
    assert.deepEqual(await wholeSnapshot(reg, ms.store, merged), await wholeSnapshot(reg, ws.store, whole));
    for (let round = 0; round < 6; round++) {
      await step(1 + Math.floor(r() * 120));
      const image = reg.image();
      const changed = reg.takeChanged();
      try {
        await ms.store.snapshotStream(reg.revision, mergeLines(mergeInput(image, tracked(changed)), ms.store.snapshotBody(base)));
      } finally {
        image.release();
      }
      const expected = await wholeSnapshot(reg, ws.store, whole);
      assert.ok((await fileBytes(merged, reg.revision)).equals(expected), `seed ${seed}, round ${round}: the files differ`);
      base = reg.revision;
    }
  }
});

test('a snapshot made while the registry keeps changing holds the image, not the changes after it', async (t) => {
  const scratch = await Scratch.create(t);
  const { store } = await scratch.open();
  const reg = new Registry();
  const r = rng(99);
  randomOps(r, reg, 1, 400);
  for (let i = 0; i < reg.revision; i++) store.append({ ops: [] });
  reg.takeChanged();
  const base = reg.revision;
  await wholeSnapshot(reg, store, scratch);
  randomOps(r, reg, reg.revision + 1, 50);
  for (let i = base; i < reg.revision; i++) store.append({ ops: [] });
  const image = reg.image();
  const changed = reg.takeChanged();
  const expectedText: string[] = [];
  const twin = reg.image();
  for await (const b of snapshotLines(twin)) expectedText.push(b);
  twin.release();
  const lines = mergeLines(mergeInput(image, tracked(changed)), store.snapshotBody(base));
  // Changes land between the batches: the file must still be the image's.
  const interleaved = (async function* () {
    for await (const piece of lines) {
      randomOps(r, reg, reg.revision + 1, 5);
      yield piece;
    }
  })();
  const at = image.revision;
  await store.snapshotStream(at, interleaved);
  image.release();
  const body = (await fileBytes(scratch, at)).toString('utf8').split('\n').slice(1, -2).join('\n') + '\n';
  assert.equal(body, expectedText.join(''));
});

test('a corrupt snapshot before is refused: no new file, and the error says CORRUPT', async (t) => {
  const scratch = await Scratch.create(t);
  const { store } = await scratch.open();
  const reg = new Registry();
  randomOps(rng(5), reg, 1, 300);
  for (let i = 0; i < reg.revision; i++) store.append({ ops: [] });
  reg.takeChanged();
  const base = reg.revision;
  await wholeSnapshot(reg, store, scratch);
  // One byte of an entry line changed (a digit for another): the lines still parse, the CRC does not match.
  await corruptOnePortDigit(join(scratch.dir, snapshotName(base)));
  reg.apply([{ t: 'del', n: NAMES[0] as string }], reg.revision + 1);
  store.append({ ops: [] });
  const image = reg.image();
  const changed = reg.takeChanged();
  await assert.rejects(store.snapshotStream(reg.revision, mergeLines(mergeInput(image, tracked(changed)), store.snapshotBody(base))), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'CORRUPT');
    assert.match(err.message, /CRC-32 mismatch/);
    return true;
  });
  image.release();
  await assert.rejects(readFile(join(scratch.dir, snapshotName(reg.revision))), { code: 'ENOENT' });
});

test('past as many changes as the registry has entries it stops listing them, and the next snapshot is written whole', async () => {
  const reg = new Registry();
  const e = (name: string, port = 1): EntryView => ({ kind: 'service', name, state: 'running', since: 0, host: 'h', port });
  let rev = 1;
  for (let i = 0; i < 20_000; i++) reg.apply([{ t: 'put', e: e(`/churn/n${i}`) }], rev++);
  reg.takeChanged();
  // The same name over and over: each change counts (and holds its entry), so the list stays no larger than the registry.
  for (let i = 0; i < 20_000; i++) reg.apply([{ t: 'put', e: e('/churn/n7', i) }], rev++);
  assert.equal(tracked(reg.takeChanged()).changes, 20_000, 'as many as the registry has entries are still listed');
  for (let i = 0; i <= 20_000; i++) reg.apply([{ t: 'put', e: e('/churn/n7', i) }], rev++);
  assert.equal(reg.takeChanged().entries, undefined);
  // A registry emptied by the churn: still at least 10,000 changes listed.
  for (let i = 0; i < 20_000; i++) reg.apply([{ t: 'del', n: `/churn/n${i}` }], rev++);
  reg.takeChanged();
  for (let i = 0; i < 5_000; i++) reg.apply([{ t: 'put', e: e(`/churn/m${i}`) }, { t: 'del', n: `/churn/m${i}` }], rev++);
  assert.equal(reg.size, 0);
  assert.equal(tracked(reg.takeChanged()).changes, 10_000);
  for (let i = 0; i <= 5_000; i++) reg.apply([{ t: 'put', e: e(`/churn/m${i}`) }, { t: 'del', n: `/churn/m${i}` }], rev++);
  assert.equal(reg.takeChanged().entries, undefined);
  reg.apply([{ t: 'put', e: e('/churn/after') }], rev);
  assert.deepEqual((await tracked(reg.takeChanged()).inOrder()).names, ['/churn/after'], 'tracking starts over after each take');
});

test('changed names that all sort after the earlier file are handed on in pieces, not made in one go', async (t) => {
  const scratch = await Scratch.create(t);
  const { store } = await scratch.open();
  const reg = new Registry();
  const e = (name: string, rev: number): EntryView => ({ kind: 'service', name, state: 'running', since: rev, host: 'h', port: 1, advertiser: { kind: 'static' } });
  let rev = 1;
  for (let i = 0; i < 100; i++) reg.apply([{ t: 'put', e: e(`/order/a${String(i).padStart(6, '0')}`, rev) }], rev++);
  for (let i = 1; i < rev; i++) store.append({ ops: [] });
  reg.takeChanged();
  const base = reg.revision;
  await wholeSnapshot(reg, store, scratch);
  // Names written in order: every one of them lands after the last line of the file.
  for (let i = 0; i < 30_000; i++) reg.apply([{ t: 'put', e: e(`/order/b${String(i).padStart(6, '0')}`, rev) }], rev++);
  const image = reg.image();
  const pieces: number[] = [];
  for await (const piece of mergeLines(mergeInput(image, tracked(reg.takeChanged())), store.snapshotBody(base))) pieces.push(piece.length);
  image.release();
  const total = pieces.reduce((a, b) => a + b, 0);
  assert.ok(total > 3 * 2 ** 20, `${total} bytes made`);
  assert.ok(pieces.length >= 4, `${pieces.length} pieces`);
  assert.ok(Math.max(...pieces) < 1.5 * 2 ** 20, `the largest piece is ${Math.max(...pieces)} bytes`);
});

test('a line that never ends in an earlier file is refused CORRUPT before it is all held', async (t) => {
  const scratch = await Scratch.create(t);
  const body = Buffer.alloc(65 * 2 ** 20 + 1, 0x78);
  body[body.length - 1] = 0x0a;
  const header = Buffer.from(`${JSON.stringify({ format: 3, index: 7 })}\n`);
  const trailer = Buffer.from(`${JSON.stringify({ bytes: body.length, crc32: crc32(body) })}\n`);
  const path = join(scratch.dir, snapshotName(7));
  await writeFile(path, Buffer.concat([header, body, trailer]));
  await assert.rejects(async () => {
    for await (const chunk of readSnapshotBody(path, 7)) assert.ok(chunk.length > 0);
  }, (err: Error & { code?: string }) => err.code === 'CORRUPT' && /longer than/.test(err.message));
});
