// The allowlist against every spelling that tries to reach a program it does not list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Allowlist } from './allowlist.js';
import { isAgentError } from './wire.js';

let dir = '';
let allowed = '';
let list: Allowlist;

before(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'dpns-allow-')));
  await mkdir(join(dir, 'bin'));
  await mkdir(join(dir, 'other'));
  allowed = join(dir, 'bin', 'echo-service');
  await writeFile(allowed, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  await writeFile(join(dir, 'bin', 'plain.txt'), 'not a program\n', { mode: 0o644 });
  await writeFile(join(dir, 'other', 'evil'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  // A symlink inside the allowed directory that points elsewhere, and one that points at the allowed program.
  await symlink('/bin/sh', join(dir, 'bin', 'sh-link'));
  await symlink(allowed, join(dir, 'other', 'echo-link'));
  // An allowed entry that is itself a symlink to the real program.
  await symlink(allowed, join(dir, 'bin', 'echo-alias'));
  list = new Allowlist([
    { name: 'echo', path: allowed },
    { name: 'plain', path: join(dir, 'bin', 'plain.txt') },
    { name: 'ghost', path: join(dir, 'bin', 'ghost') },
    { path: join(dir, 'bin') },
    { path: join(dir, 'bin', 'echo-alias') },
  ]);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refused(program: string, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(list.resolve(program), (e: unknown) => {
    assert.ok(isAgentError(e), `expected an AgentError, got ${String(e)}`);
    assert.equal(e.code, code, `${program}: ${e.message}`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test('a short name from the map and the absolute path itself resolve to the real path', async () => {
  assert.equal(await list.resolve('echo'), allowed);
  assert.equal(await list.resolve(allowed), allowed);
});

test('a symlink that resolves to an allowed program runs the real path, not the link', async () => {
  assert.equal(await list.resolve(join(dir, 'other', 'echo-link')), allowed);
  assert.equal(await list.resolve(join(dir, 'bin', 'echo-alias')), allowed);
});

test('a symlink inside an allowed directory that points elsewhere is NOT_ALLOWED', async () => {
  await refused(join(dir, 'bin', 'sh-link'), 'NOT_ALLOWED', /resolves to/);
});

test('".." and "." parts are NOT_ALLOWED, even when they would land on an allowed program', async () => {
  // (path.join would remove the "..": these are built as strings, as a request would carry them.)
  await refused(`${dir}/bin/../other/evil`, 'NOT_ALLOWED', /"\." or "\.\."/);
  await refused(`${dir}/other/../bin/echo-service`, 'NOT_ALLOWED');
  await refused(`${dir}/bin/./echo-service`, 'NOT_ALLOWED');
  await refused(`${dir}/bin/../../../../bin/rm`, 'NOT_ALLOWED');
});

test('relative paths are NOT_ALLOWED', async () => {
  await refused('bin/echo-service', 'NOT_ALLOWED', /relative/);
  await refused('./echo-service', 'NOT_ALLOWED', /relative/);
});

test('a bare name is never looked up in PATH: "rm" and "sh" are NOT_ALLOWED', async () => {
  await refused('rm', 'NOT_ALLOWED', /PATH/);
  await refused('sh', 'NOT_ALLOWED');
  await refused('/bin/rm', 'NOT_ALLOWED');
});

test('a program outside the list is NOT_ALLOWED whether or not it exists', async () => {
  await refused(join(dir, 'other', 'evil'), 'NOT_ALLOWED');
  await refused(join(dir, 'other', 'nothing-here'), 'NOT_ALLOWED');
});

test('an allowed program that does not exist is NOT_FOUND; one without x bits, or a directory, is NOT_EXECUTABLE', async () => {
  await refused('ghost', 'NOT_FOUND', /does not exist/);
  await refused(join(dir, 'bin', 'ghost'), 'NOT_FOUND');
  await refused('plain', 'NOT_EXECUTABLE', /not executable/);
  await refused(join(dir, 'bin'), 'NOT_EXECUTABLE', /not a regular file/);
});
