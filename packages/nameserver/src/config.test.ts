import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from './config.js';
import { DEFAULT_RESERVATION_MS } from './registry/reservation.js';

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
