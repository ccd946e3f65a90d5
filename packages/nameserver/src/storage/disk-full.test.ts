// A WAL on a disk that fills up: writes are refused and handed back, then accepted again once a
// probe write finds room; nothing acknowledged is lost, nothing refused comes back. A real tmpfs
// of 1 MiB, so this needs root (as the netns tests do).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store, StorageError } from './store.js';
import { MemoryLogger } from './testing.js';

const isUnavailable = (err: unknown): boolean => err instanceof StorageError && err.code === 'UNAVAILABLE' && err.errno === 'ENOSPC';

void test('a full disk refuses writes without failing the store, and a probe write brings them back', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to mount a tmpfs');
    return;
  }
  const mnt = await mkdtemp(join(tmpdir(), 'dpns-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
  t.after(async () => {
    execFileSync('umount', ['-l', mnt]);
    await rm(mnt, { recursive: true, force: true });
  });
  const dir = join(mnt, 'data');
  const logger = new MemoryLogger();
  const availability: boolean[] = [];
  const { store } = await Store.open({ dir, logger, probeMs: 50, onAvailability: (writable) => availability.push(writable) });
  // Leave about 200 KiB free, then append 16 KiB records until one is refused.
  const filler = join(mnt, 'filler');
  await writeFile(filler, Buffer.alloc(800 * 1024));
  const payload = 'x'.repeat(16 * 1024);
  const acked: number[] = [];
  let refusedAt: number | undefined;
  for (let n = 0; n < 200 && refusedAt === undefined; n++) {
    // Three at a time, so the failing batch holds more than one record.
    const batch = [0, 1, 2].map((k) => ({ n: n * 3 + k, a: store.append({ n: n * 3 + k, payload }) }));
    for (const { n: value, a } of batch) {
      try {
        await a.durable;
        acked.push(value);
      } catch (err) {
        assert.ok(isUnavailable(err), `refused with UNAVAILABLE/ENOSPC, got ${String(err)}`);
        refusedAt ??= a.index;
      }
    }
  }
  assert.ok(refusedAt !== undefined, 'the disk filled up');
  assert.equal(store.state, 'unavailable');
  assert.equal(store.lastIndex, refusedAt - 1, 'the refused records\' indexes are handed back');
  assert.equal(acked.length, refusedAt - 1, 'every record before the refused one was acknowledged');
  assert.throws(() => store.append({ more: true }), isUnavailable);
  await assert.rejects(store.snapshot(1, {}), (err: unknown) => err instanceof StorageError && err.code === 'UNAVAILABLE');
  assert.deepEqual(availability, [false]);
  assert.equal(store.stats.faults, 1);
  assert.equal(logger.at('error').filter((l) => l.msg.startsWith('storage unavailable')).length, 1);

  // Still full: probes fail and writes stay refused.
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(store.state, 'unavailable');
  await unlink(filler);
  const deadline = Date.now() + 10_000;
  const state = (): string => store.state;
  while (state() !== 'open' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(state(), 'open', 'a probe write found room again');
  assert.deepEqual(availability, [false, true]);
  const after = store.append({ n: 'after', payload });
  assert.equal(after.index, refusedAt, 'the next record takes the first refused index');
  await after.durable;
  await store.close();

  // Reopened: every acknowledged record and the one after recovery, none of the refused ones.
  const reopened = await Store.open({ dir, logger });
  t.after(() => reopened.store.close());
  const values = reopened.recovered.records.map((r) => (r.data as { n: number | string }).n);
  assert.deepEqual(values, [...acked, 'after']);
  assert.deepEqual(reopened.recovered.records.map((r) => r.index), Array.from({ length: refusedAt }, (_, k) => k + 1));
  assert.equal(reopened.recovered.droppedTail, undefined, 'the refused bytes were cut off, not left as a torn tail');
});
