// A bare JSON-RPC connection over `ws` with nothing of the client library in between: it sends
// the exact frames a test gives it and keeps every frame the server sends, so a test can wait
// for an answer by id, a batch's answer, a notification or a request from the server.
import WebSocket from 'ws';
import { isObject } from './doc-examples.js';

/** A frame the server sent, parsed (a JSON object or array). */
export type Frame = Record<string, unknown> | unknown[];

export class RawConnection {
  /** Frames received and not yet taken by `next`, in arrival order. */
  private readonly inbox: Frame[] = [];
  private readonly waiters = new Set<() => void>();
  private closed: { code: number; reason: string } | undefined;

  private constructor(private readonly ws: WebSocket, readonly hello: Record<string, unknown>) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      try {
        this.inbox.push(JSON.parse(String(data)) as Frame);
      } catch {
        return;
      }
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.wake();
    });
    ws.on('error', () => undefined);
  }

  /** Connects and waits for the server's first frame, which must be its `hello`. */
  static open(url: string, timeoutMs = 5000): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
      const timer = setTimeout(() => fail(new Error(`${url}: no hello within ${timeoutMs} ms`)), timeoutMs);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(e);
      };
      ws.on('error', (e) => fail(new Error(`${url}: ${e.message}`)));
      ws.on('close', (code) => fail(new Error(`${url} closed (${code}) before its hello`)));
      ws.once('message', (data) => {
        clearTimeout(timer);
        ws.removeAllListeners();
        let hello: unknown;
        try {
          hello = JSON.parse(String(data));
        } catch {
          hello = undefined;
        }
        if (!isObject(hello) || hello.method !== 'hello') {
          ws.terminate();
          reject(new Error(`${url}: expected a hello first, got ${String(data).slice(0, 200)}`));
          return;
        }
        resolve(new RawConnection(ws, hello));
      });
    });
  }

  /** The hello's nonce, which login, identify and ticket proofs are made over. */
  get nonce(): string {
    const params = this.hello.params;
    return isObject(params) && typeof params.nonce === 'string' ? params.nonce : '';
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  /** Sends one frame: text as given, a Buffer as a binary frame, anything else as JSON text. */
  send(frame: unknown): void {
    if (Buffer.isBuffer(frame)) this.ws.send(frame, { binary: true });
    else this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Takes the first frame (already received or still to come) that `match` accepts. */
  async next(match: (f: Frame) => boolean, timeoutMs = 10_000, what = 'a frame'): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex(match);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Frame;
      if (this.closed !== undefined) throw new Error(`connection closed (${this.closed.code} ${this.closed.reason}) while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; unclaimed frames: ${JSON.stringify(this.inbox).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(done);
      });
    }
  }

  /** The answer whose id is `id` (a response: no `method`). */
  answer(id: unknown, timeoutMs?: number): Promise<Record<string, unknown>> {
    return this.next((f) => isObject(f) && !('method' in f) && Object.is(f.id, id), timeoutMs, `the answer to id ${JSON.stringify(id)}`) as Promise<Record<string, unknown>>;
  }

  /** The next batch answer (an array). */
  batchAnswer(timeoutMs?: number): Promise<unknown[]> {
    return this.next((f) => Array.isArray(f), timeoutMs, 'a batch answer') as Promise<unknown[]>;
  }

  /** The next notification or server request of `method` that `match` accepts. */
  message(method: string, match: (params: Record<string, unknown>) => boolean = () => true, timeoutMs?: number): Promise<Record<string, unknown>> {
    return this.next(
      (f) => isObject(f) && f.method === method && isObject(f.params) && match(f.params),
      timeoutMs, `a ${method} frame`,
    ) as Promise<Record<string, unknown>>;
  }

  /** Sends a request and returns its answer. */
  async request(id: unknown, method: string, params?: unknown, timeoutMs?: number): Promise<Record<string, unknown>> {
    this.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    return this.answer(id, timeoutMs);
  }

  /** Waits until the server has closed the connection; returns the close code. */
  async closedByServer(timeoutMs = 10_000): Promise<number> {
    await this.next(() => false, timeoutMs, 'the close').catch(() => undefined);
    if (this.closed === undefined) throw new Error(`the server did not close the connection within ${timeoutMs} ms`);
    return this.closed.code;
  }

  /** Closes the connection (a normal close); resolves once it is closed. Safe to call twice. */
  close(): Promise<void> {
    if (this.closed !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 2000);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close();
    });
  }

  private wake(): void {
    const all = [...this.waiters];
    this.waiters.clear();
    for (const w of all) w();
  }
}
