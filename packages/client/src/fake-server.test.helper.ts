// A scripted name server for the cases a real one will not produce on demand: silence,
// a drop in the middle of a request, a malformed answer, a backup that names its primary.
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { randomHex, type ClusterHello } from '@dpns/protocol';

export interface FakeRequest {
  id: number | string;
  method: string;
  params: Record<string, unknown>;
}

/** One accepted connection, numbered from 1. */
export interface FakeConn {
  n: number;
  ws: WebSocket;
  /** The nonce this connection's hello carried. */
  nonce: string;
  reply(id: number | string, result: unknown): void;
  fail(id: number | string, code: number, dataCode: string, message: string): void;
  notify(method: string, params: unknown): void;
  /** Sends a server→client request; resolves with the client's whole answer (result or error). */
  request(method: string, params: unknown): Promise<FakeAnswer>;
  drop(): void;
}

/** The client's answer to a server request. */
export interface FakeAnswer {
  id: string;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: { code: string } };
}

export type FakeHandler = (req: FakeRequest, conn: FakeConn) => void;

export class FakeServer {
  readonly requests: (FakeRequest & { conn: number })[] = [];
  /** Sent in the hello of every later connection; undefined is a server from before backup mode. */
  cluster: ClusterHello | undefined;
  /** False: later connections are accepted but never greeted, as by a frozen (SIGSTOPped) server. */
  greets = true;
  /** Awaited before connection `n` is greeted (the hello carries `cluster` as it is then). */
  beforeHello: ((n: number) => Promise<void>) | undefined;
  readonly #closed = new Map<number, { promise: Promise<void>; resolve: () => void }>();
  #connections = 0;
  readonly #sockets = new Set<WebSocket>();

  private constructor(private readonly wss: WebSocketServer, public handler: FakeHandler) {
    wss.on('connection', (ws) => this.#accept(ws));
  }

  static start(handler: FakeHandler = () => undefined): Promise<FakeServer> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      wss.once('error', reject);
      wss.once('listening', () => resolve(new FakeServer(wss, handler)));
    });
  }

  get server(): string {
    return `127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  /** "ws://127.0.0.1:PORT", as a cluster hello names its members. */
  get url(): string {
    return `ws://${this.server}`;
  }

  get connections(): number {
    return this.#connections;
  }

  /** Method names received on connection `n`. */
  methodsOn(n: number): string[] {
    return this.requests.filter((r) => r.conn === n).map((r) => r.method);
  }

  /** Resolves once connection `n` (made or still to come) has closed. */
  closed(n: number): Promise<void> {
    return this.#closedEntry(n).promise;
  }

  #closedEntry(n: number): { promise: Promise<void>; resolve: () => void } {
    let e = this.#closed.get(n);
    if (e === undefined) {
      let resolve: () => void = () => undefined;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      e = { promise, resolve };
      this.#closed.set(n, e);
    }
    return e;
  }

  /** Sends a notification on every open connection (a real server's `cluster` notification goes to all). */
  notifyAll(method: string, params: unknown): void {
    for (const ws of this.#sockets) if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  /** Cuts every open connection, as a crashed server would. */
  dropAll(): void {
    for (const ws of this.#sockets) ws.terminate();
  }

  async close(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  #accept(ws: WebSocket): void {
    const n = ++this.#connections;
    this.#sockets.add(ws);
    ws.on('close', () => {
      this.#sockets.delete(ws);
      this.#closedEntry(n).resolve();
    });
    ws.on('error', () => undefined);
    const send = (v: unknown): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(v));
    };
    const answers = new Map<string, (a: FakeAnswer) => void>();
    let nextId = 1;
    const nonce = randomHex(32);
    const conn: FakeConn = {
      n,
      ws,
      nonce,
      reply: (id, result) => send({ jsonrpc: '2.0', id, result }),
      fail: (id, code, dataCode, message) => send({ jsonrpc: '2.0', id, error: { code, message, data: { code: dataCode } } }),
      notify: (method, params) => send({ jsonrpc: '2.0', method, params }),
      request: (method, params) => new Promise((resolve) => {
        const id = `s${nextId++}`;
        answers.set(id, resolve);
        send({ jsonrpc: '2.0', id, method, params });
      }),
      drop: () => ws.terminate(),
    };
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as Partial<FakeRequest> & FakeAnswer;
      if (msg.method === undefined) {
        // An answer to one of our requests.
        answers.get(msg.id)?.(msg);
        answers.delete(msg.id);
        return;
      }
      const req = msg as FakeRequest;
      this.requests.push({ ...req, conn: n });
      this.handler(req, conn);
    });
    if (!this.greets) return;
    const hook = this.beforeHello;
    const greet = (): void => send(this.#hello(nonce));
    if (hook === undefined) greet();
    else void hook(n).then(greet);
  }

  #hello(nonce: string): unknown {
    return {
      jsonrpc: '2.0', method: 'hello',
      params: {
        server: 'dpns', version: 'fake', protocol: 1, nonce, heartbeatMs: 1000, maxFrameBytes: 1 << 20, revision: 0,
        ...(this.cluster === undefined ? {} : { cluster: this.cluster }),
      },
    };
  }
}
