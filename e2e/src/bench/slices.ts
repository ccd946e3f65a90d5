// Comparable figures on a shared, noisy machine: two systems measured in alternating
// slices (A B B A A B …) of one run instead of one after the other, so a burst of other work
// lands on both and their ratio stays meaningful. One target alone is measured the same way.
import type { BenchConfig } from './args.js';
import { closedLoop, mergeResults, type Issue, type LoadResult } from './loadgen.js';

/** A system under load: how to send one request, and whose CPU to watch. */
export interface Target {
  issue: Issue;
  pid: number;
  stop(): Promise<void>;
}

/** Slices of at least a second each, about five in a default run. */
function sliceCount(cfg: BenchConfig): number {
  return Math.max(1, Math.min(5, Math.floor(cfg.durationMs / 1000)));
}

/** Runs `targets` in alternating slices at `cfg.inFlight`; one merged result per target. */
export async function measureSlices(cfg: BenchConfig, targets: readonly Target[], inFlight = cfg.inFlight): Promise<LoadResult[]> {
  const n = sliceCount(cfg);
  const parts: LoadResult[][] = targets.map(() => []);
  for (let i = 0; i < n; i++) {
    const order = targets.map((_, k) => k);
    if (i % 2 === 1) order.reverse();
    for (const k of order) {
      const t = targets[k] as Target;
      // The first slice of each target gets the full warm-up; later ones a short one, as the server is warm.
      const warmupMs = i === 0 ? cfg.warmupMs : Math.min(cfg.warmupMs, 200);
      parts[k]?.push(await closedLoop({ inFlight, warmupMs, durationMs: cfg.durationMs / n, serverPid: t.pid, issue: t.issue }));
    }
  }
  return parts.map(mergeResults);
}
