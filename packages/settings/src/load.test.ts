// Layers in rising precedence, deprecated spellings, and messages that say where a value came from.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@dpns/node-kit';
import { loadSettings } from './index.js';
import { TABLE } from './table.test.helper.js';

const dir = mkdtempSync(join(tmpdir(), 'dpns-settings-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function file(v: unknown): string {
  const p = join(dir, `c${files++}.json`);
  writeFileSync(p, JSON.stringify(v));
  return p;
}

test('defaults, then the file, then the environment, then flags; `given` names what a layer set', () => {
  const none = loadSettings(TABLE, { flags: {}, env: {} });
  assert.deepEqual(none.values, { listen: { host: '127.0.0.1', port: 9000 }, stateDir: '/var/lib/demo', pingMs: 100, maxItemsPerConnection: 5, mode: 'a', verbose: false, tags: [] });
  assert.equal(none.given.size, 0);
  const config = file({ pingMs: 200, mode: 'b', tags: ['x'] });
  const env = { DEMO_CONFIG: config, DEMO_PING_MS: '300', DEMO_TAGS: 'p, q,,' };
  const fromEnv = loadSettings(TABLE, { flags: {}, env });
  assert.deepEqual([fromEnv.values.pingMs, fromEnv.values.mode, fromEnv.values.tags], [300, 'b', ['p', 'q']]);
  assert.deepEqual([...fromEnv.given].sort(), ['mode', 'pingMs', 'tags']);
  const fromFlags = loadSettings(TABLE, { flags: { pingMs: 400, tags: ['z'], verbose: true }, env });
  assert.deepEqual([fromFlags.values.pingMs, fromFlags.values.tags, fromFlags.values.verbose], [400, ['z'], true]);
  // --config names the file even when the environment names another.
  const other = file({ mode: 'a' });
  assert.equal(loadSettings(TABLE, { flags: {}, env, configFile: other }).values.mode, 'a');
  // An empty variable is not given.
  assert.equal(loadSettings(TABLE, { flags: {}, env: { DEMO_PING_MS: '' } }).values.pingMs, 100);
});

test('deprecated spellings are read, each with a line saying what to write; the setting\'s own spelling wins', () => {
  const fromFile = loadSettings(TABLE, { flags: {}, env: {}, configFile: file({ heartbeatMs: 150 }) });
  assert.equal(fromFile.values.pingMs, 150);
  assert.match(fromFile.deprecated.join('\n'), /"heartbeatMs" is deprecated; write "pingMs"/);
  const both = loadSettings(TABLE, { flags: {}, env: {}, configFile: file({ heartbeatMs: 150, pingMs: 160 }) });
  assert.equal(both.values.pingMs, 160);
  const fromEnv = loadSettings(TABLE, { flags: {}, env: { DEMO_HEARTBEAT_MS: '170' } });
  assert.equal(fromEnv.values.pingMs, 170);
  assert.deepEqual(fromEnv.deprecated, ['environment: DEMO_HEARTBEAT_MS is deprecated; set DEMO_PING_MS']);
  assert.equal(loadSettings(TABLE, { flags: {}, env: { DEMO_HEARTBEAT_MS: '170', DEMO_PING_MS: '180' } }).values.pingMs, 180);
});

test('a bad value names where it came from and how it was spelled there', () => {
  const fails = (input: Parameters<typeof loadSettings>[1], message: RegExp) =>
    assert.throws(() => loadSettings(TABLE, input), (e: unknown) => e instanceof ConfigError && message.test(e.message));
  fails({ flags: { pingMs: 5 }, env: {} }, /^command line: pingMs: expected an integer from 10 to 1000, got 5$/);
  fails({ flags: { pingMs: 'abc' }, env: {}, flagNames: { pingMs: '--ping-ms' } }, /^command line: --ping-ms: expected an integer from 10 to 1000, got "abc"$/);
  fails({ flags: {}, env: { DEMO_MAX_ITEMS_PER_CONNECTION: '11' } }, /^environment: DEMO_MAX_ITEMS_PER_CONNECTION: expected an integer from 1 to 10/);
  fails({ flags: {}, env: { DEMO_HEARTBEAT_MS: '1' } }, /^environment: DEMO_HEARTBEAT_MS: expected an integer/);
  fails({ flags: {}, env: { DEMO_VERBOSE: 'maybe' } }, /DEMO_VERBOSE: expected true or false, got "maybe"/);
  fails({ flags: {}, env: { DEMO_MODE: 'c' } }, /DEMO_MODE: expected one of a, b, got "c"/);
  fails({ flags: { listen: 'nope' }, env: {} }, /listen: expected HOST:PORT like 127\.0\.0\.1:9000/);
  const p = file({ colour: 'blue' });
  fails({ flags: {}, env: {}, configFile: p }, new RegExp(`^config file ${p}: unknown setting "colour" \\(known: listen, stateDir, pingMs,`));
  fails({ flags: {}, env: {}, configFile: file({ mode: 'z' }) }, /config file .*: mode: expected one of a, b/);
  fails({ flags: {}, env: {}, configFile: join(dir, 'missing.json') }, /cannot read config file/);
  fails({ flags: { colour: 1 }, env: {} }, /command line: unknown setting "colour"/);
});

test('an optional setting without a default stays absent until given', () => {
  const v = loadSettings(TABLE, { flags: {}, env: {} }).values;
  assert.equal('peer' in v, false);
  assert.deepEqual(loadSettings(TABLE, { flags: {}, env: { DEMO_PEER: '[::1]:5' } }).values.peer, { host: '::1', port: 5 });
});
