import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDpnsError } from '@dpns/protocol';
import { parseEndpoint } from './endpoints.js';

test('host:port, bare host, IPv6 in brackets and URLs', () => {
  assert.deepEqual(parseEndpoint('127.0.0.1:7700'), { label: '127.0.0.1:7700', url: 'ws://127.0.0.1:7700' });
  assert.deepEqual(parseEndpoint('ns1'), { label: 'ns1:7700', url: 'ws://ns1:7700' });
  assert.deepEqual(parseEndpoint('[::1]:7701'), { label: '[::1]:7701', url: 'ws://[::1]:7701' });
  assert.deepEqual(parseEndpoint(' ws://ns2:9000/x '), { label: 'ns2:9000', url: 'ws://ns2:9000/x' });
});

test('anything else is INVALID_PARAMS naming the value', () => {
  for (const bad of ['', 'host:', 'host:0', 'host:70000', 'host:12x', '::1:7700', 'a b:1', 'ws://']) {
    assert.throws(() => parseEndpoint(bad), (e) => isDpnsError(e, 'INVALID_PARAMS') && e.message.includes(JSON.stringify(bad)), bad);
  }
});
