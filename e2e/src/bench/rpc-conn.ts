// A raw JSON-RPC 2.0 connection for the load generator: hand-built frames, many requests
// in flight, answers matched by id with a callback (no promise per request, so the
// generator costs as little as it can and the same for every system measured).
import WebSocket from 'ws';
import { adminProof, type HelloParams, type ResponseMessage } from '@dpns/protocol';

/** What a request's callback receives: the parsed response. */
export type ResponseHandler = (msg: ResponseMessage) => void;

/** A pipelined JSON-RPC client connection over one WebSocket. */
export class RpcConn {
  private readonly pending = new Map<number, ResponseHandler>();
  private nextId = 1;
  private closed = false;
  /** Called with every frame that is not the answer to a pending request (notifications). */
  onOther: ((msg: unknown, raw: string) => void) | undefined;

  private constructor(
    readonly ws: WebSocket,
    /** The server's `hello` (undefined for a server that sends none, like the echo server). */
    readonly hello: HelloParams | undefined,
  ) {
    ws.on('message', (data, isBinary) => this.onFrame(isBinary ? '' : String(data)));
    ws.on('close', () => this.failAll());
    ws.on('error', () => this.failAll());
  }

  /** Opens a connection; waits for the `hello` notification unless `expectHello` is false. */
  static open(url: string, opts: { expectHello?: boolean; timeoutMs?: number } = {}): Promise<RpcConn> {
    const expectHello = opts.expectHello ?? true;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`no ${expectHello ? 'hello' : 'open'} from ${url} within ${opts.timeoutMs ?? 10_000} ms`));
      }, opts.timeoutMs ?? 10_000);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        reject(e);
      };
      ws.once('error', fail);
      if (!expectHello) {
        ws.once('open', () => {
          clearTimeout(timer);
          ws.off('error', fail);
          resolve(new RpcConn(ws, undefined));
        });
        return;
      }
      ws.once('message', (data) => {
        clearTimeout(timer);
        ws.off('error', fail);
        const msg = JSON.parse(String(data)) as { method?: string; params?: HelloParams };
        if (msg.method !== 'hello' || msg.params === undefined) {
          ws.terminate();
          reject(new Error(`expected hello, got ${String(data).slice(0, 200)}`));
          return;
        }
        resolve(new RpcConn(ws, msg.params));
      });
    });
  }

  /** Sends one request; `onResponse` gets the answer. Returns the id used. */
  request(method: string, params: unknown, onResponse: ResponseHandler): number {
    const id = this.nextId++;
    if (this.closed) {
      // A macrotask, not a microtask: a loop that re-sends on every failure must not starve timers.
      setImmediate(() => onResponse(lostResponse(id)));
      return id;
    }
    this.pending.set(id, onResponse);
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return id;
  }

  /** Sends a prepared frame that carries `id`; for the echo server, which answers with the frame itself. */
  sendRaw(id: number, frame: string, onResponse: ResponseHandler): void {
    this.pending.set(id, onResponse);
    this.ws.send(frame);
  }

  /** A fresh id for `sendRaw`. */
  takeId(): number {
    return this.nextId++;
  }

  /** One request as a promise, for set-up steps. */
  call(method: string, params?: unknown): Promise<ResponseMessage> {
    return new Promise((resolve) => this.request(method, params, resolve));
  }

  /** One request whose error answer becomes a thrown Error. */
  async ok<R>(method: string, params?: unknown): Promise<R> {
    const res = await this.call(method, params);
    if ('error' in res) throw new Error(`${method} failed: ${res.error.data?.code ?? res.error.code} ${res.error.message}`);
    return res.result as R;
  }

  /** Logs in as admin with the server's token. */
  async login(token: string): Promise<void> {
    if (this.hello === undefined) throw new Error('login needs a server hello');
    await this.ok('login', { proof: adminProof(token, this.hello.nonce) });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Closes the socket; pending requests are answered with a local error. */
  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 2_000);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close();
    });
  }

  private onFrame(raw: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    const id = (msg as { id?: unknown }).id;
    if (typeof id === 'number') {
      const handler = this.pending.get(id);
      if (handler !== undefined) {
        this.pending.delete(id);
        handler(msg as ResponseMessage);
        return;
      }
    }
    this.onOther?.(msg, raw);
  }

  private failAll(): void {
    this.closed = true;
    const handlers = [...this.pending];
    this.pending.clear();
    for (const [id, h] of handlers) h(lostResponse(id));
  }
}

function lostResponse(id: number): ResponseMessage {
  return { jsonrpc: '2.0', id, error: { code: -32603, message: 'connection lost', data: { code: 'INTERNAL', local: true } } };
}

/** Opens `n` connections in parallel. */
export function openMany(url: string, n: number, opts?: { expectHello?: boolean }): Promise<RpcConn[]> {
  return Promise.all(Array.from({ length: n }, () => RpcConn.open(url, opts)));
}
