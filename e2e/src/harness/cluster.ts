// A cluster of REAL name server processes in backup mode, as an operator would run one: `init`
// once, the key and token copied to every member, each member started with the same --cluster
// list. Members can be killed, stopped and restarted on their own port and data directory, and
// every process is tracked like any other the harness starts, so `teardown()` leaves none behind.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Methods } from '@dpns/protocol';
import type { TestHost } from './netns.js';
import { NAMESERVER_BIN } from './paths.js';
import { rpcOnce, type Answer } from './raw-writer.js';
import { startServerProcess, type ServerProcess } from './server.js';
import { makeTempDir, removeTempDirs } from './tmp.js';
import { freePorts } from './ports.js';

/** What `servers` answers. */
export type ServersResult = Methods['servers']['result'];

export interface StartClusterOptions {
  /** Members, started at once. */
  n: number;
  /** --replication; the server's default (sync) when omitted. */
  replication?: 'sync' | 'async';
  readFromBackups?: boolean;
  /** One test host (network namespace) per member: member i listens on hosts[i].addr and runs inside it. */
  hosts?: readonly TestHost[];
  /** The port every member uses when `hosts` is given (each namespace has its own); default 7700. */
  hostPort?: number;
  /** More flags for every member, e.g. `['--two-node-failover']`. */
  extraArgs?: string[];
  /** Called with every process started (first starts and restarts), e.g. to register it with a benchmark's clean-up. */
  onProcess?: (p: ServerProcess) => void;
  /**
   * Puts something in front of each member (a recording proxy): called with the address member
   * `sid` listens on, it returns the HOST:PORT that reaches it, which is what --cluster (and so
   * every peer, client and ticket line) names. Not with `hosts`.
   */
  front?: (sid: number, listen: { host: string; port: number }) => Promise<string>;
}

/** One member: its SID, address, and the process now running it (undefined while it is down). */
export interface ClusterMember {
  readonly sid: number;
  /** HOST:PORT as in --cluster. */
  readonly server: string;
  readonly url: string;
  readonly dataDir: string;
  proc: ServerProcess | undefined;
}

export interface PrimaryInfo {
  sid: number;
  epoch: number;
  url: string;
}

export interface TestCluster {
  readonly members: readonly ClusterMember[];
  /** ws:// URLs in SID order. */
  readonly urls: string[];
  /** HOST:PORT in SID order (what --server and the client library take). */
  readonly servers: string[];
  readonly adminToken: string;
  /** The running process of `sid`; throws while it is down. */
  proc(sid: number): ServerProcess;
  /** SIGKILL, and resolves once the process is gone. */
  kill9(sid: number): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s): a clean stop. */
  stop(sid: number): Promise<void>;
  /** Starts `sid` again on its port and data directory (killing it first if it still runs). */
  restart(sid: number): Promise<ServerProcess>;
  /** One `servers` call to `sid`. */
  status(sid: number, timeoutMs?: number): Promise<ServersResult | undefined>;
  /**
   * Asks `servers` of the running members (or of `among`) until one that is itself the primary
   * answers, with an epoch of at least `minEpoch`; rejects after `timeoutMs`.
   */
  primary(opts?: { timeoutMs?: number; among?: readonly number[]; minEpoch?: number }): Promise<PrimaryInfo>;
  /** Polls `servers` of `sid` until `pred` holds; resolves with that answer, rejects after `timeoutMs` with the last one. */
  waitStatus(sid: number, pred: (s: ServersResult) => boolean, timeoutMs?: number): Promise<ServersResult>;
  /** One call to `sid`, logged in as admin. */
  call(sid: number, method: string, params: unknown): Promise<Answer>;
  /**
   * Starts a new server that joins the running cluster (--join, docs/CLUSTER.md "Membership
   * changes"): on a free port and an empty data directory with the cluster's key and token,
   * given the --cluster list the cluster was started with. It is appended to `members` (its index
   * there is its SID once added, when members are added in order); an admin's `servers.add` adds it.
   */
  startJoiner(): Promise<ClusterMember>;
  /** Kills every member and removes the data directories; safe to call twice. */
  close(): Promise<void>;
}

/** Starts `n` members and waits until each listens (not until they have elected: see `primary()`). */
export async function startCluster(opts: StartClusterOptions): Promise<TestCluster> {
  const { n } = opts;
  if (opts.hosts !== undefined && opts.hosts.length < n) throw new Error(`startCluster: ${n} members but ${opts.hosts.length} hosts`);
  const addrs = opts.hosts === undefined
    ? (await freePorts(n)).map((port) => ({ host: '127.0.0.1', port }))
    : opts.hosts.slice(0, n).map((h) => ({ host: h.addr, port: opts.hostPort ?? 7700 }));
  if (opts.front !== undefined && opts.hosts !== undefined) throw new Error('startCluster: front and hosts do not go together');
  const front = opts.front;
  const list = front === undefined ? addrs.map((a) => `${a.host}:${a.port}`) : await Promise.all(addrs.map((a, sid) => front(sid, a)));
  const dirs = list.map(() => makeTempDir('dpns-cluster-'));
  const adminToken = shareClusterFiles(dirs);
  const flags = [
    '--cluster', list.join(','), '--log-format', 'text',
    ...(opts.replication === undefined ? [] : ['--replication', opts.replication]),
    ...(opts.readFromBackups === true ? ['--read-from-backups'] : []),
    ...(opts.extraArgs ?? []),
  ];
  const members: ClusterMember[] = list.map((server, sid) => ({ sid, server, url: `ws://${server}`, dataDir: dirs[sid] as string, proc: undefined }));

  const joiners = new Set<number>();
  const launch = async (m: ClusterMember): Promise<ServerProcess> => {
    const a = addrs[m.sid] as { host: string; port: number };
    const h = opts.hosts?.[m.sid];
    const p = await startServerProcess({
      dataDir: m.dataDir, port: a.port, listenHost: a.host, args: ['--self', m.server, ...(joiners.has(m.sid) ? ['--join'] : []), ...flags],
      ...(h === undefined ? {} : { wrap: ['ip', 'netns', 'exec', h.ns] }),
    });
    m.proc = p;
    opts.onProcess?.(p);
    return p;
  };
  let closed = false;
  const running = (sid: number): ServerProcess => {
    const p = members[sid]?.proc;
    if (p === undefined) throw new Error(`cluster member ${sid} is not running`);
    return p;
  };
  const cluster: TestCluster = {
    members,
    urls: members.map((m) => m.url),
    servers: [...list],
    adminToken,
    proc: running,
    async kill9(sid) {
      const m = members[sid] as ClusterMember;
      await m.proc?.kill('SIGKILL');
      m.proc = undefined;
    },
    async stop(sid) {
      const m = members[sid] as ClusterMember;
      await m.proc?.stop();
      m.proc = undefined;
    },
    async restart(sid) {
      const m = members[sid] as ClusterMember;
      await m.proc?.kill('SIGKILL');
      m.proc = undefined;
      return launch(m);
    },
    async status(sid, timeoutMs = 2000) {
      const a = await rpcOnce(members[sid]?.url ?? '', 'servers', {}, { timeoutMs });
      return a.ok ? (a.result as ServersResult) : undefined;
    },
    async primary(o = {}) {
      const deadline = Date.now() + (o.timeoutMs ?? 10_000);
      const seen: string[] = [];
      for (;;) {
        const among = o.among ?? members.filter((m) => m.proc !== undefined).map((m) => m.sid);
        const answers = await Promise.all(among.map(async (sid) => [sid, await cluster.status(sid, 1000)] as const));
        for (const [sid, s] of answers) {
          const self = s?.servers.find((x) => x.self);
          if (s !== undefined && s.primary === sid && self?.role === 'primary' && s.epoch >= (o.minEpoch ?? 0)) {
            return { sid, epoch: s.epoch, url: members[sid]?.url ?? '' };
          }
          seen[sid] = s === undefined ? 'no answer' : `${self?.role ?? '?'} epoch ${s.epoch} primary ${String(s.primary)}`;
        }
        if (Date.now() > deadline) throw new Error(`no primary${o.minEpoch === undefined ? '' : ` of epoch ≥ ${o.minEpoch}`} within ${o.timeoutMs ?? 10_000} ms: ${seen.map((x, i) => `${i}: ${x}`).join('; ')}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async waitStatus(sid, pred, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let last: ServersResult | undefined;
      for (;;) {
        last = await cluster.status(sid, 1000);
        if (last !== undefined && pred(last)) return last;
        if (Date.now() > deadline) throw new Error(`member ${sid}: condition not met within ${timeoutMs} ms; last servers answer: ${JSON.stringify(last)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    call: (sid, method, params) => rpcOnce(members[sid]?.url ?? '', method, params, { token: cluster.adminToken }),
    async startJoiner() {
      if (opts.hosts !== undefined || front !== undefined) throw new Error('startJoiner: not with hosts or front');
      const [port] = await freePorts(1);
      const a = { host: '127.0.0.1', port: port as number };
      const dir = makeTempDir('dpns-cluster-');
      for (const f of ['nameserver.key', 'admin.token']) copyFileSync(join(dirs[0] as string, f), join(dir, f));
      dirs.push(dir);
      const sid = members.length;
      const server = `${a.host}:${a.port}`;
      addrs.push(a);
      joiners.add(sid);
      const m: ClusterMember = { sid, server, url: `ws://${server}`, dataDir: dir, proc: undefined };
      members.push(m);
      cluster.urls.push(m.url);
      cluster.servers.push(server);
      await launch(m);
      return m;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(members.map(async (m) => {
        await m.proc?.kill('SIGKILL');
        m.proc = undefined;
      }));
      for (const d of dirs) await removeTempDirs(d);
    },
  };
  try {
    await Promise.all(members.map(launch));
  } catch (e) {
    await cluster.close();
    throw e;
  }
  return cluster;
}

/** `dpns-nameserver init` in the first directory, then its key and token copied (mode kept) into the others; returns the token. */
function shareClusterFiles(dirs: readonly string[]): string {
  const [first, ...rest] = dirs as [string, ...string[]];
  execFileSync(process.execPath, [NAMESERVER_BIN, 'init', '--data-dir', first], { stdio: ['ignore', 'ignore', 'pipe'] });
  for (const d of rest) {
    for (const f of ['nameserver.key', 'admin.token']) copyFileSync(join(first, f), join(d, f));
  }
  return readFileSync(join(first, 'admin.token'), 'utf8').trim();
}

