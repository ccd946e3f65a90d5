// A three-member etcd cluster for the failover comparison, on loopback by default or one member
// per test host (network namespace) when `hosts` is given: each member its own temporary data
// directory and ports, etcd's default timing (100 ms heartbeat, 1 s election) unless `timing` is
// given, quiet logs. Members can be killed and restarted on their data directory; the leader is found
// through each member's JSON gateway (/v3/maintenance/status). Also here: etcd's side of the
// failover writer, the same shape as the dpns one (sequential puts, a timeout per attempt, the
// next live member after any failure).
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { freePorts } from '../harness/index.js';
import { etcdVersion } from './etcd-process.js';
import { etcdTimingArgs, type EtcdTiming } from './failure-detection.js';
import { b64, etcdPost } from './etcd-http.js';
import { onCleanup, removeDir, stopChild, tempDir, trackChild } from './lifecycle.js';

interface Member {
  name: string;
  /** argv prefix that runs etcd where the member lives (`ip netns exec NS`), empty on loopback. */
  wrap: readonly string[];
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  child: ChildProcess | undefined;
  stderr: string;
}

export interface EtcdCluster {
  readonly version: string;
  /** Client URLs in member order. */
  readonly urls: string[];
  pid(i: number): number;
  /**
   * The index of the member every live member (or every one of `among`) names as leader; rejects
   * after `timeoutMs`. A member cut off from the network is live but cannot answer: pass `among`.
   */
  leader(timeoutMs?: number, among?: readonly number[]): Promise<number>;
  /** SIGKILL; resolves once the process is gone. */
  kill9(i: number): Promise<void>;
  /** Starts member `i` again on its data directory and waits until it follows a leader. */
  restart(i: number): Promise<void>;
  /** Keys under `prefix` as the member at `url` holds them (a linearizable read). */
  keys(url: string, prefix: string): Promise<Set<string>>;
  stop(): Promise<void>;
}

/** Where a member runs when not on loopback: its address, and the argv prefix that runs a command there. */
export interface EtcdHost {
  addr: string;
  wrap: readonly string[];
}

export interface EtcdClusterOptions {
  /** One host per member (e.g. a test network namespace); the members use etcd's usual ports 2379 and 2380 there. */
  hosts?: readonly EtcdHost[];
  /** `--heartbeat-interval` and `--election-timeout` of every member; etcd's defaults when absent. */
  timing?: EtcdTiming;
}

export async function startEtcdCluster(n = 3, opts: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const version = etcdVersion() ?? 'unknown';
  const { hosts } = opts;
  if (hosts !== undefined && hosts.length < n) throw new Error(`startEtcdCluster: ${n} members but ${hosts.length} hosts`);
  // Each namespace has its own ports, so there the usual ones are free; on loopback they are shared.
  const ports = hosts === undefined ? await freePorts(2 * n) : hosts.flatMap(() => [2379, 2380]);
  const token = `bench-${Math.random().toString(36).slice(2, 8)}`;
  const members: Member[] = Array.from({ length: n }, (_, i) => {
    const addr = hosts?.[i]?.addr ?? '127.0.0.1';
    return {
      name: `m${i}`, wrap: hosts?.[i]?.wrap ?? [], clientUrl: `http://${addr}:${ports[2 * i] ?? 0}`, peerUrl: `http://${addr}:${ports[2 * i + 1] ?? 0}`,
      dataDir: tempDir(`etcd${i}`), child: undefined, stderr: '',
    };
  });
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const launch = (m: Member): void => {
    // With a data directory from an earlier start, etcd ignores the --initial-* flags and rejoins.
    const argv = [
      'etcd', '--name', m.name, '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl, '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl, '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', token,
      ...etcdTimingArgs(opts.timing),
      '--logger', 'zap', '--log-level', 'error',
    ];
    // `ip netns exec` execs the program, so the child's pid is etcd's own and signals reach it.
    const [cmd, ...args] = [...m.wrap, ...argv] as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    trackChild(child);
    m.child = child;
    m.stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (m.stderr.length < 10_000) m.stderr += String(d);
    });
  };
  const status = async (m: Member): Promise<{ id: string; leader: string } | undefined> => {
    const r = await etcdPost(m.clientUrl, '/v3/maintenance/status', {}, 500);
    const id = (r?.header as { member_id?: unknown } | undefined)?.member_id;
    const leader = r?.leader;
    return typeof id === 'string' && typeof leader === 'string' && leader !== '0' ? { id, leader } : undefined;
  };
  const following = async (m: Member, timeoutMs: number): Promise<void> => {
    const deadline = performance.now() + timeoutMs;
    while ((await status(m)) === undefined) {
      if (m.child?.exitCode !== null) throw new Error(`etcd ${m.name} exited:\n${m.stderr}`);
      if (performance.now() > deadline) throw new Error(`etcd ${m.name} has no leader after ${timeoutMs} ms:\n${m.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all(members.flatMap((m) => (m.child === undefined ? [] : [stopChild(m.child)])));
      for (const m of members) removeDir(m.dataDir);
    })();
    return stopped;
  };
  const forget = onCleanup(stop);
  const kill9 = async (i: number): Promise<void> => {
    const m = members[i] as Member;
    const c = m.child;
    m.child = undefined;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };

  const cluster: EtcdCluster = {
    version,
    urls: members.map((m) => m.clientUrl),
    pid: (i) => members[i]?.child?.pid ?? -1,
    async leader(timeoutMs = 10_000, among) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const live = members.filter((m, i) => m.child !== undefined && (among === undefined || among.includes(i)));
        const seen = await Promise.all(live.map(status));
        const leaders = new Set(seen.map((s) => s?.leader));
        const id = seen[0]?.leader;
        const at = live.findIndex((_, k) => seen[k]?.id === id);
        if (leaders.size === 1 && id !== undefined && at >= 0) return members.indexOf(live[at] as Member);
        if (performance.now() > deadline) throw new Error(`etcd: no agreed leader within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    kill9,
    async restart(i) {
      await kill9(i);
      const m = members[i] as Member;
      launch(m);
      await following(m, 20_000);
    },
    async keys(url, prefix) {
      const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
      const r = await etcdPost(url, '/v3/kv/range', { key: b64(prefix), range_end: b64(end), keys_only: true }, 10_000);
      if (r === undefined) throw new Error(`etcd: range of ${prefix} on ${url} failed`);
      const kvs = (r.kvs ?? []) as { key: string }[];
      return new Set(kvs.map((kv) => Buffer.from(kv.key, 'base64').toString('utf8')));
    },
    async stop() {
      forget();
      await stop();
    },
  };
  try {
    for (const m of members) launch(m);
    await Promise.all(members.map((m) => following(m, 20_000)));
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

/** How one put ended: acknowledged, and by which member; when the answered attempt was sent, and when it was answered. */
export interface EtcdPutOutcome {
  ok: boolean;
  url: string | undefined;
  lastSentAt: number;
  answeredAt: number;
  failures: number;
}

/** Sequential puts, each retried on the next member after any failure until one acknowledges it. */
export class EtcdWriter {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private at: number;
  private closed = false;

  constructor(private readonly urls: readonly string[], private readonly attemptTimeoutMs: number, private readonly retryDelayMs: number, private readonly giveUpMs = 30_000) {
    this.at = Math.floor(Math.random() * urls.length);
  }

  async put(key: string, value: string): Promise<EtcdPutOutcome> {
    const started = performance.now();
    let failures = 0;
    while (!this.closed && performance.now() - started < this.giveUpMs) {
      const url = this.urls[this.at % this.urls.length] as string;
      const sentAt = performance.now();
      const r = await etcdPost(url, '/v3/kv/put', { key: b64(key), value: b64(value) }, this.attemptTimeoutMs, this.agent);
      if (r !== undefined) return { ok: true, url, lastSentAt: sentAt, answeredAt: performance.now(), failures };
      failures++;
      this.at++;
      await new Promise((res) => setTimeout(res, this.retryDelayMs));
    }
    return { ok: false, url: undefined, lastSentAt: performance.now(), answeredAt: performance.now(), failures };
  }

  close(): void {
    this.closed = true;
    this.agent.destroy();
  }
}
