// Attack 6 through the real commands: `dpns-nameserver key` prints the public key that matches the
// private key file, and `dpns-launchd install --trusted-key` refuses the file's text and its path
// (exit 2, nothing written) and accepts the printed key.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { agent as A } from '@dpns/protocol';
import { parsePrivateKeyFile } from '@dpns/node-kit';
import { LAUNCHD_BIN, makeTempDir, NAMESERVER_BIN, teardown } from './harness/index.js';

after(teardown);

/** A user's home: the name server's default data directory is in it, where the installer looks for a seed. */
const HOME = makeTempDir('dpns-home-');

function run(bin: string, args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  // No XDG_STATE_HOME or DPNS_* from the caller's environment decides anything here.
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME, XDG_STATE_HOME: join(HOME, '.local', 'state'), ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('dpns-nameserver key prints the public key of nameserver.key; the installer refuses the private key and takes the public one', () => {
  const data = join(HOME, '.local', 'state', 'dpns');
  assert.equal(run(NAMESERVER_BIN, ['init', '--data-dir', data]).status, 0);
  // Without --data-dir, `key` reads the data directory the server would use.
  assert.equal(run(NAMESERVER_BIN, ['key'], { DPNS_DATA_DIR: data }).status, 0);
  const keyFile = join(data, 'nameserver.key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const text = readFileSync(keyFile, 'utf8');
  const parsed = parsePrivateKeyFile(text);
  assert.ok(parsed && !parsed.legacy, 'the marked form');
  const expected = A.signingKeyFromSeed(Buffer.from(parsed.seed, 'hex')).publicKey;

  const key = run(NAMESERVER_BIN, ['key', '--data-dir', data]);
  assert.equal(key.status, 0, key.stderr);
  assert.equal(key.stdout, `${expected}\n`);
  const json = run(NAMESERVER_BIN, ['key', '--data-dir', data, '--json']);
  assert.equal((JSON.parse(json.stdout) as { publicKey: string }).publicKey, expected);

  const out = makeTempDir('dpns-install-');
  const install = (trusted: string, dryRun = false) => run(LAUNCHD_BIN, [
    'install', ...(dryRun ? ['--dry-run'] : []), '--unit-dir', join(out, 'units'), '--config-path', join(out, 'launchd.json'), `--trusted-key=${trusted}`, '--allow', 'qs=/opt/qs',
  ]);
  for (const bad of [text, keyFile, parsed.seed]) {
    const r = install(bad);
    assert.equal(r.status, 2, `${bad}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /dpns-nameserver key/);
  }
  // As two arguments, the way `--trusted-key "$(cat nameserver.key)"` passes it.
  const split = run(LAUNCHD_BIN, ['install', '--unit-dir', join(out, 'units'), '--config-path', join(out, 'launchd.json'), '--trusted-key', text]);
  assert.equal(split.status, 2);
  assert.match(split.stderr, /^dpns-launchd: an argument is a private key, .*dpns-nameserver key/);
  assert.deepEqual(readdirSync(out), [], 'nothing written');

  const good = install(expected);
  assert.equal(good.status, 0, good.stderr);
  const config = join(out, 'launchd.json');
  assert.equal(statSync(config).mode & 0o777, 0o644);
  assert.deepEqual((JSON.parse(readFileSync(config, 'utf8')) as { trustedKeys: string[] }).trustedKeys, [expected]);
  assert.doesNotMatch(readFileSync(config, 'utf8'), new RegExp(parsed.seed));
});
