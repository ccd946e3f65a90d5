// The name server's client connections: who is let in (the server running, under
// --max-connections and the per-address cap), the greeting, the heartbeat on each, the input
// and output bounds shared by all of them, and what is undone when one ends.
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { PROTOCOL_VERSION, type HelloParams } from '@dpns/protocol';
import { corkPerRead } from './cork.js';
import { Connection, type ServerCloseReason } from './connection.js';
import { Heartbeat } from './heartbeat.js';
import type { Logger } from './log.js';
import type { LoopDelay } from './loop-delay.js';
import type { ServerMetrics } from './metrics.js';
import type { RateLimitedLog } from './rate-limited-log.js';
import type { RpcDispatcher } from './rpc.js';
import { AddressCounts, capTotalBuffered, MAX_TOTAL_BUFFERED_BYTES, MAX_TOTAL_PARTIAL_BYTES, PartialBytes } from './socket-guard.js';
import { VERSION } from './version.js';
import type { WatchHub } from './watch-hub.js';

export interface ClientConnectionsOptions {
  heartbeatMs: number;
  maxFrameBytes: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  logger: Logger;
  rateLog: RateLimitedLog;
  metrics: ServerMetrics;
  hub: WatchHub;
  loopDelay: LoopDelay;
  /** Whether new connections are taken (the server is running). */
  accepting(): boolean;
  /** The hello's fields that describe the server now (revision, cluster). */
  hello(): Pick<HelloParams, 'revision' | 'cluster'>;
  /** A connection that kept advertisements alive ended while the server runs. */
  advertiserGone(conn: Connection): void;
}

export class ClientConnections {
  private readonly conns = new Set<Connection>();
  readonly heartbeat: Heartbeat;
  /** Bytes of messages still arriving, over all connections. */
  readonly partial = new PartialBytes<Connection>();
  private readonly perAddress: AddressCounts;
  private readonly bufferSweep: NodeJS.Timeout;
  /** When held watch events last started a sweep (performance.now()). */
  private heldSweptAt = -Infinity;
  private nextConnId = 1;

  constructor(private readonly o: ClientConnectionsOptions) {
    this.perAddress = new AddressCounts(o.maxConnectionsPerAddress);
    this.bufferSweep = setInterval(() => this.capBuffered(), 1000);
    this.bufferSweep.unref();
    // Watch events pile up between sweeps faster than sockets fill (a flood of writes to many
    // watchers): once those held alone pass the total limit, the largest queues are cut at once,
    // not up to a second later (at most every SWEEP_AFTER_HELD_MS, as a sweep visits every
    // connection). Sockets fill only from those events and answers, so the second's sweep covers the sum.
    o.hub.onHeld = (total) => {
      if (total <= MAX_TOTAL_BUFFERED_BYTES) return;
      const now = performance.now();
      if (now - this.heldSweptAt < SWEEP_AFTER_HELD_MS) return;
      this.heldSweptAt = now;
      this.capBuffered();
    };
    this.heartbeat = new Heartbeat(o.heartbeatMs, {
      onLateRound: (stalledMs) => o.rateLog.warn('heartbeat round skipped: this server was busy, so no peer is judged on it', {
        stalledMs: Math.round(stalledMs), loopDelayMaxMs: Math.round(o.loopDelay.currentMaxMs()),
      }),
    });
  }

  get size(): number {
    return this.conns.size;
  }

  /** Cuts the largest output queues while all together are over MAX_TOTAL_BUFFERED_BYTES. */
  private capBuffered(): void {
    const cut = capTotalBuffered(this.conns);
    if (cut > 0) this.o.rateLog.warn('cut the largest output queues: all queues together were over the limit', { cut, limitBytes: MAX_TOTAL_BUFFERED_BYTES });
  }

  /** Starts judging peers by their pongs; called once the port is open. */
  startHeartbeat(): void {
    this.heartbeat.start();
  }

  /** A WebSocket that is not a cluster peer: let in and greeted, or closed 1013 with the reason. */
  accept(ws: WebSocket, req: IncomingMessage, rpc: RpcDispatcher): void {
    const { o } = this;
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const addr = req.socket.remoteAddress ?? '?';
    const running = o.accepting();
    if (running && this.conns.size < o.maxConnections && !this.perAddress.take(addr)) {
      ws.on('error', () => undefined);
      o.metrics.closes.inc({ reason: 'too_many_from_address' });
      o.rateLog.warn('connection refused: --max-connections-per-address reached', { remote, max: o.maxConnectionsPerAddress });
      ws.close(1013, 'too many connections from your address; try again later');
      return;
    }
    if (!running || this.conns.size >= o.maxConnections) {
      ws.on('error', () => undefined);
      if (running) {
        o.metrics.closes.inc({ reason: 'too_many' });
        o.rateLog.warn('connection refused: --max-connections reached', { remote, max: o.maxConnections });
      }
      ws.close(1013, running ? 'too many connections; try again later' : 'server is shutting down');
      return;
    }
    const conn = new Connection(this.nextConnId++, ws, remote);
    this.conns.add(conn);
    this.heartbeat.add(conn);
    ws.on('error', (err) => {
      conn.endReason = `connection error: ${err.message}`;
      o.logger.debug('connection error', { conn: conn.id, err: err.message });
    });
    ws.on('pong', () => this.heartbeat.alive(conn));
    // Any bytes count: a pong can sit behind the rest of a large message the server is still reading.
    req.socket.on('data', (chunk: Buffer) => {
      this.heartbeat.alive(conn);
      const worst = this.partial.received(conn, chunk.length);
      if (worst !== undefined) {
        this.partial.done(worst);
        worst.cutForUnfinishedInput();
        o.rateLog.warn('cut the connection holding the most unfinished input: all unfinished messages together were over the limit', { conn: worst.id, remote: worst.remote, limitBytes: MAX_TOTAL_PARTIAL_BYTES });
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
      this.ended(conn);
    });
    const hello: HelloParams = {
      server: 'dpns', version: VERSION, protocol: PROTOCOL_VERSION, nonce: conn.nonce,
      heartbeatMs: o.heartbeatMs, maxFrameBytes: o.maxFrameBytes, ...o.hello(),
    };
    conn.send({ jsonrpc: '2.0', method: 'hello', params: hello });
  }

  /** Sends one notification to every open client connection (serialised once). */
  broadcast(method: string, params: unknown): void {
    if (this.conns.size === 0) return;
    const frame = JSON.stringify({ jsonrpc: '2.0', method, params });
    for (const c of this.conns) c.sendRaw(frame);
  }

  /** Ends every client connection for one reason (a role change), with one log line for all. */
  closeAll(code: number, why: string, reason: ServerCloseReason): void {
    if (this.conns.size === 0) return;
    this.o.logger.info('closing every client connection', { count: this.conns.size, reason, why });
    for (const c of this.conns) {
      this.o.metrics.closes.inc({ reason });
      c.ws.close(code, why);
    }
  }

  /** Shutdown: no more heartbeats or sweeps, every peer asked to close (1001). */
  shutdown(): void {
    this.heartbeat.stop();
    clearInterval(this.bufferSweep);
    this.o.hub.onHeld = undefined;
    for (const c of this.conns) c.ws.close(1001, 'name server shutting down');
  }

  /** Cuts the peers that did not finish the close handshake. */
  terminateAll(): void {
    for (const c of this.conns) c.ws.terminate();
  }

  private ended(conn: Connection): void {
    const { o } = this;
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    this.conns.delete(conn);
    this.heartbeat.remove(conn);
    if (conn.closedBy !== undefined) {
      o.metrics.closes.inc({ reason: conn.closedBy });
      o.rateLog.info('closed a connection', { conn: conn.id, remote: conn.remote, reason: conn.closedBy, why: conn.endReason, advertised: conn.advertised.size, queuedBytes: conn.queuedAtClose });
    }
    conn.dropAsked();
    for (const id of conn.watches) o.hub.remove(id, conn);
    conn.watches.clear();
    // On our own shutdown the advertisers are not gone: they come back within the grace period.
    if (o.accepting() && conn.advertised.size > 0) o.advertiserGone(conn);
  }
}

/** Sweeps started by held watch events are this far apart at least: each visits every connection. */
const SWEEP_AFTER_HELD_MS = 100;
