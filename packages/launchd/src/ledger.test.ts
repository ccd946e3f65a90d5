// The ledger on disk: durable, reopened after a restart, pruned of the dead, strict about its format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger, LedgerError } from './ledger.js';
import { procStat } from './proc.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dpns-ledger-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('entries survive a reopen; dead ones are pruned at open; no temp files are left', async () => {
  await withDir(async (dir) => {
    const me = await procStat(process.pid);
    assert.ok(me);
    const ledger = await Ledger.open(dir);
    const live = { launchId: 'aa'.repeat(16), service: '/t/live', pid: process.pid, pgid: process.pid, startTime: me.startTime, program: '/bin/x', user: 'me', launchedAt: 1 };
    const dead = { ...live, launchId: 'bb'.repeat(16), service: '/t/dead', startTime: '1' };
    await ledger.add(live);
    await ledger.add(dead);
    assert.equal(JSON.parse(await readFile(join(dir, 'ledger.json'), 'utf8')).entries.length, 2);
    assert.deepEqual(await readdir(dir), ['ledger.json']);

    const reopened = await Ledger.open(dir);
    assert.deepEqual(reopened.entries(), [live], 'the entry whose start time does not match is pruned');
    assert.deepEqual(reopened.recentlyGone(dead.launchId), dead);
    assert.equal(JSON.parse(await readFile(join(dir, 'ledger.json'), 'utf8')).entries.length, 1);
  });
});

test('a damaged ledger stops the start with a message saying what to do', async () => {
  await withDir(async (dir) => {
    await writeFile(join(dir, 'ledger.json'), '{"version":1,"entries":[{"pid":"x"}]}');
    await assert.rejects(Ledger.open(dir), (e: unknown) => e instanceof LedgerError && /move it aside/.test(e.message) && /entries\[0\]/.test(e.message));
    await writeFile(join(dir, 'ledger.json'), 'nope');
    await assert.rejects(Ledger.open(dir), /not valid JSON/);
  });
});
