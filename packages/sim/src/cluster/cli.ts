#!/usr/bin/env node
// `pnpm sim`: runs simulated schedules of the cluster core (docs/CLUSTER.md, "The simulator").
// Exit 0: every schedule held; 1: one broke an invariant (its seed and trace are printed); 2: bad usage.
import { isPlantedBug, PLANTED_BUGS, type PlantedBug } from '@dpns/cluster-core';
import { runCampaign } from './campaign.js';
import { runSchedule } from './schedule.js';

const USAGE = `usage: pnpm sim [--seed N] [--schedules K] [--plant BUG]

Runs K simulated schedules (default 1000) of a dpns cluster, seeds N, N+1, ... (default N = 1),
each with crashes, pauses, partitions and disk faults, a few hundred client operations, the
invariants checked as it runs and the clients' history checked for linearizability. With --seed
and no --schedules, runs that one seed and prints its whole trace.

  --seed N        the first seed (a non-negative integer)
  --schedules K   how many schedules to run
  --plant BUG     plant one known bug in the core: ${PLANTED_BUGS.join(', ')}
  --help          this text

Exit status: 0 every schedule held, 1 a violation was found (its seed and trace are printed), 2 bad usage.`;

function fail(why: string): never {
  process.stderr.write(`pnpm sim: ${why}\n\n${USAGE}\n`);
  process.exit(2);
}

function integer(flag: string, v: string | undefined, min: number): number {
  if (v === undefined || !/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) < min) fail(`${flag} needs an integer of at least ${min}, got ${JSON.stringify(v ?? '')}`);
  return Number(v);
}

let seed: number | undefined;
let schedules: number | undefined;
let plant: PlantedBug | undefined;
const args = process.argv.slice(2).filter((a) => a !== '--');
for (let i = 0; i < args.length; i++) {
  const a = args[i] as string;
  if (a === '--help' || a === '-h') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  } else if (a === '--seed') seed = integer(a, args[++i], 0);
  else if (a === '--schedules') schedules = integer(a, args[++i], 1);
  else if (a === '--plant') {
    const v = args[++i];
    if (v === undefined || !isPlantedBug(v)) fail(`--plant needs one of ${PLANTED_BUGS.join(', ')}, got ${JSON.stringify(v ?? '')}`);
    plant = v;
  } else fail(`unknown argument ${JSON.stringify(a)}`);
}

if (seed !== undefined && schedules === undefined) {
  const r = runSchedule(seed, { plant, fullTrace: true });
  process.stdout.write(`${r.trace.join('\n')}\n\nseed ${seed}: ${r.ok ? 'held' : 'VIOLATION'}; ${r.operations} client operations checked; trace hash ${r.traceHash.toString(16)}\n`);
  process.exit(r.ok ? 0 : 1);
}

const from = seed ?? 1;
const count = schedules ?? 1000;
const r = runCampaign(from, count, plant, (ran) => process.stderr.write(`  ${ran} schedules...\n`));
const perSecond = (r.ran / r.elapsedMs) * 1000;
const summary = `${r.ran} schedules (seeds ${from}..${from + r.ran - 1}${plant === undefined ? '' : `, planted bug ${plant}`}) in ${(r.elapsedMs / 1000).toFixed(1)} s: ${perSecond.toFixed(0)} schedules/s, ${r.operations} client operations checked, slowest recovery after the faults ${r.worstRecoveryMs.toFixed(0)} ms (virtual)`;
if (r.failure === undefined) {
  process.stdout.write(`${summary}; every invariant held\n`);
  process.exit(0);
}
process.stdout.write(`${r.failure.trace.join('\n')}\n\n${summary}\nVIOLATION at seed ${r.failure.seed} (trace hash ${r.failure.traceHash.toString(16)}); replay it with: pnpm sim --seed ${r.failure.seed}${plant === undefined ? '' : ` --plant ${plant}`}\n`);
process.exit(1);
