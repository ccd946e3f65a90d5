import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { DpnsError } from './errors.js';
import { parseParams } from './methods.js';
import { bad, bool, host, int, isHost, object, onlyKeys, port, specField, str } from './validate.js';

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

/** The DpnsError `fn` throws, for its code, message and details. */
function refusal(fn: () => unknown): DpnsError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DpnsError) return e;
    throw e;
  }
  assert.fail('expected a refusal');
}

test('a refusal says what was given, in a few words', () => {
  const got = (v: unknown) => bad('p.x', 'something', v).message.replace('p.x: expected something, got ', '');
  assert.equal(got(undefined), 'nothing (the field is missing)');
  assert.equal(got(null), 'null');
  assert.equal(got([1]), 'an array');
  assert.equal(got({ a: 1 }), 'an object');
  assert.equal(got('x'.repeat(40)), JSON.stringify('x'.repeat(40)));
  assert.equal(got('x'.repeat(41)), 'a string of 41 characters');
  assert.equal(got(5), 'number 5');
  assert.equal(got(true), 'boolean true');
  const e = bad('p.x', 'something', 1);
  assert.equal(e.code, 'INVALID_PARAMS');
  assert.deepEqual(e.details, { field: 'p.x' });
});

test('object: only a plain object, copied onto a null prototype', () => {
  for (const v of [undefined, null, [], 'a', 1]) assert.equal(refusal(() => object(v, 'params')).details?.field, 'params', String(v));
  const o = object(JSON.parse('{"__proto__": {"admin": true}, "a": 1}'), 'params');
  assert.equal(Object.getPrototypeOf(o), null);
  assert.deepEqual(Object.keys(o).sort(), ['__proto__', 'a']);
});

test('onlyKeys names the unknown field, cut at 64 characters, and what is allowed', () => {
  const e = refusal(() => onlyKeys({ a: 1, zz: 2 }, ['a', 'b'], 'params'));
  assert.equal(e.message, 'params: unknown field "zz" (allowed: a, b)');
  assert.deepEqual(e.details, { field: 'params.zz' });
  assert.match(refusal(() => onlyKeys({ x: 1 }, [], 'params')).message, /\(allowed: none\)$/);
  const long = 'k'.repeat(80);
  const l = refusal(() => onlyKeys({ [long]: 1 }, ['a'], 'params'));
  assert.ok(l.message.includes(`"${'k'.repeat(64)}"`) && !l.message.includes('k'.repeat(65)), l.message);
  assert.equal(l.details?.field, `params.${'k'.repeat(64)}`);
  assert.doesNotThrow(() => onlyKeys({ a: 1 }, ['a'], 'params'));
});

test('str: a non-empty string of at most 4096 characters without NUL, unless told otherwise', () => {
  assert.equal(str({ s: 'x'.repeat(4096) }, 's', 'p'), 'x'.repeat(4096));
  assert.match(refusal(() => str({ s: 'x'.repeat(4097) }, 's', 'p')).message, /^p\.s: expected at most 4096 characters/);
  assert.match(refusal(() => str({ s: '' }, 's', 'p')).message, /^p\.s: expected a non-empty string/);
  assert.equal(str({ s: '' }, 's', 'p', { min: 0 }), '');
  assert.match(refusal(() => str({ s: 'ab' }, 's', 'p', { min: 3 })).message, /non-empty/);
  assert.equal(str({ s: 'abc' }, 's', 'p', { max: 3 }), 'abc');
  assert.match(refusal(() => str({ s: 'abcd' }, 's', 'p', { max: 3 })).message, /at most 3 characters/);
  assert.match(refusal(() => str({ s: 'a\0b' }, 's', 'p')).message, /a string without NUL/);
  assert.match(refusal(() => str({ s: 1 }, 's', 'p')).message, /^p\.s: expected a string, got number 1/);
});

test('int: an integer within the bounds, both included', () => {
  assert.equal(int({ n: 1 }, 'n', 'p', 1, 3), 1);
  assert.equal(int({ n: 3 }, 'n', 'p', 1, 3), 3);
  for (const v of [0, 4, 1.5, '2', null, undefined, NaN]) {
    assert.equal(refusal(() => int({ n: v }, 'n', 'p', 1, 3)).message.startsWith('p.n: expected an integer from 1 to 3'), true, String(v));
  }
  assert.equal(port({ n: 65535 }, 'n', 'p'), 65535);
  assert.throws(() => port({ n: 0 }, 'n', 'p'), DpnsError);
});

test('bool: the default when absent, else exactly true or false', () => {
  assert.equal(bool({}, 'b', 'p', true), true);
  assert.equal(bool({}, 'b', 'p', false), false);
  assert.equal(bool({ b: false }, 'b', 'p', true), false);
  assert.equal(bool({ b: true }, 'b', 'p', false), true);
  const e = refusal(() => bool({ b: 'yes' }, 'b', 'p', false));
  assert.equal(e.message, 'p.b: expected true or false, got "yes"');
  assert.throws(() => bool({ b: null }, 'b', 'p', false), DpnsError);
});

test('host: the host rule, and at most 253 characters', () => {
  const label = 'a'.repeat(63);
  const name253 = [label, label, label, 'a'.repeat(61)].join('.');
  assert.equal(host({ h: name253 }, 'h', 'p'), name253);
  assert.match(refusal(() => host({ h: `${name253}a` }, 'h', 'p')).message, /at most 253 characters/);
  assert.equal(refusal(() => host({ h: 'a b' }, 'h', 'p')).message, 'p.h: expected a host name or IP address, got "a b"');
  assert.ok(!isHost('1:2:3:4:5:6:7:g'), 'every one of eight groups is checked');
});

const SPEC = { host: 'h1', program: '/bin/true' };

/** A launch spec as register.add parses it (its refusals name params.spec.<field>). */
function launchSpec(spec: Record<string, unknown>) {
  return parseParams['register.add']({ name: '/a', spec }).spec;
}

test('a launch spec gets its defaults, and keeps what was given', () => {
  const plain = launchSpec(SPEC);
  assert.deepEqual({ ...plain, env: { ...plain.env } }, { host: 'h1', program: '/bin/true', args: [], env: {}, startTimeoutMs: 10_000 });
  const full = launchSpec({ ...SPEC, args: ['-v'], env: { AB_1: 'x', _z: '' }, cwd: '/srv', user: 'svc-demo', startTimeoutMs: 100, restart: 'on-failure' });
  assert.deepEqual({ ...full, env: { ...full.env } }, {
    host: 'h1', program: '/bin/true', args: ['-v'], env: { AB_1: 'x', _z: '' }, cwd: '/srv', user: 'svc-demo', startTimeoutMs: 100, restart: 'on-failure',
  });
  assert.equal('restart' in launchSpec({ ...SPEC, restart: 'no' }), false, '"no" is the default, stored as absent');
  assert.equal(launchSpec({ ...SPEC, startTimeoutMs: 600_000 }).startTimeoutMs, 600_000);
});

test('each launch-spec field is checked, and the refusal names it', () => {
  const field = (spec: Record<string, unknown>) => refusal(() => launchSpec({ ...SPEC, ...spec })).details?.field;
  assert.equal(field({ host: 'bad host' }), 'params.spec.host');
  assert.equal(field({ program: '' }), 'params.spec.program');
  assert.equal(field({ args: 'x' }), 'params.spec.args');
  assert.match(refusal(() => launchSpec({ ...SPEC, args: 'x' })).message, /^params\.spec\.args: expected an array of at most 256 strings, got "x"/);
  assert.equal(field({ args: Array.from({ length: 257 }, () => 'a') }), 'params.spec.args');
  assert.equal(launchSpec({ ...SPEC, args: Array.from({ length: 256 }, () => 'a') }).args.length, 256);
  assert.equal(field({ args: ['ok', 1] }), 'params.spec.args[1]');
  assert.equal(field({ args: ['x'.repeat(4097)] }), 'params.spec.args[0]');
  assert.equal(launchSpec({ ...SPEC, args: ['x'.repeat(4096)] }).args[0]?.length, 4096);
  assert.equal(field({ args: ['a\0'] }), 'params.spec.args[0]');
  assert.match(refusal(() => launchSpec({ ...SPEC, args: [2] })).message, /^params\.spec\.args\[0\]: expected a string of at most 4096 characters without NUL/);
  assert.equal(field({ env: [] }), 'params.spec.env');
  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`V${i}`, 'x']));
  assert.match(refusal(() => launchSpec({ ...SPEC, env: many(257) })).message, /^params\.spec\.env: expected at most 256 variables, got "257 variables"/);
  assert.equal(Object.keys(launchSpec({ ...SPEC, env: many(256) }).env).length, 256);
  assert.equal(field({ env: { '1A': 'x' } }), 'params.spec.env');
  assert.equal(field({ env: { A1: 'x', AB: 'x', 'A-B': 'x' } }), 'params.spec.env');
  assert.equal(field({ env: { [`A${'b'.repeat(256)}`]: 'x' } }), 'params.spec.env');
  assert.equal(Object.keys(launchSpec({ ...SPEC, env: { [`A${'b'.repeat(255)}`]: 'x' } }).env).length, 1);
  assert.equal(field({ env: { A: 1 } }), 'params.spec.env.A');
  assert.equal(field({ env: { A: 'x'.repeat(4097) } }), 'params.spec.env.A');
  assert.equal(launchSpec({ ...SPEC, env: { A: 'x'.repeat(4096) } }).env.A?.length, 4096);
  assert.equal(field({ env: { A: 'a\0' } }), 'params.spec.env.A');
  assert.match(refusal(() => launchSpec({ ...SPEC, env: { A: 2 } })).message, /^params\.spec\.env\.A: expected a string of at most 4096 characters without NUL/);
  assert.equal(field({ cwd: 'srv/' }), 'params.spec.cwd');
  assert.equal(field({ user: 'Xsvc' }), 'params.spec.user');
  assert.equal(field({ user: 'svc!' }), 'params.spec.user');
  assert.match(refusal(() => launchSpec({ ...SPEC, user: 'svc!' })).message, /a user name like "svc-demo"/);
  assert.equal(field({ user: `${'a'.repeat(32)}$` }), 'params.spec.user', 'at most 32 characters');
  assert.equal(launchSpec({ ...SPEC, user: `${'a'.repeat(31)}$` }).user, `${'a'.repeat(31)}$`);
  assert.equal(field({ restart: 'always' }), 'params.spec.restart');
  assert.match(refusal(() => launchSpec({ ...SPEC, restart: 'always' })).message, /expected "no" or "on-failure"/);
  assert.equal(field({ startTimeoutMs: 99 }), 'params.spec.startTimeoutMs');
  assert.equal(field({ startTimeoutMs: 600_001 }), 'params.spec.startTimeoutMs');
});

test('specField takes one field at a time, as register.edit does', () => {
  assert.equal(specField({ restart: 'no' }, 'restart', 'p'), 'no');
  assert.equal(specField({ restart: 'on-failure' }, 'restart', 'p'), 'on-failure');
  assert.equal(specField({ startTimeoutMs: 100 }, 'startTimeoutMs', 'p'), 100);
  assert.equal(refusal(() => specField({ restart: 'never' }, 'restart', 'p')).details?.field, 'p.restart');
});
