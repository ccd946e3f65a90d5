// A fixed CPU capacity for one process, as if it ran alone on a small host: its own cgroup
// with a CFS quota (cgroup v1 `cpu.cfs_quota_us`, or cgroup v2 `cpu.max`). On one machine the
// servers of a cluster otherwise share the same cores with each other and the load generator,
// so a cluster cannot show what several hosts would; capping every server the same way can.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup } from './lifecycle.js';

/** The CFS period; the quota is `cpus` of it. 100 ms is the kernel's default. */
const PERIOD_US = 100_000;

const V1_ROOTS = ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct'];
const V2_ROOT = '/sys/fs/cgroup';

/** How often the group hit its quota: CFS periods with runnable work, and those cut short by the quota. */
export interface Throttling {
  periods: number;
  throttled: number;
}

/** A process under a CPU quota. */
export interface CpuCap {
  readonly pid: number;
  readonly cpus: number;
  /** e.g. "cgroup v1 /sys/fs/cgroup/cpu/dpns-bench-…". */
  readonly where: string;
  /** Counters from the group's cpu.stat since it was made (zeros if unreadable). */
  throttling(): Throttling;
  /** Moves any process still in the group back to the root and removes the group; safe to call twice. */
  release(): Promise<void>;
}

interface Layout {
  version: 'v1' | 'v2';
  root: string;
}

/** Puts `pid` in a new cgroup limited to `cpus` CPUs (0.4 = 40 ms per 100 ms); throws when no cgroup hierarchy with the cpu controller is writable. */
export async function capCpu(pid: number, cpus: number, name = `dpns-bench-${process.pid}-${pid}`): Promise<CpuCap> {
  if (!(cpus > 0)) throw new Error(`capCpu: cpus must be > 0, got ${cpus}`);
  const quotaUs = Math.max(1000, Math.round(cpus * PERIOD_US));
  const reasons: string[] = [];
  for (const layout of layouts()) {
    const dir = join(layout.root, name);
    try {
      await makeGroup(layout, dir, quotaUs, pid);
    } catch (e) {
      reasons.push(`cgroup ${layout.version} at ${layout.root}: ${(e as Error).message}`);
      await rmdir(dir).catch(() => undefined);
      continue;
    }
    return capped(pid, cpus, layout, dir);
  }
  if (reasons.length === 0) reasons.push(`no cpu controller found (looked for ${V1_ROOTS.join(' and ')}/cpu.cfs_quota_us, and "cpu" in ${V2_ROOT}/cgroup.controllers)`);
  throw new Error(`cannot cap pid ${pid} at ${cpus} CPU (needs root and a writable cgroup v1 or v2 cpu controller): ${reasons.join('; ')}`);
}

/** The cgroup hierarchies here that have the cpu controller, v1 first (where both exist, v1 owns it). */
function layouts(): Layout[] {
  const out: Layout[] = [];
  for (const root of V1_ROOTS) {
    if (existsSync(join(root, 'cpu.cfs_quota_us'))) {
      out.push({ version: 'v1', root });
      break;
    }
  }
  try {
    if (readFileSync(join(V2_ROOT, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) out.push({ version: 'v2', root: V2_ROOT });
  } catch {
    // No unified hierarchy at /sys/fs/cgroup.
  }
  return out;
}

async function makeGroup(layout: Layout, dir: string, quotaUs: number, pid: number): Promise<void> {
  if (layout.version === 'v2') {
    // A child group only gets cpu.max once the parent delegates the controller.
    const control = join(layout.root, 'cgroup.subtree_control');
    if (!(await readFile(control, 'utf8')).split(/\s+/).includes('cpu')) await writeFile(control, '+cpu');
  }
  await mkdir(dir);
  if (layout.version === 'v1') {
    await writeFile(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    await writeFile(join(dir, 'cpu.cfs_quota_us'), String(quotaUs));
  } else {
    await writeFile(join(dir, 'cpu.max'), `${quotaUs} ${PERIOD_US}`);
  }
  // cgroup.procs moves the whole process, every thread with it (v1 `tasks` would move one thread).
  await writeFile(join(dir, 'cgroup.procs'), String(pid));
}

function capped(pid: number, cpus: number, layout: Layout, dir: string): CpuCap {
  let released: Promise<void> | undefined;
  const release = (): Promise<void> => {
    released ??= (async () => {
      forget();
      await emptyGroup(layout, dir);
      await removeGroup(dir);
    })();
    return released;
  };
  // A failed or interrupted run must not leave groups behind.
  const forget = onCleanup(release);
  return {
    pid, cpus, where: `cgroup ${layout.version} ${dir}`,
    throttling: () => readThrottling(dir),
    release,
  };
}

async function emptyGroup(layout: Layout, dir: string): Promise<void> {
  const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  for (const p of procs.split('\n').filter(Boolean)) {
    // ESRCH: it exited in between, which is as good.
    await writeFile(join(layout.root, 'cgroup.procs'), p).catch(() => undefined);
  }
}

/** rmdir, retried briefly: a process that has just exited can keep the group busy for a moment. */
async function removeGroup(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await rmdir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || i >= 40) throw new Error(`cannot remove cgroup ${dir}: ${(e as Error).message}`);
      await sleep(50);
    }
  }
}

function readThrottling(dir: string): Throttling {
  try {
    const stat = readFileSync(join(dir, 'cpu.stat'), 'utf8');
    const field = (k: string): number => Number(new RegExp(`^${k} (\\d+)$`, 'm').exec(stat)?.[1] ?? 0);
    return { periods: field('nr_periods'), throttled: field('nr_throttled') };
  } catch {
    return { periods: 0, throttled: 0 };
  }
}
