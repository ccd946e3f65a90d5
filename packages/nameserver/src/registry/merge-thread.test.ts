// The snapshot thread writes the file a snapshot made here would, byte for byte; a corrupt file
// before is refused CORRUPT there as here and leaves no new file; a thread that stops in the
// middle of a snapshot fails that one only (the next starts a new thread); a closed one refuses.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { EntryView } from '@dpns/protocol';
import { corruptOnePortDigit, Scratch } from '../storage/testing.js';
import { snapshotName } from '../storage/snapshot.js';
import type { Store } from '../storage/store.js';
import { Registry } from './registry.js';
import { snapshotLines } from './snapshot-lines.js';
import { mergeInput, mergeLines } from './snapshot-merge.js';
import { MergeThread } from './merge-thread.js';

function entry(name: string, port: number): EntryView {
  return { kind: 'service', name, state: 'running', since: port, host: 'h', port, advertiser: { kind: 'static' } } as EntryView;
}

/** A registry of `n` names with a whole snapshot of it in `store`; its changes are tracked from there. */
async function based(store: Store, n: number): Promise<{ reg: Registry; base: number }> {
  const reg = new Registry();
  for (let i = 0; i < n; i++) {
    reg.apply([{ t: 'put', e: entry(`/t/s${String(i).padStart(5, '0')}`, 1000 + i) }], i + 1);
    store.append({ ops: [] });
  }
  reg.takeChanged();
  const image = reg.image();
  await store.snapshotStream(reg.revision, snapshotLines(image));
  image.release();
  return { reg, base: reg.revision };
}

/** Rewrites, removals and new names after the base, each its own logged record. */
function change(store: Store, reg: Registry, seed: number): void {
  let rev = reg.revision;
  for (let i = seed % 7; i < reg.size; i += 7) reg.apply([{ t: 'put', e: entry(`/t/s${String(i).padStart(5, '0')}`, 20_000 + seed) }], ++rev);
  for (let i = seed % 11; i < reg.size; i += 11) reg.apply([{ t: 'del', n: `/t/s${String(i).padStart(5, '0')}` }], ++rev);
  for (let i = 0; i < 50; i++) reg.apply([{ t: 'put', e: entry(`/t/n${seed}-${i}`, 30_000 + i) }], ++rev);
  while (store.lastIndex < rev) store.append({ ops: [] });
}

async function onThread(thread: MergeThread, store: Store, reg: Registry, base: number): Promise<boolean> {
  const image = reg.image();
  const changed = reg.takeChanged().entries;
  assert.ok(changed !== undefined);
  try {
    return await store.snapshotWith(reg.revision, (dir) => thread.write(dir, reg.revision, { path: store.snapshotFile(base), index: base }, mergeInput(image, changed)));
  } finally {
    image.release();
  }
}

/** A store in a scratch directory and a snapshot thread, both closed after the test. */
async function fixture(t: TestContext, idleMs?: number, afterMs?: number): Promise<{ scratch: Scratch; store: Store; thread: MergeThread }> {
  const scratch = await Scratch.create(t);
  const { store } = await scratch.open();
  const thread = new MergeThread(idleMs, afterMs);
  t.after(() => thread.close());
  return { scratch, store, thread };
}

test('made on the snapshot thread, a snapshot is the file made here, round after round on one thread', async (t) => {
  const here = await Scratch.create(t);
  const there = await Scratch.create(t);
  const { store: hs } = await here.open();
  const { store: ts } = await there.open();
  const thread = new MergeThread();
  t.after(() => thread.close());
  const { reg: hr, base: first } = await based(hs, 3000);
  let base = first;
  const { reg: tr } = await based(ts, 3000);
  for (let round = 1; round <= 4; round++) {
    change(hs, hr, round);
    change(ts, tr, round);
    const image = hr.image();
    const changed = hr.takeChanged().entries;
    assert.ok(changed !== undefined);
    await hs.snapshotStream(hr.revision, mergeLines(mergeInput(image, changed), hs.snapshotBody(base)));
    image.release();
    assert.equal(await onThread(thread, ts, tr, base), true);
    const a = await readFile(join(here.dir, snapshotName(hr.revision)));
    const b = await readFile(join(there.dir, snapshotName(tr.revision)));
    assert.ok(a.equals(b), `round ${round}: the files differ`);
    base = hr.revision;
  }
});

test('on the snapshot thread a corrupt file before is refused CORRUPT, and no new file is left', async (t) => {
  const { scratch, store, thread } = await fixture(t);
  const { reg, base } = await based(store, 500);
  await corruptOnePortDigit(join(scratch.dir, snapshotName(base)));
  change(store, reg, 1);
  await assert.rejects(onThread(thread, store, reg, base), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'CORRUPT');
    assert.match(err.message, /CRC-32 mismatch/);
    return true;
  });
  await assert.rejects(readFile(join(scratch.dir, snapshotName(reg.revision))), { code: 'ENOENT' });
});

test('a snapshot thread that stops in the middle fails that snapshot; the next one gets a new thread', async (t) => {
  const { scratch, store, thread } = await fixture(t);
  const { reg, base } = await based(store, 2000);
  change(store, reg, 1);
  // The thread is ended from outside while it waits for the changed names.
  thread.warm();
  // Reached into, as a crash would end it: nothing public stops a thread in the middle.
  const worker = (thread as unknown as { worker: Worker }).worker;
  await new Promise((r) => worker.once('online', r));
  const image = reg.image();
  const changed = reg.takeChanged().entries;
  assert.ok(changed !== undefined);
  const input = mergeInput(image, changed);
  const slow = {
    ...input,
    changed: (async function* () {
      for await (const b of input.changed) {
        await worker.terminate();
        yield b;
      }
    })(),
  };
  await assert.rejects(store.snapshotWith(reg.revision, (dir) => thread.write(dir, reg.revision, { path: store.snapshotFile(base), index: base }, slow)), /snapshot thread stopped/);
  image.release();
  await assert.rejects(readFile(join(scratch.dir, snapshotName(reg.revision))), { code: 'ENOENT' });
  // The changed names taken for it are gone with it: the next snapshot is written whole (as the
  // committer does), and the one after is made from that, on a new thread.
  const next = reg.image();
  reg.takeChanged();
  await store.snapshotStream(reg.revision, snapshotLines(next));
  next.release();
  const base2 = reg.revision;
  change(store, reg, 2);
  assert.equal(await onThread(thread, store, reg, base2), true);
  const whole = reg.image();
  const expected: string[] = [];
  for await (const b of snapshotLines(whole)) expected.push(b);
  whole.release();
  const body = (await readFile(join(scratch.dir, snapshotName(reg.revision)), 'utf8')).split('\n').slice(1, -2).join('\n') + '\n';
  assert.equal(body, expected.join(''));
});

test('a snapshot thread is kept while snapshots follow closely and goes soon after the last; one warmed for nothing is stopped', async (t) => {
  const { store, thread } = await fixture(t, 200, 100);
  const { reg, base } = await based(store, 300);
  thread.warm();
  assert.equal(thread.running, true);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(thread.running, false, 'stopped after 200 ms without a snapshot');
  change(store, reg, 1);
  assert.equal(await onThread(thread, store, reg, base), true);
  const first = thread.threadId;
  assert.ok(first !== undefined, 'kept after its snapshot');
  // The next snapshot, at once: the same thread.
  const base2 = reg.revision;
  change(store, reg, 2);
  assert.equal(await onThread(thread, store, reg, base2), true);
  assert.equal(thread.threadId, first, 'the same thread made the next');
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(thread.running, false, 'let go, with what it held, 100 ms after the last snapshot');
  // The next snapshot starts a thread of its own.
  const base3 = reg.revision;
  change(store, reg, 3);
  let third: number | undefined;
  const image = reg.image();
  const changed = reg.takeChanged().entries;
  assert.ok(changed !== undefined);
  try {
    // The thread that made it, read as it answers (it may be let go before the store is done).
    assert.equal(await store.snapshotWith(reg.revision, async (dir) => {
      const bytes = await thread.write(dir, reg.revision, { path: store.snapshotFile(base3), index: base3 }, mergeInput(image, changed));
      third = thread.threadId;
      return bytes;
    }), true);
  } finally {
    image.release();
  }
  assert.ok(third !== undefined && third !== first, `a new thread (${first} then ${third})`);
});

test('a closed snapshot thread refuses CLOSED', async () => {
  const thread = new MergeThread();
  thread.warm();
  await thread.close();
  const input = { head: '{}\n', nameCount: 0, changed: (async function* () {})(), tables: () => [] };
  await assert.rejects(thread.write('/nonexistent', 1, { path: '/nonexistent/x', index: 0 }, input), { code: 'CLOSED' });
});
