// Whether the kernel reclaims memory on its own schedule (DAMON's DAMOS schemes, run by kdamond
// threads): said beside the machine in every run, because on the benchmark VM it moves the
// figures of a large registry. With its `pageout` scheme on (memory idle for a minute), three
// servers holding a million names each stalled together for 10–45 ms every ~0.57 s once their
// heaps had gone cold, and a steady writer's p99 was 14–26 ms where it is 6–8 ms with the scheme
// off (docs/BENCHMARKS.md, History "2026-12-07, session 29"). The benchmark reports it and leaves
// it as it is: the machine's settings are its owner's.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const KDAMONDS = '/sys/kernel/mm/damon/admin/kdamonds';

/** A line on the running DAMON schemes, or undefined when none runs (or this kernel has no DAMON sysfs). */
export function proactiveReclaim(root = KDAMONDS): string | undefined {
  const running: string[] = [];
  for (const k of list(root)) {
    const dir = join(root, k);
    if (read(join(dir, 'state')) !== 'on') continue;
    for (const c of list(join(dir, 'contexts'))) {
      const ctx = join(dir, 'contexts', c);
      const sampleUs = Number(read(join(ctx, 'monitoring_attrs/intervals/sample_us')));
      const aggrUs = Number(read(join(ctx, 'monitoring_attrs/intervals/aggr_us')));
      for (const s of list(join(ctx, 'schemes'))) {
        const scheme = join(ctx, 'schemes', s);
        const action = read(join(scheme, 'action')) ?? '?';
        const minAge = Number(read(join(scheme, 'access_pattern/age/min')));
        const idle = Number.isFinite(minAge) && Number.isFinite(aggrUs) && minAge > 0 ? ` of memory idle ≥ ${fmtSeconds((minAge * aggrUs) / 1e6)}` : '';
        const sampled = Number.isFinite(sampleUs) ? `, sampled every ${fmtSeconds(sampleUs / 1e6)}` : '';
        running.push(`${action}${idle}${sampled}`);
      }
    }
  }
  return running.length === 0 ? undefined : `DAMON reclaim on (${running.join('; ')})`;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function fmtSeconds(s: number): string {
  return s < 1 ? `${Math.round(s * 1000)} ms` : `${Number(s.toFixed(1))} s`;
}
