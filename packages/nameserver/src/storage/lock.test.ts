// The data directory LOCK: live holders refuse, dead or garbled ones are taken over.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { StorageError } from './store.js';
import { Scratch } from './testing.js';

void test('a LOCK held by a live process refuses the open with LOCKED, naming the pid', async (t) => {
  const s = await Scratch.create(t);
  const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  t.after(() => holder.kill('SIGKILL'));
  await once(holder, 'spawn');
  await writeFile(join(s.dir, 'LOCK'), `${holder.pid}\n`);
  await assert.rejects(s.open(), (err: unknown) => {
    assert.ok(err instanceof StorageError);
    assert.equal(err.code, 'LOCKED');
    assert.match(err.message, new RegExp(`process ${holder.pid}\\b`));
    return true;
  });
  assert.equal(await readFile(join(s.dir, 'LOCK'), 'utf8'), `${holder.pid}\n`, 'the holder keeps its lock');
});

void test('a LOCK left by a dead process is taken over, with a warning, and removed on close', async (t) => {
  const s = await Scratch.create(t);
  const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await once(gone, 'exit');
  await writeFile(join(s.dir, 'LOCK'), `${gone.pid}\n`);
  const { store } = await s.open();
  assert.equal((await readFile(join(s.dir, 'LOCK'), 'utf8')).trim(), String(process.pid));
  const warning = s.logger.at('warn').find((l) => l.msg.includes('stale LOCK'));
  assert.equal(warning?.fields.pid, gone.pid);
  await store.close();
  await assert.rejects(readFile(join(s.dir, 'LOCK')), { code: 'ENOENT' });
});

void test('an empty LOCK (a crash while creating it) or one with our own pid is taken over', async (t) => {
  const s = await Scratch.create(t);
  for (const content of ['', `${process.pid}\n`, 'not a pid']) {
    await writeFile(join(s.dir, 'LOCK'), content);
    const { store } = await s.open();
    assert.equal((await readFile(join(s.dir, 'LOCK'), 'utf8')).trim(), String(process.pid));
    await store.close();
  }
});
