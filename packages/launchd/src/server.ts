// The launch agent: one HTTP port that upgrades to WebSocket, one connection per operation,
// and the explicit life starting → running → closing → closed. Stopping the agent never stops
// the services it launched.
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { Admission } from './admission.js';
import { Allowlist } from './allowlist.js';
import type { AgentConfig } from './config.js';
import { AgentConnection } from './connection.js';
import { EpochStore } from './epoch.js';
import { HelloMaker } from './hello.js';
import { HostNames } from './host-names.js';
import { loadOrCreateIdentity, type Identity } from './identity.js';
import { kill } from './kill.js';
import { launch } from './launch.js';
import { hostLoad } from './load.js';
import { Ledger } from './ledger.js';
import type { Logger } from './log.js';
import { ReplayCache } from './replay.js';
import { VERSION } from './version.js';
import { AGENT_IDLE_MS, AGENT_MAX_FRAME_BYTES, type AgentReply, type AgentRequestBody, type BoxKeyPair } from './wire.js';
import { formatHostPort } from '@dpns/node-kit';

export interface LaunchAgentOptions extends AgentConfig {
  logger: Logger;
  /** For tests; defaults to AGENT_IDLE_MS. */
  idleMs?: number;
}

export type AgentState = 'starting' | 'running' | 'closing' | 'closed';

/** How long shutdown waits for requests in progress (a kill may be in its grace period). */
const SETTLE_MS = 15_000;

export class LaunchAgent {
  state: AgentState = 'starting';
  identity: Identity | undefined;
  ledger: Ledger | undefined;
  private http: HttpServer | undefined;
  private wss: WebSocketServer | undefined;
  private readonly conns = new Set<AgentConnection>();
  private closing: Promise<void> | undefined;
  private hellos: HelloMaker | undefined;

  constructor(readonly opts: LaunchAgentOptions) {}

  get address(): { host: string; port: number } {
    const a = this.http?.address() as AddressInfo | null | undefined;
    return { host: this.opts.host, port: a?.port ?? this.opts.port };
  }

  get url(): string {
    const { host, port } = this.address;
    return `ws://${formatHostPort(host, port)}`;
  }

  async start(): Promise<void> {
    if (this.state !== 'starting') throw new Error(`cannot start an agent that is ${this.state}`);
    const log = this.opts.logger;
    await mkdir(this.opts.stateDir, { recursive: true, mode: 0o700 });
    this.identity = await loadOrCreateIdentity(this.opts.stateDir, log);
    const ledger = await Ledger.open(this.opts.stateDir);
    this.ledger = ledger;
    const epochs = await EpochStore.open(this.opts.stateDir);
    const names = new HostNames(this.opts.hostNames, this.opts.host);
    const admission = new Admission({
      trustedKeys: this.opts.trustedKeys, windowMs: this.opts.windowMs, replay: new ReplayCache(this.opts.windowMs), epochs,
      identity: this.identity.key.publicKey, isOwnHost: (name) => names.has(name),
    });
    const allowlist = new Allowlist(this.opts.allow);
    if (this.opts.allow.length === 0) log.warn('the allowlist is empty, so every launch will be refused; add programs to "allow" in the config');

    const handle = async (body: AgentRequestBody, conn: { box: BoxKeyPair; remote: string }): Promise<AgentReply> => {
      await ledger.prune();
      const reqLog = log.child({ remote: conn.remote, op: body.op });
      switch (body.op) {
        case 'launch':
          return launch(body, {
            allowlist, ledger, policy: { users: this.opts.users, defaultUser: this.opts.defaultUser }, logsDir: this.opts.logsDir,
            log: reqLog, boxSecretKey: conn.box.secretKey, host: body.target,
          });
        case 'kill':
          return kill(body, { ledger, defaultGraceMs: this.opts.killGraceMs, log: reqLog });
        case 'status':
          return { type: 'reply', ok: true, entries: ledger.entries() };
        case 'load':
          return hostLoad(ledger);
        default: {
          const never: never = body;
          throw new Error(`unhandled operation ${JSON.stringify(never)}`);
        }
      }
    };

    const identity = this.identity;
    const hellos = new HelloMaker(identity.key, hostname(), VERSION);
    this.hellos = hellos;
    this.http = createServer((req, res) => this.onHttp(req, res));
    // Frames between the protocol limit and this hard cap get a precise BAD_REQUEST reply;
    // beyond it ws drops the connection before the frame is buffered.
    this.wss = new WebSocketServer({ server: this.http, maxPayload: AGENT_MAX_FRAME_BYTES * 4, perMessageDeflate: false, clientTracking: false });
    this.wss.on('connection', (ws, req) => this.onConnection(ws, req, {
      hellos, admission, handle, log,
      idleMs: this.opts.idleMs ?? AGENT_IDLE_MS, maxFrameBytes: AGENT_MAX_FRAME_BYTES,
    }));
    this.wss.on('error', (err) => log.error('websocket server error', { err }));
    await new Promise<void>((resolve, reject) => {
      const http = this.http as HttpServer;
      http.once('error', reject);
      http.listen(this.opts.port, this.opts.host, () => {
        http.off('error', reject);
        http.on('error', (err) => log.error('http server error', { err }));
        resolve();
      });
    });
    this.state = 'running';
    log.info('listening', {
      url: this.url, identity: identity.key.publicKey, stateDir: this.opts.stateDir, trustedKeys: this.opts.trustedKeys.length,
      allowed: this.opts.allow.length, tracked: ledger.entries().length,
    });
  }

  private onConnection(ws: WebSocket, req: IncomingMessage, opts: ConstructorParameters<typeof AgentConnection>[2]): void {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    if (this.state !== 'running') {
      ws.on('error', () => undefined);
      ws.close(1013, 'agent is shutting down');
      return;
    }
    const conn = new AgentConnection(ws, remote, opts);
    this.conns.add(conn);
    ws.on('close', () => this.conns.delete(conn));
    conn.start();
  }

  private onHttp(_req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end('dpns-launchd: the dpns name server speaks to this agent over WebSocket\n');
  }

  /** Stops taking requests, answers those in progress, closes. Launched services keep running. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.state = 'closing';
    this.hellos?.stop();
    const httpClosed = new Promise<void>((resolve) => {
      if (this.http === undefined || !this.http.listening) return resolve();
      this.http.close(() => resolve());
    });
    for (const c of this.conns) c.shutdown();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.conns].map((c) => c.settled())),
      new Promise((r) => (timer = setTimeout(r, SETTLE_MS))),
    ]);
    clearTimeout(timer);
    for (const c of this.conns) c.shutdown();
    // Replies just sent get a moment to be read before the sockets are cut.
    setTimeout(() => {
      for (const c of this.conns) c.ws.terminate();
    }, 500).unref();
    this.wss?.close();
    await httpClosed;
    await this.ledger?.close();
    this.state = 'closed';
  }
}
