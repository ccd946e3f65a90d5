// The cluster core under 10,000 simulated schedules of faults, each with a few hundred client
// operations checked for linearizability (docs/CLUSTER.md, "The simulator").
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { runCampaign } from './campaign.js';

const SCHEDULES = 10_000;

test(`${SCHEDULES} simulated schedules keep every invariant and a linearizable history`, { timeout: 280_000 }, (t) => {
  const r = runCampaign(1, SCHEDULES);
  const f = r.failure;
  assert.equal(f, undefined, f === undefined ? '' : `seed ${f.seed}: ${f.violation ?? ''}\n${f.trace.join('\n')}\nreplay: pnpm sim --seed ${f.seed}`);
  assert.equal(r.ran, SCHEDULES);
  assert.ok(r.operations / r.ran >= 150, `only ${r.operations / r.ran} client operations per schedule`);
  t.diagnostic(`${r.ran} schedules, ${r.operations} operations, ${(r.elapsedMs / 1000).toFixed(1)} s (${((r.ran / r.elapsedMs) * 1000).toFixed(0)}/s); slowest recovery ${r.worstRecoveryMs.toFixed(0)} ms virtual`);
});
