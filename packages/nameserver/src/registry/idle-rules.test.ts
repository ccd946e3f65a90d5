import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LaunchSpec, ServiceView } from '@dpns/protocol';
import { idleVerdict } from './idle-rules.js';

const spec: LaunchSpec = { host: 'h', program: 'p', args: [], env: {}, startTimeoutMs: 1000, idleStopMs: 60_000 };
const up: ServiceView = { kind: 'service', name: '/s', state: 'running', since: 1000, host: 'h', port: 1, spec, pid: 7 };

test('a running service unused for its idle stop is stopped, with how long it was idle as the reason', () => {
  assert.deepEqual(idleVerdict(up, 10_000, 0, 70_000), { stop: true, reason: 'idle for 1m0s' });
  assert.deepEqual(idleVerdict(up, 10_000, 0, 10_000 + 10 * 60_000 + 1500), { stop: true, reason: 'idle for 10m1s' });
  // One millisecond short: it stays, and the verdict says how long is left.
  assert.deepEqual(idleVerdict(up, 10_000, 0, 69_999), { stop: false, leftMs: 1 });
});

test('the clock runs from the latest of the last use, the start of running and the promotion', () => {
  // Never used: from when it started running.
  assert.equal(idleVerdict(up, undefined, 0, 60_999).stop, false);
  assert.equal(idleVerdict(up, undefined, 0, 61_000).stop, true);
  // Used before it was relaunched: the relaunch counts.
  assert.equal(idleVerdict({ ...up, since: 50_000 }, 10_000, 0, 100_000).stop, false);
  // A new primary knows no use from before: not stopped sooner than the idle stop after a failover.
  assert.equal(idleVerdict(up, 10_000, 90_000, 149_999).stop, false);
  assert.equal(idleVerdict(up, 10_000, 90_000, 150_000).stop, true);
});

test('a reported load other than zero keeps it; zero or none does not', () => {
  assert.equal(idleVerdict({ ...up, load: 0.5, loadAt: 2000 }, 10_000, 0, 1e9).stop, false);
  assert.equal(idleVerdict({ ...up, load: 0, loadAt: 2000 }, 10_000, 0, 1e9).stop, true);
  assert.equal(idleVerdict(up, 10_000, 0, 1e9).stop, true);
});

test('only a running auto-start service with an idle stop: not while starting or stopping, nor unhealthy, stopped or any other state', () => {
  for (const state of ['starting', 'stopping', 'stopped', 'unhealthy', 'lost', 'failed', 'registered'] as const) {
    assert.deepEqual(idleVerdict({ ...up, state }, 0, 0, 1e9), { stop: false }, state);
  }
  const { idleStopMs: _none, ...plainSpec } = spec;
  assert.deepEqual(idleVerdict({ ...up, spec: plainSpec }, 0, 0, 1e9), { stop: false });
  const { spec: _s, ...statik } = up;
  assert.deepEqual(idleVerdict({ ...statik, advertiser: { kind: 'static' } }, 0, 0, 1e9), { stop: false });
  assert.deepEqual(idleVerdict({ kind: 'alias', name: '/a', target: '/s', since: 0 }, 0, 0, 1e9), { stop: false });
  assert.deepEqual(idleVerdict(undefined, 0, 0, 1e9), { stop: false });
});
