// The cluster core under 10,000 simulated schedules of faults, each with a few hundred client
// operations checked for linearizability (docs/CLUSTER.md, "The simulator").
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { runCampaign } from './campaign.js';
import { runSchedule } from './schedule.js';

const SCHEDULES = 10_000;

test(`${SCHEDULES} simulated schedules keep every invariant and a linearizable history`, { timeout: 280_000 }, (t) => {
  const r = runCampaign(1, SCHEDULES);
  const f = r.failure;
  assert.equal(f, undefined, f === undefined ? '' : `seed ${f.seed}: ${f.violation ?? ''}\n${f.trace.join('\n')}\nreplay: pnpm sim --seed ${f.seed}`);
  assert.equal(r.ran, SCHEDULES);
  assert.ok(r.operations / r.ran >= 150, `only ${r.operations / r.ran} client operations per schedule`);
  t.diagnostic(`${r.ran} schedules, ${r.operations} operations, ${(r.elapsedMs / 1000).toFixed(1)} s (${((r.ran / r.elapsedMs) * 1000).toFixed(0)}/s); slowest recovery ${r.worstRecoveryMs.toFixed(0)} ms virtual`);
});

// Seeds the long runs stopped at, each a fault fixed since (docs/CLUSTER.md, "What the simulator
// found"): 988,006 and 102,205 in the core; 114,170 in the simulator's own history (a write in
// flight when the run ended, seen by a read, was left out of the history) and 512,848 in its
// nemesis (a member left down for good while a configuration of two voters could be in effect);
// 583,065 and 733,555 in the core again (no primary after a voter's epoch moved on); 983,329 in
// the nemesis (a member paused when a disk write failed crashed on resuming, after the faults
// stopped, and was not restarted, while another was left down for good).
for (const seed of [102_205, 114_170, 512_848, 583_065, 733_555, 983_329, 988_006]) {
  test(`seed ${seed} holds`, () => {
    const r = runSchedule(seed);
    assert.ok(r.ok, `${r.violation ?? ''}\n${r.trace.join('\n')}`);
  });
}
