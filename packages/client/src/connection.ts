// One WebSocket to one name server: dial, wait for `hello`, then carry text frames until it
// closes. Reconnecting, requests and sessions are the client's business, not this file's.
import WebSocket, { type ClientOptions as WsOptions, type RawData } from 'ws';
import { DpnsError, PROTOCOL_VERSION, type HelloParams } from '@dpns/protocol';
import type { Endpoint } from './endpoints.js';
import { parseFrame, type Incoming } from './frames.js';
import { Heartbeat } from './heartbeat.js';
import { dialReason } from './local-errors.js';

export type ConnectionState = 'opening' | 'open' | 'closed';

export interface ConnectionHandlers {
  /** A parsed frame other than `hello`. */
  message(conn: Connection, msg: Incoming): void;
  /** Called once when an open connection ends, whatever the cause. */
  closed(conn: Connection, reason: DpnsError): void;
  /** An open connection's server has not answered a ping, or a request with anything at all: called at each heartbeat check until it does or the connection ends. */
  silent?(conn: Connection): void;
}

export interface DialOptions {
  /** Covers TCP connect, the WebSocket handshake and the wait for `hello`. */
  connectTimeoutMs: number;
  ws: WsOptions;
  /** Aborts a dial in progress (the client is closing). */
  signal?: AbortSignal;
}

export class Connection {
  #state: ConnectionState = 'opening';
  #hello: HelloParams | undefined;
  #heartbeat: Heartbeat | undefined;
  #closing: Promise<void> | undefined;
  /** Why we ended the connection ourselves, reported instead of the bare close code. */
  #dropReason: string | undefined;
  #ended: () => void = () => undefined;
  /** Resolves once the connection has closed, whatever the cause. */
  readonly ended = new Promise<void>((resolve) => (this.#ended = resolve));
  /**
   * Called when the server says its place in the cluster changed (a `cluster` notification,
   * PROTOCOL.md §19.6), after `hello.cluster` has been brought up to date.
   */
  onCluster: ((conn: Connection) => void) | undefined;

  private constructor(
    readonly endpoint: Endpoint,
    private readonly ws: WebSocket,
    private readonly handlers: ConnectionHandlers,
  ) {}

  get state(): ConnectionState {
    return this.#state;
  }

  /** The server's greeting: nonce, heartbeat, frame limit. Set once open. */
  get hello(): HelloParams {
    if (this.#hello === undefined) throw new Error('Connection.hello read before the connection opened');
    return this.#hello;
  }

  /**
   * Dials `endpoint` and resolves once the server's `hello` has arrived. Rejects with
   * CONNECTION_LOST whose message is the short reason ("ECONNREFUSED", "timeout", ...).
   */
  static open(endpoint: Endpoint, opts: DialOptions, handlers: ConnectionHandlers): Promise<Connection> {
    const ws = new WebSocket(endpoint.url, { perMessageDeflate: false, ...opts.ws, handshakeTimeout: opts.connectTimeoutMs });
    const conn = new Connection(endpoint, ws, handlers);
    return new Promise<Connection>((resolve, reject) => {
      let settled = false;
      const fail = (reason: string, cause?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        conn.#state = 'closed';
        conn.#ended();
        ws.terminate();
        reject(new DpnsError('CONNECTION_LOST', reason, { cause }));
      };
      const timer = setTimeout(() => fail('timeout'), opts.connectTimeoutMs);
      const onAbort = (): void => fail('the client closed');
      if (opts.signal?.aborted === true) onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      // Every socket gets an 'error' listener: ws re-emits socket errors and would crash without one.
      ws.on('error', (err) => {
        if (!settled) fail(dialReason(err), err);
      });
      ws.on('close', (code) => {
        if (!settled) fail(`closed before hello (code ${code})`);
        else conn.#onClose(code);
      });
      ws.on('pong', () => conn.#heartbeat?.heard());
      ws.on('message', (data: RawData, isBinary: boolean) => {
        conn.#heartbeat?.heard();
        if (isBinary) {
          if (!settled) fail('the server sent a binary frame');
          else conn.#drop('the server sent a binary frame');
          return;
        }
        let msg: Incoming;
        try {
          msg = parseFrame(rawText(data));
        } catch (err) {
          if (!settled) fail(err instanceof Error ? err.message : String(err), err);
          else conn.#drop(err instanceof Error ? err.message : String(err));
          return;
        }
        if (settled) {
          if (msg.kind === 'cluster' && conn.#hello !== undefined) {
            conn.#hello = { ...conn.#hello, cluster: msg.params };
            conn.onCluster?.(conn);
          }
          conn.handlers.message(conn, msg);
          return;
        }
        if (msg.kind !== 'hello') {
          fail(`the server's first frame was not hello`);
          return;
        }
        if (msg.params.protocol !== PROTOCOL_VERSION) {
          fail(`the server speaks protocol ${msg.params.protocol}, this client ${PROTOCOL_VERSION}`);
          return;
        }
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        conn.#hello = msg.params;
        conn.#state = 'open';
        conn.#heartbeat = new Heartbeat(ws, msg.params.heartbeatMs, () => conn.#drop('went silent (no heartbeat)'), () => conn.handlers.silent?.(conn));
        conn.#heartbeat.start();
        resolve(conn);
      });
    });
  }

  /**
   * Sends one frame; throws CONNECTION_LOST when the socket is no longer open. `request`: the
   * frame expects an answer, so a server that then says nothing at all is soon suspected (Heartbeat).
   */
  send(frame: string, request = false): void {
    if (this.#state !== 'open' || this.ws.readyState !== WebSocket.OPEN) {
      throw new DpnsError('CONNECTION_LOST', `connection to ${this.endpoint.label} is not open`);
    }
    this.ws.send(frame);
    if (request) this.#heartbeat?.sent();
  }

  /** Closes politely (a close frame), and forcibly if the server does not answer within 1 s. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#heartbeat?.stop();
    if (this.ws.readyState === WebSocket.CLOSED) {
      this.#closing = Promise.resolve();
      return this.#closing;
    }
    this.#closing = new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.ws.terminate(), 1000);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.ws.close(1000, 'client closing');
    return this.#closing;
  }

  /** Whether the server has left a ping, or a request, unanswered (see Heartbeat.silent). */
  get silent(): boolean {
    return this.#heartbeat?.silent ?? false;
  }

  /** Ends the connection at once for `reason` (the client found a better server); `closed` follows. */
  abandon(reason: string): void {
    this.#drop(reason);
  }

  /** Ends a connection that misbehaved or went silent; `closed` follows from the 'close' event. */
  #drop(reason: string): void {
    this.#dropReason ??= reason;
    this.ws.terminate();
  }

  #onClose(code: number): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#ended();
    this.#heartbeat?.stop();
    const why = this.#dropReason ?? `closed (code ${code})`;
    this.handlers.closed(this, new DpnsError('CONNECTION_LOST', `connection to ${this.endpoint.label} ${why}`));
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
