// Many schedules in a row: seeds `from`, `from + 1`, ... until `count` have run or one fails.
import type { PlantedBug } from '@dpns/cluster-core';
import { runSchedule, type ScheduleResult } from './schedule.js';

export interface CampaignResult {
  /** Schedules run (the failing one included). */
  readonly ran: number;
  /** Client operations recorded and checked, over all schedules. */
  readonly operations: number;
  /** The first failing schedule, if any. */
  readonly failure: ScheduleResult | undefined;
  /** The slowest recovery after the faults stopped (virtual ms). */
  readonly worstRecoveryMs: number;
  readonly elapsedMs: number;
}

export function runCampaign(from: number, count: number, plant?: PlantedBug, progress?: (ran: number) => void): CampaignResult {
  const started = performance.now();
  let operations = 0;
  let worst = 0;
  for (let k = 0; k < count; k++) {
    const r = runSchedule(from + k, { plant });
    operations += r.operations;
    if (r.recoveryMs !== undefined) worst = Math.max(worst, r.recoveryMs);
    if (!r.ok) return { ran: k + 1, operations, failure: r, worstRecoveryMs: worst, elapsedMs: performance.now() - started };
    if (progress !== undefined && (k + 1) % 10_000 === 0) progress(k + 1);
  }
  return { ran: count, operations, failure: undefined, worstRecoveryMs: worst, elapsedMs: performance.now() - started };
}
