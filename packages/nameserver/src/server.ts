// The name server: one HTTP port that upgrades to WebSocket, a registry recovered from disk,
// and the explicit life starting → running → closing → closed.
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { PROTOCOL_VERSION, formatHostPort, publicEntry, type HelloParams } from '@dpns/protocol';
import { ADMIN_TOKEN_FILE, loadOrCreateAdminToken } from './admin-token.js';
import { Committer } from './committer.js';
import { Connection, type ServerCloseReason } from './connection.js';
import { corkPerRead } from './cork.js';
import { Heartbeat } from './heartbeat.js';
import { LoopDelay } from './loop-delay.js';
import { RateLimitedLog } from './rate-limited-log.js';
import {
  AddressCounts, capTotalBuffered, HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, MAX_TOTAL_BUFFERED_BYTES, MAX_TOTAL_PARTIAL_BYTES, PartialBytes, PendingSockets,
} from './socket-guard.js';
import { DEFAULT_QUOTAS, Liveness } from './liveness.js';
import { renderCounterValue, renderGauge, ServerMetrics } from './metrics.js';
import type { Logger } from './log.js';
import { isLogRecord } from './registry/ops.js';
import { Registry, type RegistrySnapshot } from './registry/registry.js';
import { RpcDispatcher } from './rpc.js';
import { Store } from './storage/store.js';
import { Launcher } from './launch/launcher.js';
import { AgentTrust } from './launch/agent-trust.js';
import { DEFAULT_MODULE_LIMITS, type ModuleLimits } from './modules/limits.js';
import { ModuleManager } from './modules/manager.js';
import { Restarter } from './launch/restarter.js';
import { loadOrCreateNameServerKey } from './nameserver-key.js';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DEFAULT_MAX_WATCHES_PER_ADDRESS, MAX_SCANNED_PATTERNS, MAX_SCANNED_PATTERNS_PER_CONNECTION, WatchHub } from './watch-hub.js';
import { VERSION } from './version.js';
import { serveWebAsset } from './web/assets.js';
import { standalone, type ClusterConfig } from './cluster/cluster-config.js';
import { ClusterNode } from './cluster/cluster-node.js';
import { refusalFor } from './cluster/gate.js';
import { LogTail } from './cluster/log-tail.js';
import { MemberRestarter, type MemberRestartSpec } from './cluster/member-restart.js';
import { deriveClusterKey, PEER_PATH } from './cluster/peer-link.js';
import { Replica } from './cluster/replica.js';
import { snapshotJson } from './registry/snapshot-json.js';
import { AdminPrefixes } from './registry/admin-prefixes.js';
import { DEFAULT_RESERVATION_MS } from './registry/reservation.js';
import { DEFAULT_LOST_EXPIRY_MS, DEFAULT_MAX_LOST_ENTRIES } from './registry/stray-expiry.js';
import { StraySweeper } from './stray-sweeper.js';
import type { Change } from './registry/ops.js';
import { KEY_FILE } from './nameserver-key.js';
import { OriginPolicy } from './origin-policy.js';

export interface NameServerOptions {
  host: string;
  port: number;
  dataDir: string;
  /** Interval of the liveness pings; a dead peer is noticed within two. */
  heartbeatMs: number;
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

export type ServerState = 'starting' | 'running' | 'closing' | 'closed';

export class NameServer {
  state: ServerState = 'starting';
  readonly registry = new Registry();
  private readonly hub: WatchHub;
  private readonly conns = new Set<Connection>();
  /** Requests, latency and launches, for GET /metrics. */
  readonly metrics = new ServerMetrics();
  private readonly heartbeat: Heartbeat;
  private http: HttpServer | undefined;
  private wss: WebSocketServer | undefined;
  private store: Store | undefined;
  private liveness: Liveness | undefined;
  private launcher: Launcher | undefined;
  private restarter: Restarter | undefined;
  private modules: ModuleManager | undefined;
  private committer: Committer | undefined;
  /** This server's place in the cluster (a cluster of one when stand-alone). */
  cluster: ClusterNode | undefined;
  private memberRestarter: MemberRestarter | undefined;
  private nextConnId = 1;
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
  /** Sockets still plain HTTP (slowloris is cut here), connections per address, and the total output held for slow readers. */
  private readonly pendingSockets = new PendingSockets();
  private readonly partial = new PartialBytes<Connection>();
  private readonly perAddress: AddressCounts;
  private readonly bufferSweep: NodeJS.Timeout;
  private straySweeper: StraySweeper | undefined;
  /** Lines about connections the server closed: one per close, at most a few a second. */
  private readonly rateLog: RateLimitedLog;

  constructor(readonly opts: NameServerOptions) {
    this.rateLog = new RateLimitedLog(opts.logger, 10);
    this.perAddress = new AddressCounts(opts.maxConnectionsPerAddress);
    this.hub = new WatchHub({
      perConnection: MAX_SCANNED_PATTERNS_PER_CONNECTION, total: MAX_SCANNED_PATTERNS, perAddress: opts.maxWatchesPerAddress ?? DEFAULT_MAX_WATCHES_PER_ADDRESS,
    });
    this.bufferSweep = setInterval(() => {
      const cut = capTotalBuffered(this.conns);
      if (cut > 0) this.rateLog.warn('cut the largest output queues: all queues together were over the limit', { cut, limitBytes: MAX_TOTAL_BUFFERED_BYTES });
    }, 1000);
    this.bufferSweep.unref();
    this.heartbeat = new Heartbeat(opts.heartbeatMs, {
      onLateRound: (stalledMs) => this.rateLog.warn('heartbeat round skipped: this server was busy, so no peer is judged on it', {
        stalledMs: Math.round(stalledMs), loopDelayMaxMs: Math.round(this.loopDelay.currentMaxMs()),
      }),
    });
  }

  get address(): { host: string; port: number } {
    const a = this.http?.address() as AddressInfo | null | undefined;
    return { host: this.opts.host, port: a?.port ?? this.opts.port };
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
      dir: this.opts.dataDir, logger: log,
      // Advertisers that went while writes were refused are marked lost now.
      onAvailability: (writable) => {
        if (writable) this.liveness?.reconcile(Date.now()).catch(() => undefined);
      },
    });
    this.store = store;
    if (recovered.snapshot !== undefined) this.registry.load(recovered.snapshot.state as RegistrySnapshot);
    const tail = new LogTail(LOG_TAIL_RECORDS, this.registry.revision, this.registry.epoch);
    for (const rec of recovered.records) {
      if (!isLogRecord(rec.data)) throw new Error(`log record ${rec.index} is not a registry change; the data directory belongs to something else`);
      this.registry.applyRecord(rec.data, rec.index);
      tail.push(rec.index, rec.data);
    }
    log.info('registry recovered', {
      entries: this.registry.size, revision: this.registry.revision, snapshot: recovered.snapshot?.index ?? 0,
      replayed: recovered.records.length, ms: Date.now() - started,
      ...(recovered.droppedTail ? { droppedTail: recovered.droppedTail } : {}),
    });

    const cluster: ClusterNode = new ClusterNode(clusterCfg, {
      dataDir: this.opts.dataDir, key: deriveClusterKey(key.secretKey), log, now: monotonicMs, tail,
      sink: new Replica({
        dataDir: this.opts.dataDir, log, registry: this.registry, tail,
        store: () => this.store,
        setStore: (s) => {
          this.store = s;
          if (this.committer !== undefined && s !== undefined) this.committer.store = s;
        },
        committer: () => this.committer,
        // Watchers here saw a history that no longer holds: they reconnect and start over.
        dropClients: (why) => {
          this.closeAll(4002, why, 'history_changed');
        },
        fatal: (err) => this.fatal(err),
      }),
      snapshotJson: async () => {
        const snap = this.registry.snapshot();
        return { index: snap.revision, json: await snapshotJson(snap) };
      },
      onPrimary: (epoch) => this.becamePrimary(epoch),
      onStepDown: (why) => this.steppedDown(why),
      onTakeover: (previous) => restarts?.restart(previous),
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
    });
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
    this.launcher = launcher;
    const restarter = new Restarter(this.registry, launcher, log);
    this.restarter = restarter;
    const expiryMs = this.opts.lostExpiryMs ?? DEFAULT_LOST_EXPIRY_MS;
    const sweeper = new StraySweeper(this.registry, commit, expiryMs, log, (n) => this.metrics.expired.inc({}, n), this.opts.maxLostEntries ?? DEFAULT_MAX_LOST_ENTRIES);
    this.straySweeper = sweeper;
    liveness.onLost = (name) => {
      restarter.lost(name);
      sweeper.kick();
    };
    launcher.onStopped = (name) => restarter.cancel(name);
    const afterDurable = committer.afterDurable.bind(committer);
    const modules = new ModuleManager({
      registry: this.registry, dataDir: this.opts.dataDir, limits: this.moduleLimits(), log, afterDurable, now: Date.now,
    });
    this.modules = modules;
    // Modules answer anyone, so they see launch specs as anyone would: redacted.
    committer.onDurable = (changes, revision) => modules.publish(changes.map(publicChange), revision);
    const rpc = new RpcDispatcher({
      registry: this.registry, hub: this.hub, liveness, commit, launcher, trust, modules, afterDurable, adminToken: this.adminToken,
      maxWatchesPerConnection: this.opts.maxWatchesPerConnection, maxAdvertisementsPerConnection: this.opts.maxAdvertisementsPerConnection, log, rateLog: this.rateLog, metrics: this.metrics, now: Date.now,
      advertisePolicy: { adminPrefixes: new AdminPrefixes(this.opts.adminPrefixes ?? []) },
      gate: (method, params) => refusalFor(method, params, cluster),
      servers: () => cluster.serversResult(),
    }, this.opts.maxFrameBytes);
    // Modules load before the port opens, so the first client can already call them.
    const modulesDir = await this.modulesDir();
    if (modulesDir !== undefined) {
      await modules.loadDir(modulesDir);
      log.info('modules directory loaded', { dir: modulesDir, modules: modules.list().map((m) => `${m.prefix ?? m.path}:${m.state}`) });
    }

    this.http = createServer({
      headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 2 * HEADERS_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      // Timeouts are enforced by a sweep; the default (30 s) would let a slowloris socket live three times as long.
      connectionsCheckingInterval: 1000,
    }, (req, res) => this.onHttp(req, res));
    this.http.on('connection', (s: Socket) => this.pendingSockets.accepted(s));
    this.http.on('upgrade', (_req: IncomingMessage, s: Socket) => this.pendingSockets.upgraded(s));
    // The hard cap protects memory; frames between the soft limit and it get a JSON-RPC error.
    const hardCap = Math.max(this.opts.maxFrameBytes * 4, this.opts.maxFrameBytes + 65536);
    const origins = new OriginPolicy(this.opts.allowedOrigins);
    this.wss = new WebSocketServer({
      server: this.http, maxPayload: hardCap, perMessageDeflate: false, clientTracking: false,
      // The protocol has no subprotocol (PROTOCOL.md §2.1): none is echoed, whatever is offered.
      handleProtocols: () => false,
      // Refused before the upgrade completes: a page of another origin never gets a hello.
      verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => {
        const why = origins.refusal(info.req);
        if (why === undefined) return done(true);
        log.warn('websocket upgrade refused', { origin: info.req.headers.origin, remote: `${info.req.socket.remoteAddress ?? '?'}:${info.req.socket.remotePort ?? '?'}`, why });
        done(false, 403, `dpns name server: ${why}\n`, { 'Content-Type': 'text/plain; charset=utf-8' });
      },
    });
    this.wss.on('connection', (ws, req) => {
      if (req.url?.startsWith(`${PEER_PATH}?`) === true) cluster.acceptPeer(ws, req);
      else this.onConnection(ws, req, rpc);
    });
    this.wss.on('error', (err) => log.error('websocket server error', { err }));
    await new Promise<void>((resolve, reject) => {
      const http = this.http as HttpServer;
      http.once('error', reject);
      http.listen(this.opts.port, this.opts.host, () => {
        http.off('error', reject);
        // Out of descriptors, accept fails on every try: logged at a bounded rate, and the server stays up.
        http.on('error', (err) => this.rateLog.error('http server error', { err }));
        resolve();
      });
    });
    // Launched services are told where to find us (every member: they follow the primary); known only now that the port is bound.
    if (clusterCfg.members.length === 1) clusterCfg.members[0] = this.opts.publicAddress ?? publicAddressFor(this.address);
    launcher.setServers(clusterCfg.members);
    this.heartbeat.start();
    this.state = 'running';
    // A cluster of one is primary when this returns; members of a larger one elect or find theirs shortly.
    await cluster.start();
    log.info('listening', { url: this.url, dataDir: this.opts.dataDir });
  }

  /** Took over as primary of `epoch`: mark the epoch in the log, and give every advertiser a fresh grace period. */
  private async becamePrimary(epoch: number): Promise<void> {
    const log = this.opts.logger;
    // Records from earlier epochs in our log may not be committed yet: reads wait for this
    // epoch's first record to commit, which commits them all.
    this.committer?.holdReads();
    this.restarter?.resume();
    // The epoch's first record: once it is committed, everything before it is too.
    await this.committer?.commitRecord({ ops: [] }).catch((err: unknown) => log.warn('could not commit the new epoch\'s first record', { epoch, err }));
    // Remaining time is not replicated: every advertisement gets the whole grace period again,
    // so a failover neither expires services at once nor keeps a dead one past one grace period.
    const waiting = this.liveness?.startGrace(this.opts.graceMs, Date.now) ?? 0;
    if (waiting > 0) log.info('advertisers have a grace period to reconnect', { services: waiting, graceMs: this.opts.graceMs });
  }

  /** No longer primary: stop acting on the registry, and send clients off to find the new primary. */
  private steppedDown(why: string): void {
    this.liveness?.stop();
    this.restarter?.stop();
    this.committer?.resetDurable(this.registry.revision);
    this.closeAll(4001, `this server is no longer the primary (${why.slice(0, 60)})`, 'not_primary');
  }

  private moduleLimits(): ModuleLimits {
    const o = this.opts;
    return {
      ...DEFAULT_MODULE_LIMITS,
      ...(o.moduleTimeoutMs === undefined ? {} : { callTimeoutMs: o.moduleTimeoutMs }),
      ...(o.moduleLoadTimeoutMs === undefined ? {} : { loadTimeoutMs: o.moduleLoadTimeoutMs }),
      ...(o.moduleMemoryMb === undefined ? {} : { maxOldGenerationMb: o.moduleMemoryMb }),
      ...(o.moduleMaxRestarts === undefined ? {} : { maxRestarts: o.moduleMaxRestarts }),
      ...(o.moduleNice === undefined ? {} : { nice: o.moduleNice }),
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

  private onConnection(ws: WebSocket, req: IncomingMessage, rpc: RpcDispatcher): void {
    const log = this.opts.logger;
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const addr = req.socket.remoteAddress ?? '?';
    if (this.state === 'running' && this.conns.size < this.opts.maxConnections && !this.perAddress.take(addr)) {
      ws.on('error', () => undefined);
      this.metrics.closes.inc({ reason: 'too_many_from_address' });
      this.rateLog.warn('connection refused: --max-connections-per-address reached', { remote, max: this.opts.maxConnectionsPerAddress });
      ws.close(1013, 'too many connections from your address; try again later');
      return;
    }
    if (this.state !== 'running' || this.conns.size >= this.opts.maxConnections) {
      ws.on('error', () => undefined);
      if (this.state === 'running') {
        this.metrics.closes.inc({ reason: 'too_many' });
        this.rateLog.warn('connection refused: --max-connections reached', { remote, max: this.opts.maxConnections });
      }
      ws.close(1013, this.state !== 'running' ? 'server is shutting down' : 'too many connections; try again later');
      return;
    }
    const conn = new Connection(this.nextConnId++, ws, remote);
    this.conns.add(conn);
    this.heartbeat.add(conn);
    ws.on('error', (err) => {
      conn.endReason = `connection error: ${err.message}`;
      log.debug('connection error', { conn: conn.id, err: err.message });
    });
    ws.on('pong', () => this.heartbeat.alive(conn));
    // Any bytes count: a pong can sit behind the rest of a large message the server is still reading.
    req.socket.on('data', (chunk: Buffer) => {
      this.heartbeat.alive(conn);
      const worst = this.partial.received(conn, chunk.length);
      if (worst !== undefined) {
        this.partial.done(worst);
        worst.cutForUnfinishedInput();
        this.rateLog.warn('cut the connection holding the most unfinished input: all unfinished messages together were over the limit', { conn: worst.id, remote: worst.remote, limitBytes: MAX_TOTAL_PARTIAL_BYTES });
      }
    });
    // Frames that arrived in one read are answered in one write (cork.ts).
    const batchRead = corkPerRead(ws);
    ws.on('message', (data: Buffer, isBinary) => {
      this.heartbeat.alive(conn);
      this.partial.done(conn);
      batchRead();
      rpc.onFrame(conn, data, isBinary);
    });
    ws.on('close', () => {
      this.perAddress.release(addr);
      this.partial.done(conn);
      this.onClose(conn);
    });
    const hello: HelloParams = {
      server: 'dpns', version: VERSION, protocol: PROTOCOL_VERSION, nonce: conn.nonce,
      heartbeatMs: this.opts.heartbeatMs, maxFrameBytes: this.opts.maxFrameBytes, revision: this.registry.revision,
      ...(this.cluster === undefined ? {} : { cluster: this.cluster.hello() }),
    };
    conn.send({ jsonrpc: '2.0', method: 'hello', params: hello });
  }

  /** Ends every client connection for one reason (a role change), with one log line for all. */
  private closeAll(code: number, why: string, reason: ServerCloseReason): void {
    if (this.conns.size === 0) return;
    this.opts.logger.info('closing every client connection', { count: this.conns.size, reason, why });
    for (const c of this.conns) {
      this.metrics.closes.inc({ reason });
      c.ws.close(code, why);
    }
  }

  private onClose(conn: Connection): void {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    this.conns.delete(conn);
    this.heartbeat.remove(conn);
    if (conn.closedBy !== undefined) {
      this.metrics.closes.inc({ reason: conn.closedBy });
      this.rateLog.info('closed a connection', { conn: conn.id, remote: conn.remote, reason: conn.closedBy, why: conn.endReason, advertised: conn.advertised.size, queuedBytes: conn.queuedAtClose });
    }
    conn.dropAsked();
    for (const id of conn.watches) this.hub.remove(id, conn);
    conn.watches.clear();
    // On our own shutdown the advertisers are not gone: they come back within the grace period.
    if (this.state === 'running' && conn.advertised.size > 0) {
      this.liveness?.connectionEnded(conn, Date.now()).catch(() => undefined);
    }
  }

  private onHttp(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === '/healthz') {
      const ok = this.state === 'running';
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      // A backup is healthy too; `role` lets a load balancer or probe send writers to the primary.
      const c = this.cluster;
      res.end(JSON.stringify({
        status: ok ? 'ok' : this.state, revision: this.registry.revision, entries: this.registry.size,
        storage: this.store?.state === 'unavailable' ? 'unavailable' : 'writable',
        ...(c === undefined ? {} : { role: c.role, epoch: c.epoch, ...(c.primaryUrl === undefined ? {} : { primary: c.primaryUrl }) }),
      }));
      return;
    }
    if (req.url?.split('?')[0] === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : this.renderMetrics());
      return;
    }
    if (serveWebAsset(req, res)) return;
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end('dpns name server: speak JSON-RPC 2.0 over WebSocket here (see docs/PROTOCOL.md)\n');
  }

  /** The /metrics page. */
  renderMetrics(): string {
    const kinds = this.registry.countByKind();
    const moduleStates = new Map<string, number>();
    for (const m of this.modules?.list() ?? []) moduleStates.set(m.state, (moduleStates.get(m.state) ?? 0) + 1);
    return [
      this.metrics.requests.render(),
      this.metrics.duration.render(),
      renderGauge('dpns_registry_entries', 'Entries in the registry, by kind.', [
        { labels: { kind: 'service' }, value: kinds.service }, { labels: { kind: 'alias' }, value: kinds.alias },
      ]),
      renderGauge('dpns_registry_revision', 'Revision of the last applied registry change.', [{ value: this.registry.revision }]),
      renderGauge('dpns_connections', 'Open client connections.', [{ value: this.conns.size }]),
      renderGauge('dpns_unfinished_input_bytes', 'Bytes of client messages still arriving, over all connections.', [{ value: this.partial.bytes }]),
      renderGauge('dpns_http_pending_sockets', 'Accepted sockets that are still plain HTTP (not yet a WebSocket).', [{ value: this.pendingSockets.size }]),
      renderCounterValue('dpns_http_sockets_cut_total', 'Plain HTTP sockets cut because too many were open at once (the oldest goes first).', this.pendingSockets.cut),
      renderGauge('dpns_watches', 'Open watches over all connections.', [{ value: this.hub.size }]),
      renderGauge('dpns_watch_patterns_scanned', 'Distinct watched patterns tried one by one on every change (neither a name nor PREFIX*).', [{ value: this.hub.scannedPatterns }]),
      this.metrics.launches.render(),
      this.metrics.closes.render(),
      this.metrics.limits.render(),
      this.metrics.loginFailures.render(),
      this.metrics.expired.render(),
      renderGauge('dpns_event_loop_delay_seconds', 'How late the event loop ran over the last 10 to 20 s, by quantile (1 = the largest).', (() => {
        const w = this.loopDelay.window();
        return [{ labels: { quantile: '0.5' }, value: w.p50Ms / 1000 }, { labels: { quantile: '0.99' }, value: w.p99Ms / 1000 }, { labels: { quantile: '1' }, value: w.maxMs / 1000 }];
      })()),
      renderCounterValue('dpns_heartbeat_late_rounds_total', 'Heartbeat rounds that judged no peer because this server itself was late.', this.heartbeat.lateRounds),
      renderCounterValue('dpns_wal_fsyncs_total', 'fsync calls made by the write-ahead log.', this.store?.stats.fsyncs ?? 0),
      renderGauge('dpns_storage_writable', 'Whether the write-ahead log takes writes (0 while a disk or descriptor fault makes writes be refused with STORAGE_UNAVAILABLE).', [{
        value: this.store?.state === 'open' ? 1 : 0,
      }]),
      renderCounterValue('dpns_storage_faults_total', 'Times a write-ahead log write or open failed and writes were refused until a probe write succeeded.', this.store?.stats.faults ?? 0),
      renderGauge('dpns_modules', 'External modules, by state.', [...moduleStates].map(([state, value]) => ({ labels: { state }, value }))),
      ...this.clusterMetrics(),
    ].join('');
  }

  private clusterMetrics(): string[] {
    const c = this.cluster;
    if (c === undefined) return [];
    return [
      renderGauge('dpns_cluster_role', 'This server\'s role in the cluster (1 for the current one).', (['primary', 'backup', 'candidate'] as const).map((role) => ({
        labels: { role }, value: c.role === role ? 1 : 0,
      }))),
      renderGauge('dpns_cluster_epoch', 'The newest epoch this server knows of.', [{ value: c.epoch }]),
      renderGauge('dpns_cluster_members_connected', 'Members this server hears from, itself included.', [{ value: c.status().filter((s) => s.connected).length }]),
      renderGauge('dpns_replication_lag_records', 'Records each backup is behind this primary.', [...c.lagBySid()].map(([sid, value]) => ({ labels: { sid: String(sid) }, value }))),
      renderCounterValue('dpns_failovers_total', 'Times this server took over from a failed or deposed primary.', c.takeovers),
      renderCounterValue('dpns_replication_dropped_total', 'Backups dropped from the star for not acknowledging in time.', c.dropped),
    ];
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
    this.heartbeat.stop();
    this.loopDelay.close();
    clearInterval(this.bufferSweep);
    this.straySweeper?.stop();
    this.liveness?.stop();
    this.restarter?.stop();
    this.cluster?.stop();
    this.memberRestarter?.stop();
    for (const c of this.conns) c.ws.close(1001, 'name server shutting down');
    await new Promise<void>((resolve) => {
      if (this.http === undefined) return resolve();
      this.http.close(() => resolve());
      // Peers that do not finish the close handshake promptly are cut off.
      setTimeout(() => {
        for (const c of this.conns) c.ws.terminate();
      }, 500).unref();
    });
    this.wss?.close();
    await this.modules?.close();
    await this.store?.close();
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
