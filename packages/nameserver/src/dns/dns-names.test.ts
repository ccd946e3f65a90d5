import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalDomain, dnsNameOf, dpnsNameOf, hostForm } from './dns-names.js';

test('a dpns name maps to a DNS name most specific label first, and back', () => {
  assert.equal(dnsNameOf('/vods/qs', 'dpns.'), 'qs.vods.dpns.');
  assert.equal(dnsNameOf('/host-1/svc_2', 'dpns.example.com.'), 'svc_2.host-1.dpns.example.com.');
  assert.deepEqual(dpnsNameOf('qs.vods.dpns', 'dpns.'), { kind: 'name', name: '/vods/qs' });
  assert.deepEqual(dpnsNameOf('QS.Vods.DPNS.', 'dpns.'), { kind: 'name', name: '/Vods/QS' }, 'the domain matches in any case; labels keep theirs');
  assert.deepEqual(dpnsNameOf('dpns', 'dpns.'), { kind: 'apex' });
  assert.deepEqual(dpnsNameOf('example.com', 'dpns.'), { kind: 'outside' });
  assert.deepEqual(dpnsNameOf('xdpns', 'dpns.'), { kind: 'outside' });
  assert.deepEqual(dpnsNameOf('a+b.dpns', 'dpns.'), { kind: 'impossible' });
});

test('names with a dot in a segment, a segment over 63 characters, or too long a DNS form have none', () => {
  assert.equal(dnsNameOf('/host-1/svc_2.v3', 'dpns.'), undefined);
  assert.equal(dnsNameOf(`/${'a'.repeat(63)}`, 'dpns.'), `${'a'.repeat(63)}.dpns.`);
  assert.equal(dnsNameOf(`/${'a'.repeat(64)}`, 'dpns.'), undefined);
  // Under dpns. the DNS form is the name's length plus 4: 249 characters fit, 250 do not.
  const long = (n: number) => `/${Array.from({ length: Math.ceil(n / 50) }, () => 'b'.repeat(49)).join('/')}`.slice(0, n);
  assert.equal(long(249).length, 249);
  assert.equal(dnsNameOf(long(249), 'dpns.')?.length, 254);
  assert.equal(dnsNameOf(long(250), 'dpns.'), undefined);
});

test('the domain setting is made canonical or refused', () => {
  assert.equal(canonicalDomain('DPNS'), 'dpns.');
  assert.equal(canonicalDomain('dpns.example.com.'), 'dpns.example.com.');
  assert.throws(() => canonicalDomain('.'), /at least one label/);
  assert.throws(() => canonicalDomain('a..b'), /label ""/);
  assert.throws(() => canonicalDomain('-x'), /label "-x"/);
});

test('a host is an address or a name to point at', () => {
  assert.deepEqual(hostForm('127.0.0.1'), { kind: 'ipv4', address: '127.0.0.1' });
  assert.deepEqual(hostForm('::1'), { kind: 'ipv6', address: '::1' });
  assert.deepEqual(hostForm('[::1]'), { kind: 'ipv6', address: '::1' });
  assert.deepEqual(hostForm('media-1.lan'), { kind: 'name', target: 'media-1.lan.' });
  assert.deepEqual(hostForm('bad host'), { kind: 'none' });
});
