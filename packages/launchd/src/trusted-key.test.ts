// Attack 6: the name server's private key handed to an agent as "the trusted key". The installer
// and the config loader refuse it as file text, as the file's path and as the bare seed of a key
// file this host can read; the installer writes only public files, mode 0644.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, formatPrivateKeyFile } from '@dpns/node-kit';
import { loadConfig } from './config.js';
import { install, type InstallOptions } from './install.js';
import { trustedKey } from './trusted-key.js';
import { signingKeyFromSeed } from './wire.js';

const SEED = '5e'.repeat(32);
const PUBLIC = signingKeyFromSeed(Buffer.from(SEED, 'hex')).publicKey;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dpns-trust-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function options(dir: string, trusted: string[], over: Partial<InstallOptions> = {}): InstallOptions {
  return {
    unitDir: join(dir, 'units'), configPath: join(dir, 'etc', 'launchd.json'), force: false, dryRun: false, user: 'dpns-launchd',
    trustedKeys: trusted, allow: ['qs=/opt/vods/bin/qs'], allowEnv: ['qs=PYTHONPATH'], listen: '0.0.0.0:7701', out: () => undefined, ...over,
  };
}

/** A name server data directory, where XDG_STATE_HOME makes it the default one this host knows. */
async function nameServerKey(dir: string, legacy = false): Promise<string> {
  const nsDir = join(dir, 'state', 'dpns');
  await mkdir(nsDir, { recursive: true });
  const path = join(nsDir, 'nameserver.key');
  await writeFile(path, legacy ? `${SEED}\n` : formatPrivateKeyFile(SEED), { mode: 0o600 });
  return path;
}

test('install refuses the private key as file text, as a path and as the seed, and writes nothing', async () => {
  await withDir(async (dir) => {
    const keyFile = await nameServerKey(dir);
    const saved = process.env.XDG_STATE_HOME;
    process.env.XDG_STATE_HOME = join(dir, 'state');
    try {
      const cases: [string, RegExp][] = [
        [formatPrivateKeyFile(SEED), /this is a private key, which must never leave the name server's host; .*dpns-nameserver key/],
        [keyFile, new RegExp(`${keyFile} is the name server's private key file`)],
        [SEED, new RegExp(`this is the private seed held in ${keyFile}, not a public key; trust its public key ${PUBLIC} instead`)],
        ['-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----', /this is a private key/],
      ];
      for (const [value, message] of cases) {
        await assert.rejects(install(options(dir, [value])), (e: unknown) => e instanceof ConfigError && message.test(e.message) && /^--trusted-key\[0\]: /.test(e.message), value);
        await assert.rejects(install(options(dir, [value], { dryRun: true })), ConfigError);
        assert.throws(() => loadConfig({ trustedKeys: [value] }, {}), message, 'the agent refuses it at start too');
      }
      assert.deepEqual((await readdir(dir)).sort(), ['state'], 'nothing written');
      // The old bare-hex file is recognised by path as well.
      await nameServerKey(dir, true);
      assert.throws(() => trustedKey(keyFile, 'k'), /is the name server's private key file/);
      assert.throws(() => trustedKey(SEED, 'k'), /private seed held in/);
      assert.throws(() => trustedKey('/etc/hostname', 'k'), /not a file name/);
      assert.equal(trustedKey(PUBLIC.toUpperCase(), 'k'), PUBLIC);
    } finally {
      if (saved === undefined) delete process.env.XDG_STATE_HOME;
      else process.env.XDG_STATE_HOME = saved;
    }
  });
});

test('install with the public key writes the unit and the config, both 0644 and free of the seed, even over a 0666 file', async () => {
  await withDir(async (dir) => {
    await mkdir(join(dir, 'etc'));
    await writeFile(join(dir, 'etc', 'launchd.json'), '{}\n', { mode: 0o666 });
    await install(options(dir, [PUBLIC], { force: true }));
    const unitPath = join(dir, 'units', 'dpns-launchd.service');
    const configPath = join(dir, 'etc', 'launchd.json');
    for (const path of [unitPath, configPath]) {
      assert.equal((await stat(path)).mode & 0o777, 0o644, path);
      assert.doesNotMatch(await readFile(path, 'utf8'), new RegExp(SEED), path);
    }
    const config = JSON.parse(await readFile(configPath, 'utf8')) as { trustedKeys: string[]; allow: unknown };
    assert.deepEqual(config.trustedKeys, [PUBLIC]);
    assert.deepEqual(config.allow, { qs: { path: '/opt/vods/bin/qs', env: ['PYTHONPATH'] } });
    // What it wrote, the agent reads back as written.
    assert.deepEqual(loadConfig({ config: configPath }, {}).allow, [{ name: 'qs', path: '/opt/vods/bin/qs', env: ['PYTHONPATH'] }]);
  });
});

test('a key of small order is refused as a trusted key: it would let anyone sign', () => {
  const identity = `01${'00'.repeat(31)}`;
  for (const weak of [identity, '00'.repeat(32), `ec${'ff'.repeat(30)}7f`]) {
    assert.throws(() => trustedKey(weak, 'trustedKeys[0]', []), (e: unknown) => e instanceof ConfigError && /not a usable Ed25519 public key/.test(e.message), weak);
  }
  assert.equal(trustedKey(PUBLIC, 'trustedKeys[0]', []), PUBLIC);
});
