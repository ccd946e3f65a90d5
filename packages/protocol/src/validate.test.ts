import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { isHost } from './validate.js';

test('the host rule: DNS names, IPv4 and IPv6 literals, nothing else', () => {
  for (const ok of ['localhost', 'db-1.example.com', 'example.com.', 'a', `${'a'.repeat(63)}.b`, '1a.example', '127.0.0.1', '0.0.0.0', '255.255.255.255', '198.18.0.1',
    '::1', '::', 'fe80::1', '2001:db8::8a2e:370:7334', '1:2:3:4:5:6:7:8', '::ffff:192.0.2.1', '64:ff9b::192.0.2.33']) {
    assert.ok(isHost(ok), ok);
  }
  for (const bad of ['a..b', '999.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '256.0.0.1', '123', '.a', 'a-.b', '-a', `${'a'.repeat(64)}.b`,
    'a_b', '[::1]', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', '1::2::3', ':::', '12345::', '::ffff:999.0.0.1', 'g::1', 'a b', '']) {
    assert.ok(!isHost(bad), bad);
  }
});

test('the host rule agrees with node:net on IP literals', () => {
  const samples = ['::1', '1::', '::ffff:1.2.3.4', '1:2:3:4:5:6:7::', '1:2:3:4:5:6::7', '::2:3:4:5:6:7:8', '1.1.1.1', '10.0.0.255', '0:0:0:0:0:0:0:0', '1:2:3:4:5:6:1.2.3.4', '1::2:3:4:5:6:7:8'];
  for (const s of samples) assert.equal(isHost(s), isIP(s) !== 0, s);
});
