// Settings: defaults, file, environment and flags in rising precedence, and precise errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.js';

const K1 = '11'.repeat(32);
const K2 = '22'.repeat(32);
let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dpns-launchd-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, v: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof v === 'string' ? v : JSON.stringify(v));
  return path;
}

test('defaults, with the state dir and logs dir derived', () => {
  const cfg = loadConfig({ trustedKeys: [K1], stateDir: '/srv/launchd' }, {});
  assert.equal(cfg.host, '0.0.0.0');
  assert.equal(cfg.port, 7701);
  assert.equal(cfg.logsDir, '/srv/launchd/logs');
  assert.equal(cfg.windowMs, 30_000);
  assert.equal(cfg.killGraceMs, 5000);
  assert.equal(cfg.defaultUser, 'nobody');
  assert.deepEqual(cfg.allow, []);
});

test('flags win over the environment, which wins over the config file; lists replace', async () => {
  const config = await file('layers.json', { listen: '10.0.0.1:7000', trustedKeys: [K1], allow: { echo: '/opt/echo' }, windowMs: 10_000, users: ['svc'] });
  const env = { DPNS_LAUNCHD_CONFIG: config, DPNS_LAUNCHD_LISTEN: '10.0.0.2:7001', DPNS_LAUNCHD_TRUSTED_KEYS: `${K1}, ${K2}`, DPNS_LAUNCHD_WINDOW_MS: '20000' };
  const fromEnv = loadConfig({}, env);
  assert.equal(fromEnv.host, '10.0.0.2');
  assert.deepEqual(fromEnv.trustedKeys, [K1, K2]);
  assert.equal(fromEnv.windowMs, 20_000);
  assert.deepEqual(fromEnv.allow, [{ name: 'echo', path: '/opt/echo' }]);
  assert.deepEqual(fromEnv.users, ['svc']);
  const fromFlags = loadConfig({ listen: '127.0.0.1:0', trustedKeys: [K2], allow: ['/usr/bin/true', 'x=/opt/x'] }, env);
  assert.equal(fromFlags.port, 0);
  assert.deepEqual(fromFlags.trustedKeys, [K2]);
  assert.deepEqual(fromFlags.allow, [{ path: '/usr/bin/true' }, { name: 'x', path: '/opt/x' }]);
});

test('the agent will not start without a trusted key, and says how to get one', () => {
  assert.throws(() => loadConfig({}, {}), (e: unknown) => e instanceof ConfigError && /no trusted name server keys/.test(e.message) && /--trusted-key HEX/.test(e.message));
});

test('bad settings name where they came from, what was given and what was expected', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ trustedKeys: ['nothex'] }, /command line: trustedKeys\[0\]: expected an Ed25519 public key as 64 hex digits, got "nothex"/],
    [{ trustedKeys: [K1], allow: ['relative/path'] }, /allow\[0\]: expected an absolute path/],
    [{ trustedKeys: [K1], allow: ['/opt/../bin/rm'] }, /without "\." or "\.\." parts/],
    [{ trustedKeys: [K1], allow: ['bad name=/opt/x'] }, /a short name is letters/],
    [{ trustedKeys: [K1], listen: 'nope' }, /listen: expected HOST:PORT/],
    [{ trustedKeys: [K1], windowMs: 5 }, /windowMs: expected an integer from 1000/],
    [{ trustedKeys: [K1], users: ['Root!'] }, /users\[0\]: expected a user name/],
  ];
  for (const [flags, message] of cases) assert.throws(() => loadConfig(flags, {}), message);
  const bad = await file('bad.json', '{nope');
  assert.throws(() => loadConfig({ config: bad }, {}), /is not valid JSON/);
  const unknown = await file('unknown.json', { trustedKeys: [K1], colour: 'blue' });
  assert.throws(() => loadConfig({ config: unknown }, {}), /unknown setting "colour"/);
  assert.throws(() => loadConfig({ config: join(dir, 'missing.json') }, {}), /cannot read config file/);
});

test('hostNames: from the file or DPNS_LAUNCHD_HOST_NAMES (comma-separated), lowercased; a bad name names the setting', () => {
  assert.deepEqual(loadConfig({ trustedKeys: [K1] }, {}).hostNames, []);
  assert.deepEqual(loadConfig({ trustedKeys: [K1] }, { DPNS_LAUNCHD_HOST_NAMES: 'Web-1.lan, 10.0.0.9' }).hostNames, ['web-1.lan', '10.0.0.9']);
  assert.throws(() => loadConfig({ trustedKeys: [K1], hostNames: ['bad name'] }, {}), (e: unknown) => e instanceof ConfigError && /hostNames\[0\]: expected a host name/.test(e.message));
});
