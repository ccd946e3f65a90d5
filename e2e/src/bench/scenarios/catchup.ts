// Scenario: catchup (issue 16: "a new backup catching up with a 1,000,000-name primary in under
// 10 s while the primary keeps answering writes with p99 under 20 ms"). Three servers (sync
// replication); the primary is filled with --catchup-size static names; then one backup is killed,
// its data directory emptied (a replaced disk: the cluster key and token kept) and it is started
// again. It needs the primary's snapshot (its log tail does not reach back to the start), then the
// records written meanwhile. The figure is the time from its start to the primary seeing it
// connected at lag 0, with the install's own time from its log. Throughout, one admin connection
// writes to the primary at a steady rate, and its p99 during the catch-up is printed beside the
// same writer's p99 over as long a window just before (the comparison in the same run).
import { closeSync, fsyncSync, openSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startCluster, type TestCluster } from '../../harness/index.js';
import type { BenchContext } from '../context.js';
import { Histogram } from '../histogram.js';
import { processCpuSeconds } from '../cpu.js';
import { isAborting, onCleanup, trackChild } from '../lifecycle.js';
import { fmtMs, status } from '../report.js';
import { RpcConn } from '../rpc-conn.js';
import { fill } from './growth.js';

/** Writes a second to the primary while measuring (one at a time, each after the last is answered or its slot comes). */
const WRITES_PER_SEC = 200;
/** How long the backup may take before the scenario gives up. */
const CATCH_UP_TIMEOUT_MS = 300_000;
/** Files of a member's data directory that a replaced disk keeps (the cluster's key and admin token). */
const KEPT = new Set(['nameserver.key', 'admin.token']);
/** The cluster counts as done with its fill (its snapshots written) when its three servers together use less of a core than this over QUIET_WINDOW_MS. */
const QUIET_CPU_SHARE = 0.1;
const QUIET_WINDOW_MS = 2000;
/** How long to wait for that before measuring anyway (the note says so). */
const QUIET_TIMEOUT_MS = 180_000;
/** How long the disk is left after the emptied directory's blocks are freed, before the backup starts. */
const SETTLE_MS = 1000;

/** A steady writer to the primary: latencies go to whichever histogram is current. */
class SteadyWriter {
  current = new Histogram();
  errors = 0;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(private readonly conn: RpcConn) {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    const gap = 1000 / WRITES_PER_SEC;
    let due = performance.now();
    for (let seq = 0; !this.stopped && !isAborting(); seq++) {
      due += gap;
      const sentAt = performance.now();
      const h = this.current;
      const a = await this.conn.call('advertiseService', { name: `/catchup/w${seq % 1000}`, host: '127.0.0.1', port: 1024 + (seq % 60_000), static: true });
      if ('error' in a) this.errors++;
      else h.record(performance.now() - sentAt);
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else due = performance.now();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

export async function runCatchup(ctx: BenchContext): Promise<void> {
  const size = ctx.cfg.catchupSize;
  status(`catchup: a 3-server cluster filled with ${size.toLocaleString('en-US')} names, then a backup with an empty data directory catches up`);
  const cluster = await startCluster({ n: 3, extraArgs: ['--log-level', 'info'], onProcess: (p) => trackChild(p.proc) });
  let writer: SteadyWriter | undefined;
  let conn: RpcConn | undefined;
  const forget = onCleanup(async () => {
    await writer?.stop();
    await conn?.close();
    await cluster.close();
  });
  try {
    const primary = await cluster.primary({ timeoutMs: 20_000 });
    const url = cluster.urls[primary.sid] as string;
    await fillCluster(url, cluster.adminToken, size);
    if (isAborting()) return;
    // Measured at a steady size, as growth does: the fill leaves each server writing snapshots
    // for a while, and a writer timed then measures the fill's aftermath, not the catch-up.
    const quiet = await quietCluster(cluster);
    conn = await RpcConn.open(url);
    await conn.login(cluster.adminToken);
    writer = new SteadyWriter(conn);
    const backup = [0, 1, 2].find((s) => s !== primary.sid) as number;
    await settled(cluster, primary.sid);

    // The comparison: the same writer while every member is up, over a window like the catch-up's.
    const before = await window(writer, () => new Promise((r) => setTimeout(r, 5000)));

    await cluster.kill9(backup);
    const dir = (cluster.members[backup] as { dataDir: string }).dataDir;
    for (const f of readdirSync(dir)) if (!KEPT.has(f)) rmSync(join(dir, f), { recursive: true, force: true });
    await freed(dir);
    status(`catchup: member ${backup} killed and its data directory emptied; starting it again`);
    let caughtUpMs = 0;
    const during = await window(writer, async () => {
      const t0 = performance.now();
      await cluster.restart(backup);
      await cluster.waitStatus(primary.sid, (s) => s.servers.every((m) => m.connected && m.lag === 0), CATCH_UP_TIMEOUT_MS);
      caughtUpMs = performance.now() - t0;
    });
    const installed = installLine(cluster, backup);
    await writer.stop();
    const p99 = during.quantile(0.99);
    const p99Before = before.quantile(0.99);
    ctx.add({
      key: 'catchup', label: 'a new backup catches up (snapshot + tail): its start → lag 0 at the primary', system: 'dpns',
      shape: `${size.toLocaleString('en-US')} names, ${WRITES_PER_SEC} writes/s meanwhile`,
      maxMs: caughtUpMs, p99Ms: p99, errors: writer.errors,
      note: `${quiet}; ${installed}; the writer's p99 ${fmtMs(p99)} ms during it against ${fmtMs(p99Before)} ms before (${(p99 / p99Before).toFixed(2)}×), ${during.count} and ${before.count} writes`,
    });
  } finally {
    forget();
    await writer?.stop();
    await conn?.close();
    await cluster.close();
  }
}

/**
 * Fills the primary a chunk at a time. Fewer in flight than growth's fill (every write waits for a
 * backup's fsync too), and a chunk whose writes timed out (NO_QUORUM, on a loaded machine) is
 * written again: advertising a static name again only rewrites it.
 */
async function fillCluster(url: string, token: string, size: number): Promise<void> {
  const chunk = 50_000;
  for (let at = 0; at < size && !isAborting(); at += chunk) {
    for (let attempt = 1; ; attempt++) {
      try {
        await fill(url, token, at, Math.min(size, at + chunk), 256);
        break;
      } catch (e) {
        if (attempt === 3) throw e;
        status(`catchup: filling ${at}..: ${(e as Error).message}; writing the chunk again`);
      }
    }
  }
}

/**
 * Lets the disk free the emptied directory's blocks before the measured window. A replaced disk
 * frees nothing; here the removal's blocks (a million names' 134 MB snapshot and the log) are
 * trimmed at the next journal commit on a disk mounted with `discard`, and that commit held every
 * fdatasync on the disk for 50–100 ms: the benchmark's own doing, measured as the catch-up's
 * until 2026-12-07. The directory's fsync forces the commit now; the writer keeps writing.
 */
async function freed(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  await new Promise((r) => setTimeout(r, SETTLE_MS));
}

/** Waits until the servers are done with the fill's work; says how long that took. */
async function quietCluster(c: TestCluster): Promise<string> {
  const pids = [0, 1, 2].map((s) => c.proc(s).pid);
  const used = (): number => pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
  const t0 = performance.now();
  for (;;) {
    const c0 = used();
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, QUIET_WINDOW_MS));
    const share = (used() - c0) / ((performance.now() - w0) / 1000);
    const waited = performance.now() - t0;
    if (share < QUIET_CPU_SHARE || !Number.isFinite(share)) return `the cluster quiet ${(waited / 1000).toFixed(0)} s after its fill`;
    if (waited > QUIET_TIMEOUT_MS || isAborting()) return `the cluster still busy ${(waited / 1000).toFixed(0)} s after its fill (${(share * 100).toFixed(0)} % of a core)`;
    status(`catchup: waiting for the fill's snapshots (the servers use ${(share * 100).toFixed(0)} % of a core)`);
  }
}

/** The writer's latencies while `during` runs. */
async function window(writer: SteadyWriter, during: () => Promise<unknown>): Promise<Histogram> {
  const h = new Histogram();
  writer.current = h;
  await during();
  writer.current = new Histogram();
  return h;
}

async function settled(c: TestCluster, primary: number): Promise<void> {
  await c.waitStatus(primary, (s) => s.servers.every((m) => m.connected && m.lag === 0), CATCH_UP_TIMEOUT_MS);
}

/** What the backup's log says of the install (its own time and size). */
function installLine(c: TestCluster, sid: number): string {
  const line = c.proc(sid).stderrLines().find((l) => l.includes('installed a snapshot from the primary'));
  if (line === undefined) return 'no snapshot was installed (caught up from the log)';
  const ms = /ms=([\d.]+)/.exec(line)?.[1];
  const bytes = /bytes=(\d+)/.exec(line)?.[1];
  const lowered = c.proc(sid).stderrLines().find((l) => l.includes('lowered this server\'s CPU priority'));
  const nice = lowered === undefined ? undefined : /nice=(-?\d+)/.exec(lowered)?.[1];
  const idle = lowered !== undefined && / policy=idle /.test(lowered);
  const gaveUp = c.proc(sid).stderrLines().find((l) => /the rest at full priority/.test(l));
  return `snapshot installed in ${ms === undefined ? '?' : fmtMs(Number(ms))} ms (${bytes === undefined ? '?' : (Number(bytes) / 1e6).toFixed(1)} MB), ` +
    (idle ? 'its threads under SCHED_IDLE meanwhile' : nice === undefined ? 'its threads at their own priority meanwhile' : `its threads at nice ${nice} meanwhile`) +
    (gaveUp === undefined ? '' : ` until it said "${/(this host|still catching)[^:]*/.exec(gaveUp)?.[0] ?? gaveUp}"`);
}
