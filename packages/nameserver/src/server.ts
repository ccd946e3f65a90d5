// The name server's wiring: the registry recovered from disk, the parts that act on it (commits,
// liveness, launches, modules, the cluster), and the port (listener.ts) with its clients
// (client-connections.ts), HTTP pages (http-routes.ts, metrics-page.ts); and the explicit life
// starting → running → closing → closed.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { publicEntry } from '@dpns/protocol';
import { formatHostPort } from '@dpns/node-kit';
import { ADMIN_TOKEN_FILE, loadOrCreateAdminToken } from './admin-token.js';
import { ClientConnections } from './client-connections.js';
import { Committer } from './committer.js';
import { routeHttp, type Health } from './http-routes.js';
import { Listener } from './listener.js';
import { LoopDelay } from './loop-delay.js';
import { registerServerGauges } from './metrics-page.js';
import { RateLimitedLog } from './rate-limited-log.js';
import { PendingSockets } from './socket-guard.js';
import { DEFAULT_QUOTAS, Liveness } from './liveness.js';
import { ServerMetrics } from './metrics.js';
import type { Logger } from './log.js';
import { isLogRecord } from './registry/ops.js';
import { Registry } from './registry/registry.js';
import { RpcDispatcher } from './rpc.js';
import { Store } from './storage/store.js';
import type { FilesAhead } from './storage/whole-file.js';
import { SnapshotLines } from './storage/snapshot-stream.js';
import { Launcher } from './launch/launcher.js';
import { AgentTrust } from './launch/agent-trust.js';
import { DEFAULT_MODULE_LIMITS, type ModuleLimits } from './modules/limits.js';
import { ModuleManager } from './modules/manager.js';
import { Restarter } from './launch/restarter.js';
import { HealthChecker } from './health/checker.js';
import { IdleStopper } from './launch/idle-stopper.js';
import { loadOrCreateNameServerKey } from './nameserver-key.js';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DEFAULT_MAX_WATCHES_PER_ADDRESS, MAX_SCANNED_PATTERNS, MAX_SCANNED_PATTERNS_PER_CONNECTION, WatchHub } from './watch-hub.js';
import { standalone, type ClusterConfig } from './cluster/cluster-config.js';
import { ClusterNode } from './cluster/cluster-node.js';
import { recoveredLogOf } from './cluster/recovered-tail.js';
import { bootstrapVoters, CoreLog } from '@dpns/cluster-core';
import { refusalFor } from './cluster/gate.js';
import { MemberRestarter, type MemberRestartSpec } from './cluster/member-restart.js';
import { deriveClusterKey } from './cluster/peer-link.js';
import { Replica } from './cluster/replica.js';
import { BackupSnapshots } from './cluster/snapshot-transfer.js';
import { registrySnapshotOf } from './registry/snapshot-lines.js';
import { AdminPrefixes } from './registry/admin-prefixes.js';
import { DEFAULT_RESERVATION_MS } from './registry/reservation.js';
import { DEFAULT_LOST_EXPIRY_MS, DEFAULT_MAX_LOST_ENTRIES } from './registry/stray-expiry.js';
import { StraySweeper } from './stray-sweeper.js';
import type { Change } from './registry/ops.js';
import { KEY_FILE } from './nameserver-key.js';
import type { HostPort } from '@dpns/settings';
import type { DnsServer } from './dns/dns-server.js';
import type { DnsSettings } from './dns/open-dns.js';

export interface NameServerOptions extends DnsSettings {
  /** Where to answer DNS (docs/DNS.md); no DNS when absent. */
  dnsListen?: HostPort;
  host: string;
  port: number;
  dataDir: string;
  /** Reads of the data directory started before the server was made (Store.readAhead), for its recovery to take. */
  dataAhead?: FilesAhead;
  /** Interval of the liveness pings; a dead peer is noticed within two. */
  clientHeartbeatMs: number;
  /** How long advertisements of connections survive a restart, waiting for them to come back. */
  graceMs: number;
  maxFrameBytes: number;
  maxWatchesPerConnection: number;
  maxConnections: number;
  /** Client connections one source address may hold at once. */
  maxConnectionsPerAddress: number;
  /** Names one non-admin connection may keep advertised at once. */
  maxAdvertisementsPerConnection: number;
  /** Names the non-admin connections of one source address / one owner key may keep advertised together (DEFAULT_QUOTAS when absent). */
  maxAdvertisementsPerAddress?: number;
  maxAdvertisementsPerOwner?: number;
  /** Lost entries nobody keeps, at most (DEFAULT_MAX_LOST_ENTRIES when absent). */
  maxLostEntries?: number;
  /** Watches the connections of one source address may hold together (DEFAULT_MAX_WATCHES_PER_ADDRESS when absent). */
  maxWatchesPerAddress?: number;
  /** Log records between snapshots. */
  snapshotEvery: number;
  agentPort: number;
  agentTimeoutMs: number;
  publicAddress?: string;
  /** Module files loaded at start; `<dataDir>/modules.d` when that exists and this is not given. */
  modulesDir?: string;
  /** A module call's time limit; past it the module's worker is restarted. */
  moduleTimeoutMs?: number;
  moduleLoadTimeoutMs?: number;
  /** Each module worker's heap limit (V8 old generation). */
  moduleMemoryMb?: number;
  /** Failures in a row before a module stays failed. */
  moduleMaxRestarts?: number;
  /** Niceness of module worker threads (Linux). */
  moduleNice?: number;
  /** Backup mode; a stand-alone server when absent (a cluster of one). */
  cluster?: ClusterConfig;
  /** How the agent on a failed member's host starts it again after a takeover; no restart when absent. */
  restartMember?: MemberRestartSpec;
  /** Host → the launch agent identities accepted on it. */
  agentKeys?: Record<string, string[]>;
  /** Browser origins besides the server's own that may open a WebSocket (origin-policy.ts). */
  allowedOrigins?: readonly string[];
  /** How long a lost name stays held for the owner key that advertised it; DEFAULT_RESERVATION_MS when absent, 0 holds nothing. */
  reservationMs?: number;
  /** How long a lost entry that nobody keeps stays; DEFAULT_LOST_EXPIRY_MS when absent, 0 keeps them. */
  lostExpiryMs?: number;
  /** Globs under which only admins (or launched processes with their ticket) may advertise. */
  adminPrefixes?: string[];
  logger: Logger;
}

/** Records kept in memory for backups that catch up from the log. */
const LOG_TAIL_RECORDS = 100_000;
/**
 * A server alone has no backup to catch up, and its tail only says where the log ends; keeping
 * 100,000 records there was 60 MiB of a 100,000-name registry's memory.
 */
const STANDALONE_TAIL_RECORDS = 1024;
/** How long one slice of putting a restart's new names in the ordered index may hold up requests. */
const ORDER_SLICE_MS = 5;

export type ServerState = 'starting' | 'running' | 'closing' | 'closed';

export class NameServer {
  state: ServerState = 'starting';
  readonly registry = new Registry();
  private readonly hub: WatchHub;
  /** Requests, latency and launches, for GET /metrics. */
  readonly metrics = new ServerMetrics();
  private readonly clients: ClientConnections;
  private listener: Listener | undefined;
  private store: Store | undefined;
  private liveness: Liveness | undefined;
  private restarter: Restarter | undefined;
  /** Probes health checks while this server is the primary. */
  private checker: HealthChecker | undefined;
  /** Stops unused auto-start services with an idle stop while this server is the primary. */
  private idle: IdleStopper | undefined;
  private modules: ModuleManager | undefined;
  private committer: Committer | undefined;
  /** This server's place in the cluster (a cluster of one when stand-alone). */
  cluster: ClusterNode | undefined;
  private memberRestarter: MemberRestarter | undefined;
  private closing: Promise<void> | undefined;
  adminToken = '';
  tokenPath = '';
  tokenCreated = false;
  /** The hex public key launch agents must list in trustedKeys. */
  publicKey = '';
  /** Fires when the server has to stop on its own (its disk failed). */
  onFatal: (err: unknown) => void = () => undefined;

  /** How late the event loop runs, for /metrics and the heartbeat's log line. */
  private readonly loopDelay = new LoopDelay();
  /** Sockets still plain HTTP (slowloris is cut here). */
  private readonly pendingSockets = new PendingSockets();
  private straySweeper: StraySweeper | undefined;
  /** The DNS port, when --dns-listen is given. */
  dns: DnsServer | undefined;
  /** Lines about connections the server closed: one per close, at most a few a second. */
  private readonly rateLog: RateLimitedLog;

  constructor(readonly opts: NameServerOptions) {
    this.rateLog = new RateLimitedLog(opts.logger, 10);
    this.hub = new WatchHub({
      perConnection: MAX_SCANNED_PATTERNS_PER_CONNECTION, total: MAX_SCANNED_PATTERNS, perAddress: opts.maxWatchesPerAddress ?? DEFAULT_MAX_WATCHES_PER_ADDRESS,
    });
    this.clients = new ClientConnections({
      heartbeatMs: opts.clientHeartbeatMs, maxFrameBytes: opts.maxFrameBytes, maxConnections: opts.maxConnections, maxConnectionsPerAddress: opts.maxConnectionsPerAddress,
      logger: opts.logger, rateLog: this.rateLog, metrics: this.metrics, hub: this.hub, loopDelay: this.loopDelay,
      accepting: () => this.state === 'running',
      hello: () => ({ revision: this.registry.revision, ...(this.cluster === undefined ? {} : { cluster: this.cluster.hello() }) }),
      advertiserGone: (conn) => {
        this.liveness?.connectionEnded(conn, Date.now()).catch(() => undefined);
      },
    });
    registerServerGauges(this.metrics, {
      registry: this.registry, hub: this.hub, loopDelay: this.loopDelay, pendingSockets: this.pendingSockets, clients: this.clients,
      store: () => this.store, modules: () => this.modules, cluster: () => this.cluster, health: () => this.checker,
    });
  }

  get address(): { host: string; port: number } {
    return { host: this.opts.host, port: this.listener?.port ?? this.opts.port };
  }

  get url(): string {
    const { host, port } = this.address;
    return `ws://${formatHostPort(host, port)}`;
  }

  async start(): Promise<void> {
    const log = this.opts.logger;
    await fs.mkdir(this.opts.dataDir, { recursive: true, mode: 0o700 });
    const clusterCfg = this.opts.cluster ?? standalone(formatHostPort(this.opts.host, this.opts.port));
    if (clusterCfg.members.length > 1) await requireClusterFiles(this.opts.dataDir);
    const token = await loadOrCreateAdminToken(this.opts.dataDir, log);
    Object.assign(this, { adminToken: token.token, tokenPath: token.path, tokenCreated: token.created });
    const { key, path: keyPath, upgraded } = await loadOrCreateNameServerKey(this.opts.dataDir, { upgrade: true });
    if (upgraded) log.info('rewrote the name server key file in the marked private-key form', { path: keyPath });
    this.publicKey = key.publicKey;

    const started = Date.now();
    const { store, recovered } = await Store.open({
      dir: this.opts.dataDir, logger: log, ...(this.opts.dataAhead === undefined ? {} : { ahead: this.opts.dataAhead }),
      // Advertisers that went while writes were refused are marked lost now.
      onAvailability: (writable) => {
        if (writable) this.liveness?.reconcile(Date.now()).catch(() => undefined);
      },
    });
    this.store = store;
    const opened = Date.now();
    if (recovered.snapshot !== undefined) this.registry.load(registrySnapshotOf(recovered.snapshot.state));
    // A format-3 file (its lines handed back unparsed) is one the next snapshot can be made from.
    const recoveredFrom = recovered.snapshot?.state instanceof SnapshotLines ? { index: recovered.snapshot.index, generation: this.registry.loadGeneration } : undefined;
    const loaded = Date.now();
    const tailCapacity = clusterCfg.members.length > 1 ? LOG_TAIL_RECORDS : STANDALONE_TAIL_RECORDS;
    // The records the member's log keeps, the older let go as they are replayed (recovered-tail.ts).
    const tail = new CoreLog(tailCapacity, [], this.registry.revision, this.registry.epoch, this.registry.clusterMembers?.voters ?? bootstrapVoters(clusterCfg.members.length));
    // New names go in the ordered index after the server answers (settleOrder below).
    this.registry.deferOrder();
    try {
      for (const rec of recovered.records) {
        // Parsed here, once (checkRecord): what is not kept for the log is garbage at once.
        const data = rec.data;
        if (!isLogRecord(data)) throw new Error(`log record ${rec.index} is not a registry change; the data directory belongs to something else`);
        this.registry.applyRecord(data, rec.index);
        tail.push({ i: rec.index, d: { ...data } });
      }
    } finally {
      this.registry.endDeferOrder();
    }
    log.info('registry recovered', {
      entries: this.registry.size, revision: this.registry.revision, snapshot: recovered.snapshot?.index ?? 0,
      replayed: recovered.records.length, ms: Date.now() - started,
      // Where a restart's time goes: reading the files, building the registry from the snapshot, replaying the log after it.
      storeMs: opened - started, loadMs: loaded - opened, replayMs: Date.now() - loaded,
      ...(recovered.droppedTail ? { droppedTail: recovered.droppedTail } : {}),
    });

    const backupSnapshots = new BackupSnapshots(this.registry, () => this.store?.newestSnapshot, (index, why) => {
      log.error('the newest snapshot on disk did not check out as it was sent to a backup; backups get one made from the registry until the next is written', { index, why });
    });
    const cluster: ClusterNode = new ClusterNode(clusterCfg, {
      dataDir: this.opts.dataDir, key: deriveClusterKey(key.secretKey), log, now: monotonicMs,
      recovered: recoveredLogOf(tail), tailCapacity,
      sink: new Replica({
        dataDir: this.opts.dataDir, log, registry: this.registry,
        store: () => this.store,
        setStore: (s) => {
          this.store = s;
          if (this.committer !== undefined && s !== undefined) this.committer.store = s;
        },
        committer: () => this.committer,
        // Watchers here saw a history that no longer holds: they reconnect and start over.
        dropClients: (why) => {
          this.clients.closeAll(4002, why, 'history_changed');
        },
        fatal: (err) => this.fatal(err),
      }),
      snapshotForBackup: (floor) => backupSnapshots.forBackup(floor),
      storedSnapshotIndex: () => this.store?.snapshotIndex,
      settled: (index) => this.committer?.settled([], index),
      fatal: (err) => this.fatal(err),
      onPrimary: () => this.becamePrimary(),
      onStepDown: (why) => this.steppedDown(why),
      // A client waiting on a candidate hears of the election's outcome at once (PROTOCOL.md §19.4).
      onClusterChange: () => this.clients.broadcast('cluster', cluster.hello()),
      onTakeover: (previous) => restarts?.restart(previous),
      members: () => this.registry.clusterMembers,
      removed: (why) => {
        log.warn('stopping: this server is no longer a member of the cluster', { why });
        // A moment first, so that the answer to the change that removed it (if it was the primary) goes out.
        setTimeout(() => void this.close(), 500).unref();
      },
    });
    const trust = new AgentTrust(this.registry, this.opts.agentKeys);
    const restartSpec = this.opts.restartMember;
    const restarts = restartSpec === undefined ? undefined : new MemberRestarter({
      members: clusterCfg.members, spec: restartSpec, agentPort: this.opts.agentPort, agentTimeoutMs: this.opts.agentTimeoutMs, key, trust,
      epoch: () => cluster.epoch, lastHeard: (sid) => cluster.lastHeard(sid), now: monotonicMs, stillPrimary: (epoch) => cluster.isPrimaryOf(epoch), log,
    });
    this.memberRestarter = restarts;
    this.cluster = cluster;
    await cluster.init();
    const committer = new Committer(store, this.registry, this.hub, log, this.opts.snapshotEvery, (err) => this.fatal(err), {
      writeRefusal: () => cluster.writeRefusal(),
      get epoch() {
        return cluster.epoch;
      },
      appended: (index, rec) => cluster.appended(index, rec),
      committed: (index) => cluster.committed(index),
      takeBack: (index) => cluster.takeBack(index),
    }, recoveredFrom);
    this.committer = committer;
    const commit = committer.commit.bind(committer);
    const liveness = new Liveness(this.registry, commit, this.opts.reservationMs ?? DEFAULT_RESERVATION_MS, {
      perAddress: this.opts.maxAdvertisementsPerAddress ?? DEFAULT_QUOTAS.perAddress, perOwner: this.opts.maxAdvertisementsPerOwner ?? DEFAULT_QUOTAS.perOwner,
    });
    this.liveness = liveness;

    const launcher = new Launcher({
      registry: this.registry, commit, log, key, agentPort: this.opts.agentPort, agentTimeoutMs: this.opts.agentTimeoutMs,
      servers: [], epoch: () => cluster.epoch, now: Date.now, trust, unbind: (name) => liveness.unbind(name), metrics: this.metrics,
    });
    const restarter = new Restarter(this.registry, launcher, log);
    this.restarter = restarter;
    const expiryMs = this.opts.lostExpiryMs ?? DEFAULT_LOST_EXPIRY_MS;
    const sweeper = new StraySweeper(this.registry, commit, expiryMs, log, (n) => this.metrics.expired.inc(n), this.opts.maxLostEntries ?? DEFAULT_MAX_LOST_ENTRIES);
    this.straySweeper = sweeper;
    liveness.onLost = (name) => {
      restarter.lost(name);
      sweeper.kick();
    };
    launcher.onStopped = (name) => restarter.cancel(name);
    const idle = new IdleStopper({ registry: this.registry, launcher, log, now: Date.now, metrics: this.metrics });
    this.idle = idle;
    this.checker = new HealthChecker({
      registry: this.registry, commit, log, now: Date.now, metrics: this.metrics, onUnhealthy: (name) => restarter.unhealthy(name),
    });
    const afterDurable = committer.afterDurable.bind(committer);
    const modules = new ModuleManager({
      registry: this.registry, dataDir: this.opts.dataDir, limits: this.moduleLimits(), log, afterDurable, now: Date.now,
    });
    this.modules = modules;
    // Modules answer anyone, so they see launch specs as anyone would: redacted.
    committer.onDurable = (changes, revision) => modules.publish(changes.map(publicChange), revision);
    const rpc = new RpcDispatcher({
      registry: this.registry, hub: this.hub, liveness, commit, launcher, idle, trust, modules, afterDurable, adminToken: this.adminToken,
      maxWatchesPerConnection: this.opts.maxWatchesPerConnection, maxAdvertisementsPerConnection: this.opts.maxAdvertisementsPerConnection, log, rateLog: this.rateLog, metrics: this.metrics, now: Date.now,
      advertisePolicy: { adminPrefixes: new AdminPrefixes(this.opts.adminPrefixes ?? []) },
      gate: (method, params) => refusalFor(method, params, cluster),
      servers: () => cluster.serversResult(),
      changeMembers: (change) => cluster.changeMembers(change),
    }, this.opts.maxFrameBytes);
    // Modules load before the port opens, so the first client can already call them.
    const modulesDir = await this.modulesDir();
    if (modulesDir !== undefined) {
      await modules.loadDir(modulesDir);
      log.info('modules directory loaded', { dir: modulesDir, modules: modules.list().map((m) => `${m.prefix ?? m.path}:${m.state}`) });
    }

    this.listener = await Listener.open({
      host: this.opts.host, port: this.opts.port, maxFrameBytes: this.opts.maxFrameBytes, allowedOrigins: this.opts.allowedOrigins,
      logger: log, rateLog: this.rateLog, pendingSockets: this.pendingSockets,
      onHttp: (req, res) => routeHttp(req, res, { health: () => this.health(), metrics: () => this.renderMetrics() }),
      onPeer: (ws, req) => cluster.acceptPeer(ws, req),
      onClient: (ws, req) => this.clients.accept(ws, req, rpc),
    });
    // Launched services are told where to find us (every member: they follow the primary); known only now that the port is bound.
    if (clusterCfg.members.length === 1) clusterCfg.members[0] = this.opts.publicAddress ?? publicAddressFor(this.address);
    launcher.setServers(clusterCfg.members);
    // Every member answers DNS from its own copy; only the primary launches what a query asks for.
    if (this.opts.dnsListen !== undefined) {
      // Loaded only when asked for: a restart without DNS does not pay for its modules (dns-packet) before it answers.
      const { openDns } = await import('./dns/open-dns.js');
      this.dns = await openDns(this.opts.dnsListen, this.opts, {
        registry: this.registry, launch: (name) => launcher.launch(name, 'dns'), used: (name) => idle.used(name), launchRefusal: () => cluster.writeRefusal(), log, rateLog: this.rateLog, metrics: this.metrics,
      });
    }
    this.clients.startHeartbeat();
    this.state = 'running';
    // A cluster of one is primary when this returns; members of a larger one elect or find theirs shortly.
    await cluster.start();
    log.info('listening', { url: this.url, dataDir: this.opts.dataDir });
    // After what is waiting already: the first slice also sorts the names (~20 ms for 100,000).
    setImmediate(() => this.settleOrder());
  }

  /**
   * Puts the names the replay held aside in the ordered index, ORDER_SLICE_MS at a time between
   * requests (a pattern read before the end puts the rest at once).
   */
  private settleOrder(): void {
    if (this.state !== 'running' || this.registry.settleOrder(performance.now() + ORDER_SLICE_MS)) return;
    setImmediate(() => this.settleOrder());
  }

  /** Took over as primary (the core marks the epoch in the log): hold reads until that mark commits, and give every advertiser a fresh grace period. */
  private async becamePrimary(): Promise<void> {
    const log = this.opts.logger;
    // Records from earlier epochs in our log may not be committed yet: reads wait for this
    // epoch's first record (the cluster core appends it) to commit, which commits them all.
    this.committer?.holdReads();
    // Only the primary probes: it answers the finds, and its verdicts are writes.
    this.checker?.start();
    this.restarter?.resume();
    // Uses seen by the primary before are not known here: every idle clock starts now.
    this.idle?.start();
    // Remaining time is not replicated: every advertisement gets the whole grace period again,
    // so a failover neither expires services at once nor keeps a dead one past one grace period.
    const waiting = this.liveness?.startGrace(this.opts.graceMs, Date.now) ?? 0;
    if (waiting > 0) log.info('advertisers have a grace period to reconnect', { services: waiting, graceMs: this.opts.graceMs });
  }

  /** No longer primary: stop acting on the registry, and send clients off to find the new primary. */
  private steppedDown(why: string): void {
    this.liveness?.stop();
    this.restarter?.stop();
    this.checker?.stop();
    this.idle?.stop();
    this.committer?.resetDurable(this.registry.revision);
    this.clients.closeAll(4001, `this server is no longer the primary (${why.slice(0, 60)})`, 'not_primary');
  }

  private moduleLimits(): ModuleLimits {
    const o = this.opts;
    return {
      ...DEFAULT_MODULE_LIMITS,
      ...(o.moduleTimeoutMs === undefined ? {} : { moduleTimeoutMs: o.moduleTimeoutMs }),
      ...(o.moduleLoadTimeoutMs === undefined ? {} : { moduleLoadTimeoutMs: o.moduleLoadTimeoutMs }),
      ...(o.moduleMemoryMb === undefined ? {} : { moduleMemoryMb: o.moduleMemoryMb }),
      ...(o.moduleMaxRestarts === undefined ? {} : { moduleMaxRestarts: o.moduleMaxRestarts }),
      ...(o.moduleNice === undefined ? {} : { moduleNice: o.moduleNice }),
    };
  }

  /** The modules directory: the one configured (which must exist), else `<dataDir>/modules.d` if it exists. */
  private async modulesDir(): Promise<string | undefined> {
    const configured = this.opts.modulesDir;
    const dir = configured ?? join(this.opts.dataDir, 'modules.d');
    try {
      if ((await fs.stat(dir)).isDirectory()) return dir;
    } catch (err) {
      if (configured === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`modules directory ${dir}: ${(err as Error).message}`, { cause: err });
    }
    if (configured === undefined) return undefined;
    throw new Error(`modules directory ${dir} is not a directory`);
  }

  private health(): Health {
    // A backup is healthy too; `role` lets a load balancer or probe send writers to the primary.
    const c = this.cluster;
    return {
      status: this.state === 'running' ? 'ok' : this.state, revision: this.registry.revision, entries: this.registry.size,
      storage: this.store?.state === 'unavailable' ? 'unavailable' : 'writable',
      ...(c === undefined ? {} : { role: c.role, epoch: c.epoch, ...(c.primaryUrl === undefined ? {} : { primary: c.primaryUrl }) }),
    };
  }

  /** The /metrics page (Prometheus text format 0.0.4). */
  renderMetrics(): Promise<string> {
    return this.metrics.registry.metrics();
  }

  private fatal(err: unknown): void {
    if (this.state !== 'running') return;
    this.opts.logger.error('the write-ahead log failed; stopping so that a restart recovers from disk', { err });
    this.onFatal(err);
    void this.close();
  }

  /** Stops taking work, closes every connection, flushes the log. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.state = 'closing';
    this.clients.shutdown();
    this.loopDelay.close();
    this.straySweeper?.stop();
    this.liveness?.stop();
    this.restarter?.stop();
    this.checker?.stop();
    this.idle?.stop();
    this.cluster?.stop();
    this.memberRestarter?.stop();
    await this.dns?.close();
    // Peers that do not finish the close handshake promptly are cut off.
    await this.listener?.close(() => this.clients.terminateAll());
    await this.modules?.close();
    await this.store?.close();
    await this.committer?.close();
    this.state = 'closed';
  }
}

/**
 * The cluster's clock for heartbeats and timeouts: monotonic, so a wall-clock step (NTP, an
 * operator's date) cannot make a live member look silent and start a needless failover.
 */
function monotonicMs(): number {
  return 1 + performance.now();
}

/** Members of a cluster must share one nameserver.key (the agents trust it; members prove it to each other) and one admin.token. */
async function requireClusterFiles(dataDir: string): Promise<void> {
  for (const file of [KEY_FILE, ADMIN_TOKEN_FILE]) {
    try {
      await fs.access(join(dataDir, file));
    } catch {
      throw new Error(`backup mode needs the cluster's ${file} in ${dataDir}: run \`dpns-nameserver init --data-dir DIR\` once, then copy nameserver.key and admin.token (mode 0600) into every member's data directory`);
    }
  }
}

/** The address a launched service should dial: the listen address, or this host's name for a wildcard. */
function publicAddressFor(a: { host: string; port: number }): string {
  const host = a.host === '0.0.0.0' || a.host === '::' ? hostname() : a.host;
  return formatHostPort(host, a.port);
}

/** A change as anyone may see it: its entry's launch spec redacted. */
function publicChange(c: Change): Change {
  return c.entry === undefined ? c : { ...c, entry: publicEntry(c.entry) };
}
