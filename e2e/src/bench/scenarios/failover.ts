// Scenario: failover. A three-server dpns cluster on loopback (sync replication) while a few
// writers write as fast as they can; `kill -9` of the primary; the time from the kill to the
// first write a surviving server acknowledges, over several rounds (the killed server restarted
// and rejoined between rounds). Then the safety figures: acknowledged writes missing from the new
// primary (must be 0 in sync mode) and writes applied twice (a register.add retried with its
// requestId that came back ALREADY_EXISTS). The writers are the harness's RawWriter, so the
// figure is the servers' failover, not a client library's backoff. Beside it, the same rounds
// against a three-member etcd cluster (etcd's default timing) with the same kind of writer.
import { performance } from 'node:perf_hooks';
import { RawWriter, startCluster, type TestCluster } from '../../harness/index.js';
import type { BenchContext } from '../context.js';
import { etcdVersion } from '../etcd-process.js';
import { EtcdWriter, startEtcdCluster, type EtcdCluster } from '../etcd-cluster.js';
import { onCleanup, trackChild } from '../lifecycle.js';
import { fmtMs, status, type Row } from '../report.js';

/** Rounds per system (the issue asks for at least 5). */
const ROUNDS = 5;
/** Concurrent writers, each one write at a time. */
const WRITERS = 4;
/** Both writers give an attempt this long before trying again elsewhere, and pause this long after a failure. */
const ATTEMPT_TIMEOUT_MS = 250;
const RETRY_DELAY_MS = 5;
/** Writing before the kill, and after the first write that survived it. */
const BEFORE_KILL_MS = 500;
const AFTER_FIRST_MS = 300;

/** One system as a round sees it. */
interface Side {
  /** Writer `k` writes `name` (retrying until acknowledged or definitely refused); `sentAt` is when the answered attempt went out. */
  write(k: number, name: string): Promise<{ ok: boolean; doubled: boolean; url: string | undefined; sentAt: number; answeredAt: number }>;
  /** Finds the leader, calls `killing()` just before the SIGKILL, and resolves with its index once it has exited. */
  killLeader(killing: () => void): Promise<number>;
  /** The names under `prefix` the (new) leader holds, and which member that is. */
  present(prefix: string): Promise<{ names: Set<string>; leader: number }>;
  /** Restarts member `i` and waits until it has rejoined. */
  recover(i: number): Promise<void>;
  close(): void;
}

interface RoundResult {
  killed: number;
  leader: number;
  failoverMs: number;
  acked: number;
  lost: number;
  doubled: number;
  failed: number;
  /** Acknowledged writes per second before the kill. */
  writesPerSec: number;
}

async function round(side: Side, prefix: string): Promise<RoundResult> {
  let stopping = false;
  let killedAt = Number.POSITIVE_INFINITY;
  let deadAt = Number.POSITIVE_INFINITY;
  let firstAfter: number | undefined;
  let survived: () => void = () => undefined;
  const firstSurvivor = new Promise<void>((resolve) => {
    survived = resolve;
  });
  const acked: string[] = [];
  let doubled = 0;
  let failed = 0;
  const loop = async (k: number): Promise<void> => {
    for (let seq = 0; !stopping; seq++) {
      const name = `${prefix}/w${k}/n${seq}`;
      const o = await side.write(k, name);
      if (o.ok) {
        acked.push(name);
        // Sent once the old leader had exited, and acknowledged: the cluster took over. (An answer that
        // merely arrives after the signal may be for a write the old leader committed: etcd's
        // followers answer puts they forwarded, so "answered after the kill" would flatter it.)
        if (o.sentAt >= deadAt && (firstAfter === undefined || o.answeredAt < firstAfter)) {
          firstAfter = o.answeredAt;
          survived();
        }
      } else if (o.doubled) doubled++;
      else failed++;
    }
  };
  const loops = Array.from({ length: WRITERS }, (_, k) => loop(k));
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, BEFORE_KILL_MS));
  const before = acked.length;
  const writesPerSec = (before / (performance.now() - t0)) * 1000;
  const victim = await side.killLeader(() => {
    killedAt = performance.now();
  });
  deadAt = performance.now();
  const timeout = new Promise<void>((r) => setTimeout(r, 30_000).unref());
  await Promise.race([firstSurvivor, timeout]);
  await new Promise((r) => setTimeout(r, AFTER_FIRST_MS));
  stopping = true;
  await Promise.all(loops);
  const { names, leader } = await side.present(prefix);
  const lost = acked.filter((n) => !names.has(n)).length;
  await side.recover(victim);
  return {
    killed: victim, leader, failoverMs: firstAfter === undefined ? Number.NaN : firstAfter - killedAt, acked: acked.length, lost, doubled, failed, writesPerSec,
  };
}

function dpnsSide(c: TestCluster): Side {
  const writers = Array.from({ length: WRITERS }, () => new RawWriter({
    urls: c.urls, token: c.adminToken, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS, retryDelayMs: RETRY_DELAY_MS,
  }));
  const spec = { host: '127.0.0.1', program: 'echo' };
  return {
    async write(k, name) {
      const o = await (writers[k] as RawWriter).write('register.add', { name, spec });
      return { ok: o.ok, doubled: o.code === 'ALREADY_EXISTS', url: o.url, sentAt: o.lastSentAt, answeredAt: o.answeredAt };
    },
    async killLeader(killing) {
      const p = await c.primary();
      killing();
      await c.kill9(p.sid);
      return p.sid;
    },
    async present(prefix) {
      const p = await c.primary();
      const a = await c.call(p.sid, 'listServices', { pattern: `${prefix}/*` });
      if (!a.ok) throw new Error(`listServices on the new primary: ${a.code} ${a.message}`);
      return { names: new Set((a.result as { names: string[] }).names), leader: p.sid };
    },
    async recover(i) {
      await c.restart(i);
      const p = await c.primary();
      await c.waitStatus(p.sid, (s) => s.servers.every((r) => r.connected && r.lag === 0 && r.epoch === p.epoch && r.role === (r.self ? 'primary' : 'backup')), 20_000);
    },
    close() {
      for (const w of writers) w.close();
    },
  };
}

function etcdSide(e: EtcdCluster): Side {
  const writers = Array.from({ length: WRITERS }, () => new EtcdWriter(e.urls, ATTEMPT_TIMEOUT_MS, RETRY_DELAY_MS));
  return {
    async write(k, name) {
      const o = await (writers[k] as EtcdWriter).put(name, '127.0.0.1:7');
      return { ok: o.ok, doubled: false, url: o.url, sentAt: o.lastSentAt, answeredAt: o.answeredAt };
    },
    async killLeader(killing) {
      const i = await e.leader();
      killing();
      await e.kill9(i);
      return i;
    },
    async present(prefix) {
      const i = await e.leader();
      return { names: await e.keys(e.urls[i] as string, `${prefix}/`), leader: i };
    },
    async recover(i) {
      await e.restart(i);
      await e.leader();
    },
    close() {
      for (const w of writers) w.close();
    },
  };
}

async function rounds(side: Side, system: string): Promise<RoundResult[]> {
  const out: RoundResult[] = [];
  const run = Math.random().toString(36).slice(2, 8);
  for (let r = 0; r < ROUNDS; r++) {
    const res = await round(side, `/bench/failover/${run}/r${r}`);
    status(`failover ${system} round ${r + 1}/${ROUNDS}: killed ${res.killed}, new leader ${res.leader}, first write ${fmtMs(res.failoverMs)} ms after kill -9; ${res.acked} acknowledged ` +
      `(${Math.round(res.writesPerSec)}/s before the kill), ${res.lost} lost, ${res.doubled} applied twice, ${res.failed} given up`);
    out.push(res);
  }
  return out;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function row(ctx: BenchContext, key: string, system: Row['system'], shape: string, res: readonly RoundResult[], extra: string): Row {
  const times = res.map((r) => r.failoverMs);
  const lost = res.reduce((n, r) => n + r.lost, 0);
  const doubled = res.reduce((n, r) => n + r.doubled, 0);
  const failed = res.reduce((n, r) => n + r.failed, 0);
  const acked = res.reduce((n, r) => n + r.acked, 0);
  return {
    key, label: 'failover: kill -9 leader → first write', system, shape,
    opsPerSec: median(res.map((r) => r.writesPerSec)), p50Ms: median(times), errors: lost + doubled + failed,
    verified: lost === 0 && doubled === 0 && times.every(Number.isFinite),
    note: `max ${fmtMs(Math.max(...times))} ms over ${res.length} rounds (${times.map((t) => fmtMs(t)).join(', ')}); ` +
      `${acked} acknowledged, ${lost} lost, ${doubled} applied twice, ${failed} given up${extra}`,
  };
}

export async function runFailover(ctx: BenchContext): Promise<void> {
  const shape = `${WRITERS} writers, ${ATTEMPT_TIMEOUT_MS} ms attempts`;
  status(`failover: a 3-server dpns cluster (sync), ${WRITERS} raw writers, ${ROUNDS} rounds of kill -9 of the primary`);
  const cluster = await startCluster({ n: 3, replication: 'sync', extraArgs: ['--log-level', 'warn'], onProcess: (p) => trackChild(p.proc) });
  const forget = onCleanup(() => cluster.close());
  const dpns = dpnsSide(cluster);
  let dpnsRow: Row | undefined;
  try {
    await cluster.primary();
    dpnsRow = ctx.add(row(ctx, 'failover', 'dpns', `3 servers sync, ${shape}`, await rounds(dpns, 'dpns'), ''));
  } finally {
    dpns.close();
    forget();
    await cluster.close();
  }

  if (etcdVersion() === undefined) {
    status('failover: etcd not on the PATH, its side skipped (apt-get install etcd-server)');
    return;
  }
  status(`failover: a 3-member etcd ${etcdVersion() ?? ''} cluster (default timing: 100 ms heartbeat, 1 s election), the same rounds`);
  const etcd = await startEtcdCluster(3);
  const side = etcdSide(etcd);
  try {
    const res = await rounds(side, 'etcd');
    const ratio = dpnsRow.p50Ms !== undefined && dpnsRow.p50Ms > 0 ? median(res.map((r) => r.failoverMs)) / dpnsRow.p50Ms : Number.NaN;
    const r = ctx.add(row(ctx, 'failover.etcd', 'etcd', `3 members, ${shape}`, res, `; etcd median / dpns median: ${ratio.toFixed(1)}×`));
    status(`failover: dpns median ${fmtMs(dpnsRow.p50Ms)} ms vs etcd ${fmtMs(r.p50Ms)} ms (${ratio.toFixed(1)}×); target < 100 ms median for dpns: ${(dpnsRow.p50Ms ?? Infinity) < 100 ? 'MET' : 'MISS'}`);
  } finally {
    side.close();
    await etcd.stop();
  }
}
