import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DpnsError, type LaunchSpec, type Location } from '@dpns/protocol';
import { createLogger } from '../log.js';
import { Registry } from '../registry/registry.js';
import type { Launcher } from './launcher.js';
import { Restarter } from './restarter.js';

const spec: LaunchSpec = { host: 'h', program: 'p', args: [], env: {}, startTimeoutMs: 1000, restart: 'on-failure' };
const log = createLogger({ level: 'silent', format: 'json' });

function setup(restart: LaunchSpec['restart'], outcomes: boolean[]) {
  const reg = new Registry();
  reg.apply([{ t: 'put', e: { kind: 'service', name: '/s', state: 'lost', since: 0, spec: { ...spec, restart } } }], 1);
  const calls: number[] = [];
  const t0 = Date.now();
  const launcher = {
    launch: (name: string): Promise<{ service: Location; launched: boolean }> => {
      calls.push(Date.now() - t0);
      const ok = outcomes.shift() ?? true;
      if (!ok) return Promise.reject(new DpnsError('LAUNCH_FAILED', 'exited early'));
      reg.apply([{ t: 'put', e: { kind: 'service', name, state: 'running', since: 0, spec, host: 'h', port: 1 } }], 2);
      return Promise.resolve({ service: { name, service: name, host: 'h', port: 1 }, launched: true });
    },
  } as unknown as Launcher;
  const r = new Restarter(reg, launcher, log, Date.now, { firstDelayMs: 20, maxDelayMs: 80, stableMs: 10_000 });
  return { r, calls };
}

const wait = (ms: number) => new Promise((res) => setTimeout(res, ms));

test('a lost on-failure service is relaunched, with the delay doubling after each failed try', async () => {
  const { r, calls } = setup('on-failure', [false, false, true]);
  r.lost('/s');
  await wait(400);
  assert.equal(calls.length, 3);
  // 20 ms, then +40, then +80: each gap at least the back-off.
  assert.ok((calls[0] as number) >= 18 && (calls[1] as number) - (calls[0] as number) >= 38 && (calls[2] as number) - (calls[1] as number) >= 78, calls.join(','));
  assert.deepEqual(r.status('/s'), { failures: 2, pending: false });
  r.stop();
});

test('no restart without the policy, nor after a cancel (a kill)', async () => {
  const a = setup(undefined, []);
  a.r.lost('/s');
  const b = setup('on-failure', []);
  b.r.lost('/s');
  b.r.cancel('/s');
  await wait(100);
  assert.equal(a.calls.length, 0);
  assert.equal(b.calls.length, 0);
});

test('an unhealthy on-failure service is killed, then launched again; healthy again before the delay, it is left alone', async () => {
  const reg = new Registry();
  const sick = { kind: 'service' as const, name: '/s', state: 'unhealthy' as const, since: 0, spec, host: 'h', port: 1, pid: 7, reason: 'tcp connect h:1: ECONNREFUSED (3 in a row)' };
  reg.apply([{ t: 'put', e: sick }], 1);
  const calls: string[] = [];
  const held: { r?: Restarter } = {};
  const launcher = {
    kill: (name: string) => {
      calls.push('kill');
      reg.apply([{ t: 'put', e: { kind: 'service', name, state: 'stopped', since: 0, spec } }], 2);
      // As the real launcher does: a kill cancels what the restarter had pending.
      held.r?.cancel(name);
      return Promise.resolve({ revision: 2, alreadyGone: false });
    },
    launch: (name: string) => {
      calls.push('launch');
      reg.apply([{ t: 'put', e: { kind: 'service', name, state: 'running', since: 0, spec, host: 'h', port: 2, pid: 8 } }], 3);
      return Promise.resolve({ service: { name, service: name, host: 'h', port: 2 }, launched: true });
    },
  } as unknown as Launcher;
  const r = new Restarter(reg, launcher, log, Date.now, { firstDelayMs: 20, maxDelayMs: 80, stableMs: 10_000 });
  held.r = r;
  r.unhealthy('/s');
  const deadline = Date.now() + 2000;
  while (calls.length < 2 && Date.now() < deadline) await wait(5);
  assert.deepEqual(calls, ['kill', 'launch']);
  // Unhealthy again soon after its launch: a failure in a row, so a longer delay next time.
  reg.apply([{ t: 'put', e: { ...sick, pid: 8 } }], 4);
  r.unhealthy('/s');
  assert.deepEqual(r.status('/s'), { failures: 1, pending: true });
  // A probe passes before the delay ends: nothing is killed.
  reg.apply([{ t: 'put', e: { ...sick, state: 'running', pid: 8 } }], 5);
  await wait(100);
  assert.deepEqual(calls, ['kill', 'launch']);
  r.stop();
});

test('an unhealthy service without the policy is never killed', async () => {
  const { r, calls } = setup(undefined, []);
  r.unhealthy('/s');
  await wait(60);
  assert.equal(calls.length, 0);
  assert.equal(r.status('/s'), undefined);
});

test('an idle-stopped service is not relaunched by its on-failure policy, even told it was lost', async () => {
  const { r, calls } = setup('on-failure', []);
  const reg = (r as unknown as { registry: Registry }).registry;
  reg.apply([{ t: 'put', e: { kind: 'service', name: '/s', state: 'stopped', since: 1, spec, reason: 'idle for 10m0s' } }], 3);
  r.lost('/s');
  await wait(100);
  assert.equal(calls.length, 0);
  r.stop();
});
