import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { install, UNIT_NAME } from './install.js';

test('install --dry-run prints the unit and writes nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dpns-ns-unit-'));
  try {
    let out = '';
    await install({ unitDir: join(dir, 'units'), listen: '0.0.0.0:7700', dryRun: true, out: (t) => (out += t) });
    assert.match(out, /dry run/);
    assert.match(out, /ExecStart=.*--listen 0\.0\.0\.0:7700 --data-dir \/var\/lib\/dpns/);
    assert.match(out, /DynamicUser=yes/);
    await assert.rejects(readFile(join(dir, 'units', UNIT_NAME)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const systemdAnalyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;

test('the written unit passes systemd-analyze verify', { skip: systemdAnalyze ? false : 'systemd-analyze is not installed here (Debian package systemd; .ci/run installs it)' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dpns-ns-unit-'));
  try {
    await install({ unitDir: dir, listen: '127.0.0.1:7700', exec: process.execPath, dryRun: false, out: () => undefined });
    const unit = await readFile(join(dir, UNIT_NAME), 'utf8');
    assert.match(unit, /^Restart=on-failure$/m);
    execFileSync('systemd-analyze', ['verify', join(dir, UNIT_NAME)], { stdio: 'pipe' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a cluster member\'s unit carries --cluster and --self, checked before anything is written', async () => {
  let out = '';
  await install({ unitDir: '/nonexistent', listen: '0.0.0.0:7700', cluster: { members: 'a:7700,b:7700,c:7700', self: 'b:7700' }, dryRun: true, out: (t) => (out += t) });
  assert.match(out, /^ExecStart=.* --cluster a:7700,b:7700,c:7700 --self b:7700 /m);
  await assert.rejects(install({ unitDir: '/nonexistent', listen: '0.0.0.0:7700', cluster: { members: 'a:7700,b:7700', self: 'c:7700' }, dryRun: true, out: () => undefined }), /not in the cluster list/);
});

test('install refuses a relative --exec and a bad --listen', async () => {
  await assert.rejects(install({ unitDir: '/nonexistent', listen: '0.0.0.0:7700', exec: 'node', dryRun: true, out: () => undefined }), /absolute path/);
  await assert.rejects(install({ unitDir: '/nonexistent', listen: 'nope', dryRun: true, out: () => undefined }), /HOST:PORT/);
});
