import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LaunchSpec, ServiceView } from '@dpns/protocol';
import { createLogger } from '../log.js';
import { ServerMetrics } from '../metrics.js';
import { Registry } from '../registry/registry.js';
import { IdleStopper } from './idle-stopper.js';

const log = createLogger({ level: 'silent', format: 'json' });
const spec: LaunchSpec = { host: 'h', program: 'p', args: [], env: {}, startTimeoutMs: 1000, idleStopMs: 10_000 };
const up = (name: string, s: LaunchSpec = spec): ServiceView => ({ kind: 'service', name, state: 'running', since: 0, host: 'h', port: 1, spec: s, pid: 7 });

/** A stopper over a real registry, a hand-moved clock and a launcher whose kills are held until released. */
function setup(...entries: ServiceView[]) {
  const reg = new Registry();
  reg.apply(entries.map((e) => ({ t: 'put' as const, e })), 1);
  const clock = { now: 0 };
  const kills: { name: string; reason: string | undefined; settle(ok: boolean): void }[] = [];
  const launcher = {
    kill: (name: string, reason?: string) => new Promise<{ revision: number; alreadyGone: boolean }>((resolve, reject) => {
      kills.push({
        name, reason,
        settle: (ok) => {
          if (!ok) return reject(new Error('agent unreachable'));
          const cur = reg.get(name) as ServiceView;
          reg.apply([{ t: 'put', e: { kind: 'service', name, state: 'stopped', since: clock.now, spec: cur.spec as LaunchSpec, ...(reason === undefined ? {} : { reason }) } }], reg.revision + 1);
          resolve({ revision: reg.revision, alreadyGone: false });
        },
      });
    }),
  };
  const metrics = new ServerMetrics();
  // A sweep period no test waits for: each test sweeps by hand.
  const idle = new IdleStopper({ registry: reg, launcher, log, now: () => clock.now, metrics, sweepMs: 3_600_000 });
  return { reg, clock, kills, idle, metrics };
}

const settled = () => new Promise((r) => setImmediate(r));
const idleStops = async (m: ServerMetrics) => (await m.idleStops.get()).values[0]?.value ?? 0;

test('an unused service is stopped once its idle stop has passed, with reason idle, and counted', async () => {
  const { clock, kills, idle, metrics, reg } = setup(up('/a'));
  idle.start();
  clock.now = 9_999;
  idle.sweep();
  assert.equal(kills.length, 0);
  clock.now = 10_000;
  idle.sweep();
  assert.deepEqual(kills.map((k) => [k.name, k.reason]), [['/a', 'idle for 10s']]);
  // A sweep while the kill is under way starts no second one.
  idle.sweep();
  assert.equal(kills.length, 1);
  kills[0]?.settle(true);
  await settled();
  assert.equal(await idleStops(metrics), 1);
  assert.equal((reg.get('/a') as ServiceView).state, 'stopped');
  idle.sweep();
  assert.equal(kills.length, 1);
  idle.stop();
});

test('each use starts the clock again; only services with an idle stop are remembered', () => {
  const { spec: _s, ...plain } = up('/plain');
  const { idleStopMs: _i, ...noIdle } = spec;
  const { clock, kills, idle } = setup(up('/a'), up('/b'), up('/c', noIdle), plain);
  idle.start();
  for (clock.now = 0; clock.now <= 30_000; clock.now += 1000) {
    idle.used('/a');
    idle.used('/c');
    idle.used('/plain');
    idle.used('/nothing');
    idle.sweep();
  }
  assert.equal(idle.size, 1);
  // /b was never used; /a was, every second; /c has no idle stop.
  assert.deepEqual(kills.map((k) => k.name), ['/b']);
  idle.stop();
});

test('a kill that fails leaves it running, and the next try waits another idle stop, not a sweep', async () => {
  const { clock, kills, idle } = setup(up('/a'));
  idle.start();
  clock.now = 10_000;
  idle.sweep();
  kills[0]?.settle(false);
  await settled();
  clock.now = 19_999;
  idle.sweep();
  assert.equal(kills.length, 1);
  clock.now = 20_000;
  idle.sweep();
  assert.equal(kills.length, 2);
  idle.stop();
});

test('only while primary: no use is kept and nothing is stopped before start or after stop; a new start begins every clock again', () => {
  const { clock, kills, idle } = setup(up('/a'));
  idle.used('/a');
  assert.equal(idle.size, 0);
  clock.now = 50_000;
  idle.sweep();
  assert.equal(kills.length, 0);
  // Promoted at 50 s: the service was up long before, but nothing is known of its use then.
  idle.start();
  clock.now = 59_999;
  idle.sweep();
  assert.equal(kills.length, 0);
  idle.used('/a');
  idle.stop();
  assert.equal(idle.size, 0);
  clock.now = 100_000;
  idle.sweep();
  assert.equal(kills.length, 0);
});
