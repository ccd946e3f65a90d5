// The rounds of the failover scenarios, whatever takes the leader down (`kill -9` in `failover`,
// its host's link cut in `failover-cut`): a few writers write as fast as they can; the leader is
// taken down; the figure is the time until the first write that a survivor acknowledged; then
// every acknowledged name is looked for on the new leader, and the old one is brought back.
import { performance } from 'node:perf_hooks';
import { DpnsClient, isDpnsError } from '@dpns/client';
import { RawWriter, runCli, type TestCluster } from '../harness/index.js';
import { EtcdWriter } from './etcd-cluster.js';
import { fmtMs, status, type Row } from './report.js';

/** Concurrent writers, each one write at a time. */
export const WRITERS = 4;
/** Both writers give an attempt this long before trying again elsewhere, and pause this long after a failure. */
export const ATTEMPT_TIMEOUT_MS = 250;
export const RETRY_DELAY_MS = 5;
/** Rounds per system (the issue asks for at least 5). */
export const ROUNDS = 5;
/** Writing before the leader is taken down (unless a side says otherwise), and after the first write that survived it. */
const BEFORE_DOWN_MS = 500;
const AFTER_FIRST_MS = 300;

/** One system as a round sees it. */
export interface Side {
  /** Writer `k` writes `name` (retrying until acknowledged or definitely refused); `sentAt` is when the answered attempt went out. */
  write(k: number, name: string): Promise<{ ok: boolean; doubled: boolean; url: string | undefined; sentAt: number; answeredAt: number }>;
  /** Finds the leader, calls `downing()` just before taking it down, and resolves with its index once it is down. */
  takeDownLeader(downing: () => void): Promise<number>;
  /** The names under `prefix` the (new) leader holds, and which member that is; `down` is the member still down. */
  present(prefix: string, down: number): Promise<{ names: Set<string>; leader: number }>;
  /** Brings member `i` back and waits until it has rejoined. */
  recover(i: number): Promise<void>;
  close(): void;
}

/** The writing half of a side: WRITERS writers, and closing them. */
export type Writers = Pick<Side, 'write' | 'close'>;

/** dpns writers: each a RawWriter given every member, doing `register.add` of fresh names (a retry that came back ALREADY_EXISTS was applied twice). */
export function dpnsWriters(c: TestCluster): Writers {
  const writers = Array.from({ length: WRITERS }, () => new RawWriter({
    urls: c.urls, token: c.adminToken, attemptTimeoutMs: ATTEMPT_TIMEOUT_MS, retryDelayMs: RETRY_DELAY_MS,
  }));
  const spec = { host: '127.0.0.1', program: 'echo' };
  return {
    async write(k, name) {
      const o = await (writers[k] as RawWriter).write('register.add', { name, spec });
      return { ok: o.ok, doubled: o.code === 'ALREADY_EXISTS', url: o.url, sentAt: o.lastSentAt, answeredAt: o.answeredAt };
    },
    close() {
      for (const w of writers) w.close();
    },
  };
}

/**
 * dpns writers through the client library, as an application writes: one DpnsClient each, given
 * every member, doing `register.add` of fresh names with the library's own failover, resending
 * and requestIds. `sentAt` is when the call was made (the library may send it more than once).
 */
export function clientWriters(c: TestCluster): Writers {
  const clients = Array.from({ length: WRITERS }, () => new DpnsClient({ servers: c.servers, token: c.adminToken, requestTimeoutMs: 10_000 }));
  const spec = { host: '127.0.0.1', program: 'echo' };
  return {
    async write(k, name) {
      const sentAt = performance.now();
      try {
        await (clients[k] as DpnsClient).register.add(name, spec);
        return { ok: true, doubled: false, url: undefined, sentAt, answeredAt: performance.now() };
      } catch (e) {
        return { ok: false, doubled: isDpnsError(e, 'ALREADY_EXISTS'), url: undefined, sentAt, answeredAt: performance.now() };
      }
    },
    close() {
      for (const c of clients) void c.close();
    },
  };
}

/** One `dpns add` process: when it was started and when it exited. */
export interface CommandSpan {
  startedAt: number;
  exitedAt: number;
}

/**
 * dpns writers through the `dpns` command, as a shell script writes: each write is one
 * `dpns add NAME` process given every member (DPNS_SERVERS), whose library finds and follows the
 * primary. `sentAt` is when the process was started, so node's start-up is in every figure; each
 * process's span goes into `spans`, from which `addedByKills` tells what a kill added to the
 * commands running through it.
 */
export function cliWriters(c: TestCluster): Writers & { spans: CommandSpan[] } {
  const spans: CommandSpan[] = [];
  return {
    spans,
    async write(k, name) {
      const sentAt = performance.now();
      const r = await runCli(cliAdd(name), { env: cliEnv(c), timeoutMs: 30_000 });
      const answeredAt = performance.now();
      spans.push({ startedAt: sentAt, exitedAt: answeredAt });
      return { ok: r.code === 0, doubled: r.code !== 0 && r.stderr.includes('ALREADY_EXISTS'), url: undefined, sentAt, answeredAt };
    },
    close() {
      // Each write is its own process, gone once it has answered.
    },
  };
}

/** `dpns add` on a healthy cluster, WRITERS at once: see slowestOfGroup. */
export interface CommandTimes {
  /** The median over the groups of the slowest command of each. */
  slowest: number;
  /** The median command. */
  single: number;
}

/**
 * What a kill is compared with: on a healthy cluster, WRITERS `dpns add` started at once (as
 * every round starts its writers, so the commands a kill runs through are such a group), and
 * the slowest of them, start to exit; the median over `groups` groups. The slowest, because the
 * figure of a kill is the slowest command running through it: measured against a single
 * command's median it would count the spread between four node start-ups on a small host (tens
 * of milliseconds) as failover time.
 */
export async function slowestOfGroup(c: TestCluster, prefix: string, groups = ROUNDS): Promise<CommandTimes> {
  const slowest: number[] = [];
  const all: number[] = [];
  for (let g = 0; g < groups; g++) {
    const times = await Promise.all(Array.from({ length: WRITERS }, async (_, k) => {
      const t0 = performance.now();
      const r = await runCli(cliAdd(`${prefix}/g${g}/w${k}`), { env: cliEnv(c), timeoutMs: 30_000 });
      if (r.code !== 0) throw new Error(`dpns add on a healthy cluster failed (${r.code}): ${r.stderr.trim()}`);
      return performance.now() - t0;
    }));
    slowest.push(Math.max(...times));
    all.push(...times);
  }
  return { slowest: median(slowest), single: median(all) };
}

/**
 * For each kill: how much longer than `baseline` (slowestOfGroup) the slowest command running at
 * the kill took (0 or less: the failover cost it nothing visible). NaN for a kill no command spanned.
 */
export function addedByKills(spans: readonly CommandSpan[], kills: readonly number[], baseline: number): number[] {
  return kills.map((t) => {
    const through = spans.filter((s) => s.startedAt <= t && s.exitedAt > t).map((s) => s.exitedAt - s.startedAt);
    return through.length === 0 ? Number.NaN : Math.max(...through) - baseline;
  });
}

function cliAdd(name: string): string[] {
  return ['add', name, '--host', '127.0.0.1', '--program', 'echo'];
}

function cliEnv(c: TestCluster): Record<string, string> {
  return { DPNS_SERVERS: c.servers.join(','), DPNS_TOKEN: c.adminToken };
}

/** etcd writers of the same shape: sequential puts through the JSON gateway, the next member after a failure. */
export function etcdWriters(urls: readonly string[]): Writers {
  const writers = Array.from({ length: WRITERS }, () => new EtcdWriter([...urls], ATTEMPT_TIMEOUT_MS, RETRY_DELAY_MS));
  return {
    async write(k, name) {
      const o = await (writers[k] as EtcdWriter).put(name, '127.0.0.1:7');
      return { ok: o.ok, doubled: false, url: o.url, sentAt: o.lastSentAt, answeredAt: o.answeredAt };
    },
    close() {
      for (const w of writers) w.close();
    },
  };
}

export interface RoundResult {
  downed: number;
  leader: number;
  failoverMs: number;
  acked: number;
  lost: number;
  doubled: number;
  failed: number;
  /** Acknowledged writes per second before the leader went down. */
  writesPerSec: number;
}

async function round(side: Side, prefix: string, beforeDownMs: number): Promise<RoundResult> {
  let stopping = false;
  let downAt = Number.POSITIVE_INFINITY;
  let goneAt = Number.POSITIVE_INFINITY;
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
        // Sent once the old leader was gone, and acknowledged: the cluster took over. (An answer that
        // merely arrives after the signal may be for a write the old leader committed: etcd's
        // followers answer puts they forwarded, so "answered after the kill" would flatter it.)
        if (o.sentAt >= goneAt && (firstAfter === undefined || o.answeredAt < firstAfter)) {
          firstAfter = o.answeredAt;
          survived();
        }
      } else if (o.doubled) doubled++;
      else failed++;
    }
  };
  const loops = Array.from({ length: WRITERS }, (_, k) => loop(k));
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, beforeDownMs));
  const before = acked.length;
  const writesPerSec = (before / (performance.now() - t0)) * 1000;
  const victim = await side.takeDownLeader(() => {
    downAt = performance.now();
  });
  goneAt = performance.now();
  const timeout = new Promise<void>((r) => setTimeout(r, 30_000).unref());
  await Promise.race([firstSurvivor, timeout]);
  await new Promise((r) => setTimeout(r, AFTER_FIRST_MS));
  stopping = true;
  await Promise.all(loops);
  const { names, leader } = await side.present(prefix, victim);
  const lost = acked.filter((n) => !names.has(n)).length;
  await side.recover(victim);
  return {
    downed: victim, leader, failoverMs: firstAfter === undefined ? Number.NaN : firstAfter - downAt, acked: acked.length, lost, doubled, failed, writesPerSec,
  };
}

/**
 * `ROUNDS` rounds with a status line each; `scenario` and `how` (e.g. "kill -9") name them in
 * those lines; the leader is taken down `beforeDownMs` after the writers start.
 */
export async function rounds(side: Side, scenario: string, system: string, how: string, beforeDownMs = BEFORE_DOWN_MS): Promise<RoundResult[]> {
  const out: RoundResult[] = [];
  const run = Math.random().toString(36).slice(2, 8);
  for (let r = 0; r < ROUNDS; r++) {
    const res = await round(side, `/bench/${scenario}/${run}/r${r}`, beforeDownMs);
    status(`${scenario} ${system} round ${r + 1}/${ROUNDS}: ${how} ${res.downed}, new leader ${res.leader}, first write ${fmtMs(res.failoverMs)} ms after it; ${res.acked} acknowledged ` +
      `(${Math.round(res.writesPerSec)}/s before), ${res.lost} lost, ${res.doubled} applied twice, ${res.failed} given up`);
    out.push(res);
  }
  return out;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** The table row of a system's rounds: median writes/s before, median failover time, the rest in the note. */
export function failoverRow(key: string, label: string, system: Row['system'], shape: string, res: readonly RoundResult[], extra: string): Row {
  const times = res.map((r) => r.failoverMs);
  const lost = res.reduce((n, r) => n + r.lost, 0);
  const doubled = res.reduce((n, r) => n + r.doubled, 0);
  const failed = res.reduce((n, r) => n + r.failed, 0);
  const acked = res.reduce((n, r) => n + r.acked, 0);
  return {
    key, label, system, shape,
    opsPerSec: median(res.map((r) => r.writesPerSec)), p50Ms: median(times), maxMs: Math.max(...times), errors: lost + doubled + failed,
    verified: lost === 0 && doubled === 0 && times.every(Number.isFinite),
    note: `max ${fmtMs(Math.max(...times))} ms over ${res.length} rounds (${times.map((t) => fmtMs(t)).join(', ')}); ` +
      `${acked} acknowledged, ${lost} lost, ${doubled} applied twice, ${failed} given up${extra}`,
  };
}
