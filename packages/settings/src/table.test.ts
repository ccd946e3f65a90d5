// The spellings a table works out, and the mistakes in a table it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineSettings, int, kebab, setting, snake } from './index.js';
import { TABLE } from './table.test.helper.js';

test('a setting is spelled from its name: kebab-case flag, upper-case variable after the prefix; a flag may keep an older spelling', () => {
  assert.equal(kebab('maxFrameBytes'), 'max-frame-bytes');
  assert.equal(snake('maxFrameBytes'), 'MAX_FRAME_BYTES');
  assert.equal(TABLE.flag('pingMs'), '--ping-ms');
  assert.equal(TABLE.env('pingMs'), 'DEMO_PING_MS');
  assert.equal(TABLE.flag('maxItemsPerConnection'), '--max-items');
  assert.equal(TABLE.env('maxItemsPerConnection'), 'DEMO_MAX_ITEMS_PER_CONNECTION');
  assert.equal(TABLE.configEnv, 'DEMO_CONFIG');
  assert.deepEqual(TABLE.entries.map((e) => e.name), ['listen', 'stateDir', 'pingMs', 'maxItemsPerConnection', 'mode', 'verbose', 'tags', 'peer']);
});

test('defaults: computed when they depend on the host, and a fresh copy each time', () => {
  assert.equal(TABLE.defaultOf('stateDir'), '/var/lib/demo');
  const tags = TABLE.defaultOf('tags');
  tags.push('x');
  assert.deepEqual(TABLE.defaultOf('tags'), []);
});

test('two settings spelled alike are a mistake in the table, found when it is defined', () => {
  assert.throws(() => defineSettings({ command: 'x', envPrefix: 'X_' }, {
    aB: setting({ kind: int(0, 1), default: 0, group: 'g', help: 'h' }),
    other: setting({ kind: int(0, 1), default: 0, group: 'g', help: 'h', flag: 'a-b' }),
  }), /--a-b is spelled twice/);
  assert.throws(() => defineSettings({ command: 'x', envPrefix: 'X_' }, {
    fooMs: setting({ kind: int(0, 1), default: 0, group: 'g', help: 'h' }),
    barMs: setting({ kind: int(0, 1), default: 0, group: 'g', help: 'h', deprecated: { key: 'fooMs' } }),
  }), /fooMs is spelled twice/);
});
