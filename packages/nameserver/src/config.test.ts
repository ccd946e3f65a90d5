// The name server's settings: defaults, the layers, the renamed heartbeats and their old spellings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterOf, ConfigError, loadConfig } from './config.js';
import { DEFAULT_RESERVATION_MS } from './registry/reservation.js';
import { SERVER_SETTINGS } from './settings.js';

test('reservationMs and adminPrefixes: defaults, environment, flags, and refusals', () => {
  const dflt = loadConfig({}, {});
  assert.equal(dflt.reservationMs, DEFAULT_RESERVATION_MS);
  assert.deepEqual(dflt.adminPrefixes, []);
  const fromEnv = loadConfig({}, { DPNS_RESERVATION_MS: '0', DPNS_ADMIN_PREFIXES: '/prod/*, /ops/*' });
  assert.equal(fromEnv.reservationMs, 0);
  assert.deepEqual(fromEnv.adminPrefixes, ['/prod/*', '/ops/*']);
  const fromFlags = loadConfig({ reservationMs: 60_000, adminPrefixes: ['/x/*'] }, { DPNS_ADMIN_PREFIXES: '/prod/*' });
  assert.equal(fromFlags.reservationMs, 60_000);
  assert.deepEqual(fromFlags.adminPrefixes, ['/x/*']);
  assert.throws(() => loadConfig({ reservationMs: -1 }, {}), ConfigError);
  assert.throws(() => loadConfig({ adminPrefixes: ['prod/*'] }, {}), (e: unknown) => e instanceof ConfigError && /starting with "\/"/.test(e.message));
  assert.throws(() => loadConfig({ adminPrefixes: ['/prod/[a'] }, {}), ConfigError);
});

test('the client and the cluster heartbeats are two settings; their old spellings still work, each with a warning', async () => {
  const dflt = loadConfig({}, {});
  assert.deepEqual([dflt.clientHeartbeatMs, dflt.clusterHeartbeatMs, dflt.clusterMisses], [1000, 150, 4]);
  const cluster = clusterOf(loadConfig({ clusterHeartbeatMs: 50, clusterMisses: 3 }, {}));
  assert.deepEqual([cluster.clusterHeartbeatMs, cluster.clusterMisses], [50, 3]);
  const warned: string[] = [];
  const fromEnv = loadConfig({}, { DPNS_HEARTBEAT_MS: '500' }, { warn: (l) => warned.push(l) });
  assert.equal(fromEnv.clientHeartbeatMs, 500);
  assert.deepEqual(warned, ['environment: DPNS_HEARTBEAT_MS is deprecated; set DPNS_CLIENT_HEARTBEAT_MS']);
  const dir = await mkdtemp(join(tmpdir(), 'dpns-config-'));
  try {
    const file = join(dir, 'ns.json');
    await writeFile(file, JSON.stringify({ heartbeatMs: 400, replHeartbeatMs: 100, replMisses: 6, moduleMemoryMb: 64 }));
    warned.length = 0;
    const fromFile = loadConfig({ config: file }, {}, { warn: (l) => warned.push(l) });
    assert.deepEqual([fromFile.clientHeartbeatMs, fromFile.clusterHeartbeatMs, fromFile.clusterMisses, fromFile.moduleMemoryMb], [400, 100, 6, 64]);
    assert.equal(warned.length, 3);
    assert.match(warned.join('\n'), /"replHeartbeatMs" is deprecated; write "clusterHeartbeatMs"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('every setting has a flag and a DPNS_* variable spelled from its name', () => {
  const fromEnv = loadConfig({}, { DPNS_MODULE_NICE: '3', DPNS_AGENT_TIMEOUT_MS: '2000', DPNS_MAX_WATCHES_PER_CONNECTION: '7', DPNS_AGENT_KEYS: `h=${'a'.repeat(64)}` });
  assert.deepEqual([fromEnv.moduleNice, fromEnv.agentTimeoutMs, fromEnv.maxWatchesPerConnection, fromEnv.agentKeys], [3, 2000, 7, { h: ['a'.repeat(64)] }]);
  for (const e of SERVER_SETTINGS.entries) assert.equal(e.env, `DPNS_${e.name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`);
  // The flags that kept a shorter spelling from before the table; every other is the name in kebab-case.
  const kept = SERVER_SETTINGS.entries.filter((e) => e.flag !== e.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).map((e) => `${e.name}=--${e.flag}`);
  assert.deepEqual(kept, ['maxWatchesPerConnection=--max-watches', 'maxAdvertisementsPerConnection=--max-advertisements', 'adminPrefixes=--admin-prefix', 'agentKeys=--agent-key']);
});
