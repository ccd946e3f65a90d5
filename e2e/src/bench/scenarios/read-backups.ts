// Scenario: read-backups. The same reads as `find` (findServices of a random registered name,
// launch:false, 64 in flight over 8 connections) against one stand-alone server and against a
// three-server cluster with --read-from-backups whose readers are spread over all three servers,
// measured in alternating slices so both see the same machine. The issue's target is 2× one
// server. Run twice on the same processes: uncapped, where every server and the generator share
// this machine's few CPUs (so the ratio says as much about the machine as about the servers), and
// then with every server in its own cgroup capped at a fixed CPU quota, which emulates one small host per
// server; the target is judged on the capped run, and the servers' CPU use against their quota
// shows whether they, not the generator, were the limit.
import { cpus } from 'node:os';
import type { ResponseMessage } from '@dpns/protocol';
import { startCluster } from '../../harness/index.js';
import type { BenchConfig } from '../args.js';
import type { BenchContext } from '../context.js';
import { processCpuSeconds } from '../cpu.js';
import { capCpu, type CpuCap } from '../cpu-cap.js';
import { onCleanup, trackChild } from '../lifecycle.js';
import { closedLoop, mergeResults, type Issue, type LoadResult } from '../loadgen.js';
import { startBenchServer } from '../nameserver.js';
import { fmtOps, status } from '../report.js';
import { RpcConn, openMany } from '../rpc-conn.js';
import { describeError, randInt, rpcBulk, rpcIssue } from '../shapes.js';
import { findName, loadServices } from './services.js';

/**
 * The CPU capacity of each emulated host, DPNS_BENCH_READ_CAP_CPUS or 0.15 by default. Small on
 * purpose: the generator is one event loop costing about as much CPU per read as a server, so it
 * must be able to feed three capped servers (about 3 × the cap of CPU) with what this 2-vCPU machine
 * has left, or it, not the servers, sets the ratio; the servers' use of their quota shows which.
 */
const DEFAULT_CAP_CPUS = 0.15;

/** One side of the comparison: how to send a read, and the server processes serving it. */
interface Side {
  issue: Issue;
  pids: readonly number[];
}

/** A side's merged result, with each server's CPU use over the slices (% of one core). */
interface SideResult {
  res: LoadResult;
  serverPcts: number[];
}

export async function runReadBackups(ctx: BenchContext): Promise<void> {
  const { cfg } = ctx;
  // Read here, not at import: a bad value fails this scenario only.
  const capCpus = capFromEnv(process.env.DPNS_BENCH_READ_CAP_CPUS, DEFAULT_CAP_CPUS);
  status(`read-backups: one server and a 3-server cluster with --read-from-backups, ${cfg.findServices.toLocaleString('en-US')} services each; uncapped, then ${capCpus} CPU per server`);
  const single = await startBenchServer(cfg, ['--log-level', 'warn']);
  const cluster = await startCluster({ n: 3, readFromBackups: true, extraArgs: ['--log-level', 'warn'], onProcess: (p) => trackChild(p.proc) });
  const conns: RpcConn[] = [];
  const caps: CpuCap[] = [];
  const forget = onCleanup(async () => {
    await Promise.allSettled(caps.map((c) => c.release()));
    await Promise.allSettled(conns.map((c) => c.close()));
    await cluster.close();
  });
  try {
    await loadServices(single, cfg.findServices, findName);
    const primary = await cluster.primary();
    const writers = await openMany(primary.url, 8);
    conns.push(...writers);
    await Promise.all(writers.map((c) => c.login(cluster.adminToken)));
    const load = await rpcBulk(writers, 256, cfg.findServices, (i) => ['advertiseService', { name: findName(i), host: '127.0.0.1', port: 1024 + (i % 60_000), static: true }]);
    if (load.errors > 0) throw new Error(`loading the cluster failed: ${load.firstError ?? ''}`);
    // Every backup holds every name before a read is measured.
    await cluster.waitStatus(primary.sid, (s) => s.servers.every((r) => r.connected && r.lag === 0 && r.role === (r.self ? 'primary' : 'backup')), 30_000);
    status(`read-backups: cluster loaded through SID ${primary.sid}, backups caught up`);

    let firstError: string | undefined;
    const onError = (msg: ResponseMessage): void => {
      firstError ??= describeError(msg);
    };
    const read = (): [string, unknown] => ['findServices', { pattern: findName(randInt(cfg.findServices)), launch: false }];
    const singleConns = await single.connect(cfg.connections, false);
    // Connection k goes to member k % 3: the readers are spread evenly over primary and backups.
    const spread = await Promise.all(Array.from({ length: cfg.connections }, (_, k) => RpcConn.open(cluster.urls[k % cluster.urls.length] as string)));
    conns.push(...spread);
    const clusterPids = cluster.members.map((m) => cluster.proc(m.sid).pid);
    const sides: Side[] = [
      { issue: rpcIssue(singleConns, read, onError), pids: [single.pid] },
      { issue: rpcIssue(spread, read, onError), pids: clusterPids },
    ];
    const shape = ctx.shape(cfg.inFlight, cfg.connections);

    const [one, three] = await measureSides(cfg, sides);
    if (one === undefined || three === undefined) return;
    const uncapped = three.res.opsPerSec / one.res.opsPerSec;
    ctx.add({
      key: 'read.single', label: 'find (launch:false), one server, uncapped', system: 'dpns', shape, ...ctx.measured(one.res), serverCpuPct: sum(one.serverPcts),
      peakRssMB: single.memory().peakMB, note: firstError,
    });
    ctx.add({
      key: 'read.backups', label: 'find (launch:false), 3 servers --read-from-backups, uncapped', system: 'dpns', shape: `${shape}, spread over 3`,
      ...ctx.measured(three.res), serverCpuPct: sum(three.serverPcts),
      note: `${uncapped.toFixed(2)}× one server, uncapped: ${cpus().length} CPUs shared by 3 servers and the generator; CPU srv is the 3 servers' sum (${pcts(three.serverPcts, 1)} of a core)` +
        (firstError === undefined ? '' : `; ${firstError}`),
    });

    let capError: string | undefined;
    try {
      for (const pid of [single.pid, ...clusterPids]) caps.push(await capCpu(pid, capCpus));
    } catch (e) {
      capError = (e as Error).message;
    }
    if (capError !== undefined) {
      status(`read-backups: capped run skipped: ${capError}`);
      status(`read-backups target (3 servers ≥ 2× one): not judged (no CPU cap possible); uncapped ${uncapped.toFixed(2)}×`);
      return;
    }
    status(`read-backups: each server capped at ${capCpus} CPU (${caps[0]?.where.replace(/\/[^/]*$/, '/…') ?? ''}), emulating one host of ${capCpus} CPU per server`);
    firstError = undefined;
    const before = caps.map((c) => c.throttling());
    const [oneC, threeC] = await measureSides(cfg, sides);
    if (oneC === undefined || threeC === undefined) return;
    const throttled = caps.map((c, i) => {
      const b = before[i] ?? { periods: 0, throttled: 0 };
      const a = c.throttling();
      return a.periods > b.periods ? (a.throttled - b.throttled) / (a.periods - b.periods) : NaN;
    });
    const capped = threeC.res.opsPerSec / oneC.res.opsPerSec;
    const met = capped >= 2;
    const quota = (r: SideResult): string => `${pcts(r.serverPcts, capCpus)} of quota`;
    const cappedShape = `${shape}, ${capCpus} CPU per server`;
    ctx.add({
      key: 'read.single.capped', label: `find (launch:false), one server, capped ${capCpus} CPU`, system: 'dpns', shape: cappedShape,
      ...ctx.measured(oneC.res), serverCpuPct: sum(oneC.serverPcts),
      note: `emulates one host of ${capCpus} CPU; server at ${quota(oneC)}, throttled in ${pct(throttled[0] ?? NaN)} of periods` + (firstError === undefined ? '' : `; ${firstError}`),
    });
    // Below ~90 % of quota something else (the generator, other work on the machine) limited the servers.
    const saturated = [...oneC.serverPcts, ...threeC.serverPcts].every((p) => p / capCpus >= 90);
    const caveat = saturated ? '' : `; SERVERS UNDER QUOTA: not server-bound, the ratio understates (try a smaller DPNS_BENCH_READ_CAP_CPUS)`;
    const verdict = `target ≥ 2× ${met ? 'MET' : 'NOT MET'} with ${capCpus} CPU per server (uncapped: ${uncapped.toFixed(2)}×)${caveat}`;
    ctx.add({
      key: 'read.backups.capped', label: `find (launch:false), 3 servers --read-from-backups, capped ${capCpus} CPU each`, system: 'dpns',
      shape: `${cappedShape}, spread over 3`, ...ctx.measured(threeC.res), serverCpuPct: sum(threeC.serverPcts),
      note: `**${capped.toFixed(2)}×** one capped server; ${verdict}; emulates 3 hosts of ${capCpus} CPU; servers at ${quota(threeC)}, ` +
        `throttled in ${throttled.slice(1).map(pct).join('/')} of periods; CPU srv is the 3 servers' sum` + (firstError === undefined ? '' : `; ${firstError}`),
    });
    status(`read-backups target (3 servers --read-from-backups ≥ 2× one server): ${capped.toFixed(2)}× with every server capped at ${capCpus} CPU ` +
      `(${fmtOps(threeC.res.opsPerSec)} vs ${fmtOps(oneC.res.opsPerSec)} ops/s; servers at ${quota(oneC)} / ${quota(threeC)}) — ${met ? 'MET' : 'NOT MET'}; ` +
      `uncapped ${uncapped.toFixed(2)}× (${fmtOps(three.res.opsPerSec)} vs ${fmtOps(one.res.opsPerSec)} ops/s, ${cpus().length} CPUs shared)${caveat}`);
  } finally {
    forget();
    await Promise.allSettled(caps.map((c) => c.release()));
    await Promise.allSettled(conns.map((c) => c.close()));
    await cluster.close();
    await single.stop();
  }
}

/**
 * The sides in alternating slices (A B B A A …), as `measureSlices` does, but with the CPU of every
 * server of a side: a cluster's capacity is its three processes, not the primary's alone. CPU is
 * taken around each whole slice, warm-up included, which is under the same load.
 */
async function measureSides(cfg: BenchConfig, sides: readonly Side[]): Promise<SideResult[]> {
  const n = Math.max(1, Math.min(5, Math.floor(cfg.durationMs / 1000)));
  const parts: LoadResult[][] = sides.map(() => []);
  const cpuSecs = sides.map((s) => s.pids.map(() => 0));
  const wallSecs = sides.map(() => 0);
  for (let i = 0; i < n; i++) {
    const order = sides.map((_, k) => k);
    if (i % 2 === 1) order.reverse();
    for (const k of order) {
      const side = sides[k] as Side;
      const warmupMs = i === 0 ? cfg.warmupMs : Math.min(cfg.warmupMs, 200);
      const c0 = side.pids.map(processCpuSeconds);
      const t0 = performance.now();
      parts[k]?.push(await closedLoop({ inFlight: cfg.inFlight, warmupMs, durationMs: cfg.durationMs / n, serverPid: side.pids[0], issue: side.issue }));
      wallSecs[k] = (wallSecs[k] ?? 0) + (performance.now() - t0) / 1000;
      side.pids.forEach((pid, j) => {
        const secs = cpuSecs[k] as number[];
        secs[j] = (secs[j] ?? 0) + processCpuSeconds(pid) - (c0[j] ?? NaN);
      });
    }
  }
  return parts.map((p, k) => ({ res: mergeResults(p), serverPcts: (cpuSecs[k] ?? []).map((s) => (s / (wallSecs[k] ?? NaN)) * 100) }));
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${Math.round(x * 100)}%` : '?';
}

/** "98%" or "97/99/96%": each server's CPU use as a share of `of` cores. */
function pcts(serverPcts: readonly number[], of: number): string {
  return `${serverPcts.map((p) => (Number.isFinite(p) ? String(Math.round(p / of)) : '?')).join('/')}%`;
}

/** The cap from the environment: a number of CPUs above 0 and at most this machine's count. */
function capFromEnv(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > cpus().length) {
    throw new Error(`DPNS_BENCH_READ_CAP_CPUS: expected a number of CPUs in (0, ${cpus().length}], got "${value}"`);
  }
  return n;
}
