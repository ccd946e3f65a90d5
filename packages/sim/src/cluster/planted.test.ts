// The simulator finds each planted bug within the CI budget, and the seed it names replays the
// same run exactly.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { PLANTED_BUGS } from '@dpns/cluster-core';
import { runCampaign } from './campaign.js';
import { runSchedule } from './schedule.js';

/** The most schedules a planted bug may take to be found (a few seconds each). */
const BUDGET = 5_000;

for (const bug of PLANTED_BUGS) {
  test(`planted bug ${bug} is found within ${BUDGET} schedules, and its seed replays it`, { timeout: 120_000 }, (t) => {
    const r = runCampaign(1, BUDGET, bug);
    const f = r.failure;
    assert.ok(f !== undefined, `${bug} went unnoticed in ${BUDGET} schedules`);
    t.diagnostic(`${bug}: caught at seed ${f.seed} after ${r.ran} schedules (${(r.elapsedMs / 1000).toFixed(1)} s): ${(f.violation ?? '').split('\n')[0] ?? ''}`);
    const again = runSchedule(f.seed, { plant: bug });
    assert.equal(again.traceHash, f.traceHash);
    assert.equal(again.violation, f.violation);
    assert.deepEqual(again.trace, f.trace);
    // The same seed without the bug holds.
    assert.equal(runSchedule(f.seed).violation, undefined);
  });
}
