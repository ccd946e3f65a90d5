// One WebSocket to the name server, speaking JSON-RPC 2.0 as docs/PROTOCOL.md describes: waits
// for `hello`, numbers requests, matches answers, and hands notifications on. It never
// reconnects itself; session.ts does that with a fresh RpcConnection.
import type { HelloParams, MethodName, Params, Result, WatchEventParams } from './protocol.js';

/** An error answer from the server, or a local failure of the connection. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  /** The wire code's name (UNAUTHORIZED, NOT_PRIMARY, …) or a local one (CONNECTION_LOST, TIMEOUT). */
  readonly code: string;
  /** The JSON-RPC `error.data`, less `code`. */
  readonly data: Record<string, unknown>;

  constructor(code: string, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

/** Notifications the page listens to. */
export interface RpcHandlers {
  onWatchEvent(ev: WatchEventParams): void;
  /** The socket closed (or never opened); every pending call has been rejected. */
  onClose(reason: string): void;
}

type ConnState = 'connecting' | 'open' | 'closed';

interface Pending {
  resolve(v: unknown): void;
  reject(e: RpcError): void;
  timer: number;
}

/** How long a call may wait for its answer; a launch waits for the service to advertise. */
const CALL_TIMEOUT_MS = 120_000;

export class RpcConnection {
  private state: ConnState = 'connecting';
  private readonly ws: WebSocket;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Resolves with the server's `hello`, the first frame on every connection. */
  readonly hello: Promise<HelloParams>;
  private helloSettle: { resolve(h: HelloParams): void; reject(e: RpcError): void } | undefined;

  constructor(url: string, private readonly handlers: RpcHandlers) {
    this.hello = new Promise<HelloParams>((resolve, reject) => {
      this.helloSettle = { resolve, reject };
    });
    // A failed connection rejects `hello`; the session awaits it, so this only silences the
    // browser's "unhandled rejection" for callers that never asked.
    this.hello.catch(() => undefined);
    this.ws = new WebSocket(url);
    this.ws.onmessage = (m) => this.onMessage(m.data);
    this.ws.onclose = (ev) => this.closed(`connection closed (${ev.code}${ev.reason === '' ? '' : `: ${ev.reason}`})`);
    // 'error' is always followed by 'close', which does the work.
    this.ws.onerror = () => undefined;
  }

  /** Calls `method` and resolves with its result, or rejects with an RpcError. */
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    if (this.state !== 'open') return Promise.reject(new RpcError('CONNECTION_LOST', 'not connected to the name server'));
    const id = this.nextId++;
    return new Promise<Result<M>>((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.pending.delete(id);
        reject(new RpcError('TIMEOUT', `${method}: no answer within ${CALL_TIMEOUT_MS / 1000} s`));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** Closes the socket; safe to call twice. */
  close(): void {
    if (this.state === 'closed') return;
    this.ws.close(1000);
    this.closed('closed by the page');
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    if (typeof m.method === 'string') {
      if (m.method === 'hello' && this.state === 'connecting') {
        this.state = 'open';
        this.helloSettle?.resolve(m.params as HelloParams);
      } else if (m.method === 'watch.event') {
        this.handlers.onWatchEvent(m.params as WatchEventParams);
      }
      // ticket.pair and ticket.challenge are for launched services, never for this page.
      return;
    }
    if (typeof m.id !== 'number') return;
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    window.clearTimeout(p.timer);
    if (m.error !== undefined) p.reject(toRpcError(m.error));
    else p.resolve(m.result);
  }

  private closed(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.helloSettle?.reject(new RpcError('CONNECTION_LOST', reason));
    for (const p of this.pending.values()) {
      window.clearTimeout(p.timer);
      p.reject(new RpcError('CONNECTION_LOST', `${reason}; the answer may be lost`));
    }
    this.pending.clear();
    this.handlers.onClose(reason);
  }
}

function toRpcError(raw: unknown): RpcError {
  const e = (typeof raw === 'object' && raw !== null ? raw : {}) as { code?: unknown; message?: unknown; data?: unknown };
  const data = { ...(typeof e.data === 'object' && e.data !== null ? (e.data as Record<string, unknown>) : {}) };
  const code = typeof data.code === 'string' ? data.code : `ERROR ${String(e.code)}`;
  delete data.code;
  return new RpcError(code, typeof e.message === 'string' ? e.message : 'error without a message', data);
}
