// The single binary's helpers under plain node, and the command each daemon is run by.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedFile, isSingleExecutable, singleExecutableCommand } from './single-executable.js';

test('under plain node it is not the binary and holds no files', () => {
  assert.equal(isSingleExecutable(), false);
  assert.equal(embeddedFile('web/files.json'), undefined);
});

test('a daemon is run by the link of its name beside the binary, else by the binary and its name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dpns-sea-'));
  const real = process.execPath;
  try {
    writeFileSync(join(dir, 'dpns'), '');
    symlinkSync('dpns', join(dir, 'dpns-nameserver'));
    process.execPath = join(dir, 'dpns');
    assert.deepEqual(singleExecutableCommand('dpns-nameserver'), [join(dir, 'dpns-nameserver')]);
    assert.deepEqual(singleExecutableCommand('dpns-launchd'), [join(dir, 'dpns'), 'dpns-launchd']);
    // A file of that name that is not this binary is not taken for it.
    writeFileSync(join(dir, 'dpns-launchd'), '');
    assert.deepEqual(singleExecutableCommand('dpns-launchd'), [join(dir, 'dpns'), 'dpns-launchd']);
    process.execPath = 'dpns';
    assert.throws(() => singleExecutableCommand('dpns-launchd'), /is \/proc mounted\?/);
  } finally {
    process.execPath = real;
    rmSync(dir, { recursive: true, force: true });
  }
});
