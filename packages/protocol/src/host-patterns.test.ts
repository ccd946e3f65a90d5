// spec.hosts: which entries are accepted (and the words of a refusal), and which hosts a pattern takes in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOSTS_LIMITS, hostMatches, hostsTakenIn, isHostPattern } from './host-patterns.js';
import { hostsValue, isHostEntry } from './validate.js';
import { parseParams } from './methods.js';
import { isDpnsError } from './errors.js';

test('an entry is a host name, an IP literal, or a pattern with * and ? that is a host name once they are letters', () => {
  for (const ok of ['media-1', 'media-*', '*', 'web-?.lan', '*.lan', '198.18.0.*', '10.0.0.5', 'fe80::1', 'a*b*c', 'h'.repeat(63)]) {
    assert.equal(isHostEntry(ok), true, ok);
  }
  for (const no of ['', 'media_*', 'media-[12]', 'a..*', '.*', '*-', 'fe80::*', 'a b', 'x'.repeat(254), 'media-\\*', '{a,b}', 7, null]) {
    assert.equal(isHostEntry(no), false, String(no));
  }
  assert.equal(isHostPattern('media-*'), true);
  assert.equal(isHostPattern('media-1'), false);
});

test('hostsValue: 1 to 16 entries, each once, each refusal naming its index and the rule', () => {
  assert.deepEqual(hostsValue(['a', 'b-*'], 'params.spec.hosts'), ['a', 'b-*']);
  const refused = (v: unknown): string => {
    try {
      hostsValue(v, 'params.spec.hosts');
    } catch (e) {
      assert.ok(isDpnsError(e) && e.code === 'INVALID_PARAMS');
      return `${String(e.details?.field)}: ${e.message}`;
    }
    assert.fail(`accepted ${JSON.stringify(v)}`);
  };
  assert.match(refused([]), /^params\.spec\.hosts: .*an array of 1 to 16 host names or patterns/);
  assert.match(refused(Array.from({ length: HOSTS_LIMITS.count + 1 }, (_, i) => `h${i}`)), /an array of 1 to 16/);
  assert.match(refused(['ok', 'no_pe']), /^params\.spec\.hosts\[1\]: .*\* stands for any run of characters and \? for one/);
  assert.match(refused(['a', 'a']), /^params\.spec\.hosts\[1\]: .*each host or pattern once/);
  assert.match(refused('media-*'), /an array/);
});

test('register.add takes host or hosts, never both nor neither; register.edit never both', () => {
  const add = (spec: Record<string, unknown>) => parseParams['register.add']({ name: '/s', spec: { program: '/bin/x', ...spec } });
  assert.deepEqual(add({ hosts: ['media-*'] }).spec.hosts, ['media-*']);
  assert.equal(add({ hosts: ['media-*'] }).spec.host, undefined);
  assert.equal(add({ host: 'h' }).spec.host, 'h');
  assert.equal(add({ host: 'h' }).spec.hosts, undefined, 'the single-host form is unchanged');
  const code = (f: () => unknown): [string, string] => {
    try {
      f();
    } catch (e) {
      assert.ok(isDpnsError(e));
      return [e.code, e.message];
    }
    assert.fail('accepted');
  };
  assert.deepEqual(code(() => add({ host: 'h', hosts: ['h2'] })), ['INVALID_PARAMS', 'params.spec.hosts: expected no hosts beside host (give one host, or a list of hosts), got an array']);
  assert.deepEqual(code(() => add({})), ['INVALID_PARAMS', 'params.spec.host: expected a string (or hosts: a list of host names and patterns), got nothing (the field is missing)']);
  assert.equal(code(() => add({ hosts: ['bad host'] }))[0], 'INVALID_PARAMS');
  assert.equal(code(() => parseParams['register.edit']({ name: '/s', spec: { host: 'h', hosts: ['x'] } }))[0], 'INVALID_PARAMS');
  assert.deepEqual(parseParams['register.edit']({ name: '/s', spec: { hosts: ['x', 'y*'] } }).spec.hosts, ['x', 'y*']);
});

test('a pattern takes in the hosts it matches, without regard to case; a host without wildcards only itself', () => {
  assert.equal(hostMatches('media-*', 'media-1'), true);
  assert.equal(hostMatches('media-*', 'media-'), true, '* may stand for nothing');
  assert.equal(hostMatches('media-*', 'MEDIA-2.lan'), true);
  assert.equal(hostMatches('media-*', 'web-1'), false);
  assert.equal(hostMatches('media-?', 'media-12'), false);
  assert.equal(hostMatches('media-?', 'media-1'), true);
  assert.equal(hostMatches('*.lan', 'a.b.lan'), true);
  assert.equal(hostMatches('a*b*c', 'aXbYbZc'), true);
  assert.equal(hostMatches('a*b*c', 'aXbYbZ'), false);
  assert.equal(hostMatches('198.18.0.*', '198.18.0.7'), true);
  assert.equal(hostMatches('198.18.0.1', '198.18.0.10'), false);
  assert.equal(hostMatches('Node1', 'node1'), true);
  // The worst case of a backtracking matcher stays quick: one backtrack point at a time.
  const t0 = process.hrtime.bigint();
  assert.equal(hostMatches(`${'*a'.repeat(100)}b`, 'a'.repeat(253)), false);
  assert.ok(process.hrtime.bigint() - t0 < 1_000_000_000n);
});

test('hostsTakenIn keeps the order of the known hosts, each once', () => {
  assert.deepEqual(hostsTakenIn(['media-*', 'web-1'], ['web-1', 'media-2', 'db-1', 'media-1', 'media-2']), ['web-1', 'media-2', 'media-1']);
  assert.deepEqual(hostsTakenIn(['nothing-*'], ['web-1']), []);
});
