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
