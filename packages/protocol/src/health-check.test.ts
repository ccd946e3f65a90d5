import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHECK_LIMITS } from './entries.js';
import { isDpnsError } from './errors.js';
import { parseParams } from './methods.js';
import { redactSpec } from './redact.js';

const adv = (check: unknown, extra: Record<string, unknown> = { static: true }) => parseParams.advertiseService({ name: '/db/main', host: '127.0.0.1', port: 5432, ...extra, check });
const add = (check: unknown) => parseParams['register.add']({ name: '/web/shop', spec: { host: 'h', program: '/bin/shop', check } });

function refused(f: () => unknown, field: string, message: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(isDpnsError(e, 'INVALID_PARAMS'), String(e));
    assert.equal(e.details?.field, field);
    assert.match(e.message, message);
    return true;
  });
}

test('a check gets its defaults: every 5 s, a 2 s timeout, unhealthy after 3 in a row', () => {
  assert.deepEqual(adv({ kind: 'tcp' }).check, { kind: 'tcp', intervalMs: 5000, timeoutMs: 2000, threshold: 3 });
  assert.deepEqual(add({ kind: 'http', path: '/healthz', threshold: 1 }).spec.check, { kind: 'http', path: '/healthz', intervalMs: 5000, timeoutMs: 2000, threshold: 1 });
  assert.equal(adv(undefined).check, undefined);
  assert.equal('check' in add(undefined).spec, false);
  const { intervalMs, timeoutMs, threshold } = CHECK_LIMITS;
  assert.deepEqual([intervalMs.dflt, timeoutMs.dflt, threshold.dflt], [5000, 2000, 3]);
});

test('bounds: a smallest interval, a timeout below the interval, a threshold from 1 to 100', () => {
  refused(() => adv({ kind: 'tcp', intervalMs: 999 }), 'params.check.intervalMs', /expected an integer from 1000 to 3600000, got number 999$/);
  refused(() => adv({ kind: 'tcp', intervalMs: 1.5 }), 'params.check.intervalMs', /expected an integer from 1000/);
  refused(() => adv({ kind: 'tcp', timeoutMs: 99 }), 'params.check.timeoutMs', /expected an integer from 100 to 60000/);
  refused(() => adv({ kind: 'tcp', threshold: 0 }), 'params.check.threshold', /expected an integer from 1 to 100/);
  refused(() => adv({ kind: 'tcp', threshold: 101 }), 'params.check.threshold', /expected an integer from 1 to 100/);
  // The timeout's default (2000) against a shorter interval, and equal values.
  refused(() => adv({ kind: 'tcp', intervalMs: 1500 }), 'params.check.timeoutMs', /^params\.check\.timeoutMs: expected less than the interval \(1500 ms\), got number 2000$/);
  refused(() => adv({ kind: 'tcp', intervalMs: 1000, timeoutMs: 1000 }), 'params.check.timeoutMs', /less than the interval \(1000 ms\)/);
  assert.equal(adv({ kind: 'tcp', intervalMs: 1000, timeoutMs: 999 }).check?.timeoutMs, 999);
  refused(() => add({ kind: 'tcp', timeoutMs: 6000 }), 'params.spec.check.timeoutMs', /less than the interval \(5000 ms\)/);
});

test('kinds and paths: tcp without a path, http with an absolute printable one', () => {
  refused(() => adv({ kind: 'udp' }), 'params.check.kind', /expected "tcp" or "http", got "udp"$/);
  refused(() => adv({ kind: 'http' }), 'params.check.path', /expected a path for an http check/);
  refused(() => adv({ kind: 'tcp', path: '/x' }), 'params.check.path', /expected no path for a tcp check/);
  for (const bad of ['healthz', '/a b', '/a\r\nHost: evil', '/\u00e9', `/${'a'.repeat(1024)}`, 7]) {
    refused(() => adv({ kind: 'http', path: bad }), 'params.check.path', /expected an absolute HTTP path of at most 1024 printable ASCII characters/);
  }
  assert.equal(adv({ kind: 'http', path: '/healthz?deep=1&x=%20' }).check?.path, '/healthz?deep=1&x=%20');
  refused(() => adv({ kind: 'tcp', extra: 1 }), 'params.check.extra', /unknown field "extra"/);
  refused(() => adv('tcp'), 'params.check', /expected an object/);
});

test('a check on an advertisement needs static: a session is watched through its connection', () => {
  refused(() => adv({ kind: 'tcp' }, {}), 'params.check', /a check only with static: true/);
  refused(() => adv({ kind: 'tcp' }, { static: false }), 'params.check', /a check only with static: true/);
});

test('register.edit sets or unsets a check, with the same rules', () => {
  const p = parseParams['register.edit']({ name: '/s', spec: { check: { kind: 'tcp', threshold: 5 } } });
  assert.deepEqual(p.spec.check, { kind: 'tcp', intervalMs: 5000, timeoutMs: 2000, threshold: 5 });
  assert.deepEqual(parseParams['register.edit']({ name: '/s', unset: ['check'] }).unset, ['check']);
  refused(() => parseParams['register.edit']({ name: '/s', spec: { check: { kind: 'http' } } }), 'params.spec.check.path', /expected a path/);
  refused(() => parseParams['register.edit']({ name: '/s', spec: { check: { kind: 'tcp' } }, unset: ['check'] }), 'params.unset', /not both a value and unset for "check"/);
});

test('a redacted spec still shows its check', () => {
  const check = { kind: 'http' as const, path: '/h', intervalMs: 5000, timeoutMs: 2000, threshold: 3 };
  assert.deepEqual(redactSpec({ host: 'h', program: 'p', args: ['secret'], env: {}, startTimeoutMs: 1000, check }).check, check);
});
