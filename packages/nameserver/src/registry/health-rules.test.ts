import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HealthCheck, ServiceView } from '@dpns/protocol';
import { checkTarget, planHealth, targetKey } from './health-rules.js';
import { answerable, find, findSliced, launchesOnLookup } from './queries.js';
import { Registry } from './registry.js';
import { planAdvertise, planEdit, planLost, planReportLoad } from './rules.js';

const check: HealthCheck = { kind: 'tcp', intervalMs: 1000, timeoutMs: 500, threshold: 3 };
const statik: ServiceView = { kind: 'service', name: '/db', state: 'running', since: 1, host: '10.0.0.5', port: 5432, advertiser: { kind: 'static' }, check };
const target = { host: '10.0.0.5', port: 5432, check };
const admin = { admin: true, connId: 1 };
const nobody = { liveConn: () => undefined };

function registry(...entries: ServiceView[]): Registry {
  const reg = new Registry();
  reg.apply(entries.map((e) => ({ t: 'put' as const, e })), 1);
  return reg;
}

test('what is probed: an advertised entry with an address and a check, its own or its spec\'s', () => {
  assert.deepEqual(checkTarget(statik), target);
  assert.deepEqual(checkTarget({ ...statik, state: 'unhealthy' }), target);
  const { check: _c, ...plain } = statik;
  assert.equal(checkTarget(plain), undefined);
  assert.deepEqual(checkTarget({ ...plain, spec: { host: 'h', program: 'p', args: [], env: {}, startTimeoutMs: 1000, check } }), target);
  for (const state of ['lost', 'stopped', 'starting', 'stopping', 'failed', 'registered'] as const) assert.equal(checkTarget({ ...statik, state }), undefined, state);
  assert.equal(checkTarget(undefined), undefined);
  assert.notEqual(targetKey(target), targetKey({ ...target, port: 5433 }));
  assert.notEqual(targetKey(target), targetKey({ ...target, check: { ...check, threshold: 4 } }));
});

test('a failing verdict makes a running entry unhealthy; a passing one makes it running again; nothing else is written', () => {
  const reg = registry(statik);
  const sick = planHealth(reg, '/db', target, { healthy: false, reason: 'tcp connect 10.0.0.5:5432: ECONNREFUSED (3 in a row)' }, 50);
  assert.deepEqual(sick, [{ t: 'put', e: { ...statik, state: 'unhealthy', since: 50, reason: 'tcp connect 10.0.0.5:5432: ECONNREFUSED (3 in a row)' } }]);
  assert.deepEqual(planHealth(reg, '/db', target, { healthy: true }, 60), [], 'running and healthy: nothing to write');
  reg.apply(sick, 2);
  assert.deepEqual(planHealth(reg, '/db', target, { healthy: false, reason: 'again' }, 70), [], 'unhealthy already');
  assert.deepEqual(planHealth(reg, '/db', target, { healthy: true }, 80), [{ t: 'put', e: { ...statik, since: 80 } }]);
  // A verdict about an address or check the entry no longer has is dropped.
  assert.deepEqual(planHealth(reg, '/db', { ...target, port: 1 }, { healthy: true }, 90), []);
  assert.deepEqual(planHealth(reg, '/gone', target, { healthy: true }, 90), []);
});

test('finds leave an unhealthy entry out; the exact name answers NOT_RUNNING with the state and reason', async () => {
  const reg = registry({ ...statik, name: '/p/a', state: 'unhealthy', reason: 'why' }, { ...statik, name: '/p/b' });
  assert.deepEqual(find(reg, '/p/*').map((l) => l.service), ['/p/b']);
  assert.deepEqual((await findSliced(reg, '/p/*')).map((l) => l.service), ['/p/b']);
  assert.throws(() => find(reg, '/p/a'), (e: unknown) => {
    const d = e as { code: string; message: string; details: Record<string, unknown> };
    return d.code === 'NOT_RUNNING' && d.message === '/p/a is unhealthy: why' && d.details.state === 'unhealthy' && d.details.reason === 'why';
  });
});

test('an unhealthy entry is still advertised: held against takeover, lost with its connection, reporting load; re-advertising the same writes nothing', () => {
  const session: ServiceView = { kind: 'service', name: '/s', state: 'unhealthy', since: 1, host: 'h', port: 1, advertiser: { kind: 'session' }, reason: 'r' };
  const reg = registry(session);
  assert.throws(() => planAdvertise(reg, { name: '/s', host: 'h', port: 2, static: false }, { admin: false, connId: 9 }, nobody, 5), /already advertised by another connection/);
  assert.equal(planLost(reg, '/s', 'gone', 5)[0]?.t, 'put');
  assert.equal(planReportLoad(reg, '/s', 3, admin, nobody, 5).length, 1);
  const sickStatic = registry({ ...statik, state: 'unhealthy', reason: 'r' });
  assert.deepEqual(planAdvertise(sickStatic, { name: '/db', host: '10.0.0.5', port: 5432, static: true, check }, admin, nobody, 5), []);
  // Another check is a new advertisement: running, counted from zero.
  const other = planAdvertise(sickStatic, { name: '/db', host: '10.0.0.5', port: 5432, static: true, check: { ...check, threshold: 5 } }, admin, nobody, 5);
  assert.equal((other[0] as { e: ServiceView }).e.state, 'running');
  assert.equal((other[0] as { e: ServiceView }).e.check?.threshold, 5);
  // No check given: the new entry has none.
  const none = planAdvertise(sickStatic, { name: '/db', host: '10.0.0.5', port: 5432, static: true }, admin, nobody, 5);
  assert.equal((none[0] as { e: ServiceView }).e.check, undefined);
});

test('the registry counts unhealthy entries and knows which may have a check, loaded from text or applied', () => {
  const reg = registry({ ...statik, name: '/a', state: 'unhealthy', reason: 'r' }, { ...statik, name: '/b' });
  const { check: _c, ...plain } = statik;
  reg.apply([{ t: 'put', e: { ...plain, name: '/c' } }], 2);
  assert.equal(reg.unhealthyCount, 1);
  assert.deepEqual([...reg.checked()].sort(), ['/a', '/b']);
  const copy = new Registry();
  const snap = reg.snapshot();
  copy.load({ ...snap, entries: { names: snap.entries.map((e) => e.name).sort(), held: snap.entries.sort((x, y) => (x.name < y.name ? -1 : 1)).map((e) => JSON.stringify(e)) } });
  assert.equal(copy.unhealthyCount, 1);
  assert.deepEqual([...copy.checked()].sort(), ['/a', '/b']);
  copy.apply([{ t: 'put', e: { ...statik, name: '/a' } }, { t: 'del', n: '/b' }], 3);
  assert.equal(copy.unhealthyCount, 0);
  assert.deepEqual([...copy.checked()], ['/a']);
});

test('an edit that removes the check of an unhealthy service makes it running: nothing would probe it back', () => {
  const spec = { host: 'h', program: 'p', args: [], env: {}, startTimeoutMs: 1000, check };
  const sick: ServiceView = { kind: 'service', name: '/l', state: 'unhealthy', since: 1, host: 'h', port: 1, advertiser: { kind: 'session' }, reason: 'r', spec, pid: 4 };
  const reg = registry(sick);
  const { entry } = planEdit(reg, { name: '/l', spec: {}, unset: ['check'] }, 9);
  assert.equal(entry.state, 'running');
  assert.equal(entry.reason, undefined);
  assert.equal(entry.since, 9);
  assert.equal(entry.spec?.check, undefined);
  assert.equal(entry.pid, 4);
  // A new check keeps it unhealthy until a probe passes.
  assert.equal(planEdit(reg, { name: '/l', spec: { check: { ...check, threshold: 9 } }, unset: [] }, 9).entry.state, 'unhealthy');
});

test('a lookup launches an auto-start service that is not advertised, never an unhealthy one (it runs)', () => {
  const spec = { host: 'h', program: 'p', args: [], env: {}, startTimeoutMs: 1000, check };
  for (const state of ['registered', 'stopped', 'failed', 'lost', 'starting', 'stopping'] as const) assert.equal(launchesOnLookup({ kind: 'service', name: '/a', state, since: 0, spec }), true, state);
  assert.equal(launchesOnLookup({ kind: 'service', name: '/a', state: 'unhealthy', since: 0, spec, host: 'h', port: 1 }), false);
  assert.equal(launchesOnLookup({ kind: 'service', name: '/a', state: 'running', since: 0, spec, host: 'h', port: 1 }), false);
  assert.equal(launchesOnLookup({ ...statik, state: 'stopped' }), false, 'no spec: nothing to launch');
  assert.equal(answerable({ ...statik, state: 'unhealthy' }), false);
  assert.equal(answerable(statik), true);
});
