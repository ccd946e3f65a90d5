// The name server's one port: an HTTP server with slowloris timeouts whose upgrades become
// WebSockets, refused before the handshake for a foreign browser origin, and split between
// cluster peers (PEER_PATH) and clients.
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { PEER_PATH } from './cluster/peer-link.js';
import type { Logger } from './log.js';
import { OriginPolicy } from './origin-policy.js';
import type { RateLimitedLog } from './rate-limited-log.js';
import { HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, type PendingSockets } from './socket-guard.js';

export interface ListenerOptions {
  host: string;
  port: number;
  maxFrameBytes: number;
  allowedOrigins?: readonly string[];
  logger: Logger;
  rateLog: RateLimitedLog;
  pendingSockets: PendingSockets;
  onHttp(req: IncomingMessage, res: ServerResponse): void;
  onPeer(ws: WebSocket, req: IncomingMessage): void;
  onClient(ws: WebSocket, req: IncomingMessage): void;
}

export class Listener {
  private constructor(readonly http: HttpServer, private readonly wss: WebSocketServer) {}

  /** Binds the port; rejects with the listen error (EADDRINUSE, EACCES). */
  static async open(o: ListenerOptions): Promise<Listener> {
    const http = createServer({
      headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: 2 * HEADERS_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      // Timeouts are enforced by a sweep; the default (30 s) would let a slowloris socket live three times as long.
      connectionsCheckingInterval: 1000,
    }, o.onHttp);
    http.on('connection', (s: Socket) => o.pendingSockets.accepted(s));
    http.on('upgrade', (_req: IncomingMessage, s: Socket) => o.pendingSockets.upgraded(s));
    // The hard cap protects memory; frames between the soft limit and it get a JSON-RPC error.
    const hardCap = Math.max(o.maxFrameBytes * 4, o.maxFrameBytes + 65536);
    const origins = new OriginPolicy(o.allowedOrigins);
    const wss = new WebSocketServer({
      server: http, maxPayload: hardCap, perMessageDeflate: false, clientTracking: false,
      // The protocol has no subprotocol (PROTOCOL.md §2.1): none is echoed, whatever is offered.
      handleProtocols: () => false,
      // Refused before the upgrade completes: a page of another origin never gets a hello.
      verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => {
        const why = origins.refusal(info.req);
        if (why === undefined) return done(true);
        o.logger.warn('websocket upgrade refused', { origin: info.req.headers.origin, remote: `${info.req.socket.remoteAddress ?? '?'}:${info.req.socket.remotePort ?? '?'}`, why });
        done(false, 403, `dpns name server: ${why}\n`, { 'Content-Type': 'text/plain; charset=utf-8' });
      },
    });
    wss.on('connection', (ws, req) => {
      if (req.url?.startsWith(`${PEER_PATH}?`) === true) o.onPeer(ws, req);
      else o.onClient(ws, req);
    });
    wss.on('error', (err) => o.logger.error('websocket server error', { err }));
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(o.port, o.host, () => {
          http.off('error', reject);
          // Out of descriptors, accept fails on every try: logged at a bounded rate, and the server stays up.
          http.on('error', (err) => o.rateLog.error('http server error', { err }));
          resolve();
        });
      });
    } catch (err) {
      wss.close();
      throw err;
    }
    return new Listener(http, wss);
  }

  /** The bound port (the one asked for, or the one picked for port 0). */
  get port(): number {
    const a = this.http.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  /**
   * Stops accepting and resolves once the HTTP server has closed; `cutStragglers` runs after
   * 500 ms to end peers that do not finish the close handshake promptly.
   */
  async close(cutStragglers: () => void): Promise<void> {
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      setTimeout(cutStragglers, 500).unref();
    });
    this.wss.close();
  }
}
