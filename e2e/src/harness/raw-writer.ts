// A writer that leans on nothing in the client library: given every server's URL it finds the
// primary itself (each hello names it, and so does a NOT_PRIMARY answer), logs in, and sends a
// write with one requestId again and again, after any failure, until a server acknowledges it.
// So the time a write waits across a failover is the servers' doing, not a library's backoff.
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { adminProof, type HelloParams, type WireError } from '@dpns/protocol';

/** What one attempt got: a result, an error answer from a server, or a failure on this side (`local`). */
export type Answer =
  | { ok: true; result: unknown }
  | { ok: false; code: string; message: string; primary?: string; local: boolean };

/** One JSON-RPC connection: the server's hello, requests matched by id, every pending one failed on close. */
export class RpcSession {
  private readonly pending = new Map<number, (a: Answer) => void>();
  private nextId = 1;
  private closedWhy: string | undefined;

  /** `ws` is exposed for tests that watch the socket itself (pings, the close code). */
  private constructor(readonly url: string, readonly ws: WebSocket, readonly hello: HelloParams) {
    ws.on('message', (data) => this.onFrame(String(data)));
    ws.on('close', (code, reason) => this.fail(`connection closed (${code}${reason.length > 0 ? `: ${String(reason)}` : ''})`));
    ws.on('error', (e) => this.fail(`connection error: ${e.message}`));
  }

  /**
   * Connects and waits for the hello; rejects on a refused connection or after `timeoutMs`.
   * `options` go to ws (e.g. `autoPong: false` for a peer that never answers a ping).
   */
  static open(url: string, timeoutMs = 2000, options: WebSocket.ClientOptions = {}): Promise<RpcSession> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs, ...options });
      const settle = (e: Error | undefined, s?: RpcSession): void => {
        clearTimeout(timer);
        ws.off('error', onError);
        ws.off('close', onClose);
        ws.off('message', onHello);
        if (e === undefined) resolve(s as RpcSession);
        else {
          // terminate() during the handshake emits 'error' on the next tick, with no listener left
          // for it: without this one, a connection that timed out would crash the process.
          ws.on('error', () => undefined);
          ws.terminate();
          reject(e);
        }
      };
      const onError = (e: Error): void => settle(new Error(`${url}: ${e.message}`));
      const onClose = (code: number): void => settle(new Error(`${url} closed the connection (${code}) before its hello`));
      const onHello = (data: WebSocket.RawData): void => {
        let msg: { method?: unknown; params?: HelloParams };
        try {
          msg = JSON.parse(String(data)) as typeof msg;
        } catch {
          msg = {};
        }
        if (msg.method !== 'hello' || msg.params === undefined) return settle(new Error(`${url}: expected a hello, got ${String(data).slice(0, 200)}`));
        settle(undefined, new RpcSession(url, ws, msg.params));
      };
      const timer = setTimeout(() => settle(new Error(`${url}: no hello within ${timeoutMs} ms`)), timeoutMs);
      ws.on('error', onError);
      ws.on('close', onClose);
      ws.on('message', onHello);
    });
  }

  get open(): boolean {
    return this.closedWhy === undefined;
  }

  /**
   * One request; never rejects: a lost connection or a timeout is a `local` answer. With
   * `timeoutMs` Infinity it waits as long as the connection lasts.
   */
  call(method: string, params: unknown, timeoutMs = 5000): Promise<Answer> {
    if (this.closedWhy !== undefined) return Promise.resolve(localAnswer('CONNECTION_LOST', this.closedWhy));
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => {
        this.pending.delete(id);
        resolve(localAnswer('TIMEOUT', `${method}: no answer from ${this.url} within ${timeoutMs} ms`));
      }, timeoutMs) : undefined;
      this.pending.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  /** Logs in as admin with the cluster's token; throws when refused. */
  async login(token: string): Promise<void> {
    const a = await this.call('login', { proof: adminProof(token, this.hello.nonce) });
    if (!a.ok) throw new Error(`login at ${this.url} refused: ${a.code} ${a.message}`);
  }

  /** Closes the socket at once; pending requests get a local answer. Safe to call twice. */
  close(): void {
    this.fail('closed by the writer');
    this.ws.terminate();
  }

  private onFrame(raw: string): void {
    let msg: { id?: unknown; result?: unknown; error?: WireError };
    try {
      msg = JSON.parse(raw) as typeof msg;
    } catch {
      return;
    }
    if (typeof msg.id !== 'number') return;
    const done = this.pending.get(msg.id);
    if (done === undefined) return;
    this.pending.delete(msg.id);
    if (msg.error === undefined) return done({ ok: true, result: msg.result });
    const data = msg.error.data;
    done({
      ok: false, code: typeof data?.code === 'string' ? data.code : String(msg.error.code), message: msg.error.message, local: false,
      ...(typeof data?.primary === 'string' ? { primary: data.primary } : {}),
    });
  }

  private fail(why: string): void {
    if (this.closedWhy !== undefined) return;
    this.closedWhy = why;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const done of all) done(localAnswer('CONNECTION_LOST', why));
  }
}

function localAnswer(code: 'CONNECTION_LOST' | 'TIMEOUT' | 'CONNECT_FAILED', message: string): Answer {
  return { ok: false, code, message, local: true };
}

/** Opens a connection to `url`, logs in when `token` is given, makes one call and closes. */
export async function rpcOnce(url: string, method: string, params: unknown, opts: { token?: string; timeoutMs?: number } = {}): Promise<Answer> {
  let s: RpcSession;
  try {
    s = await RpcSession.open(url, opts.timeoutMs ?? 2000);
  } catch (e) {
    return localAnswer('CONNECT_FAILED', (e as Error).message);
  }
  try {
    if (opts.token !== undefined) await s.login(opts.token);
    return await s.call(method, params, opts.timeoutMs ?? 5000);
  } catch (e) {
    return localAnswer('CONNECTION_LOST', (e as Error).message);
  } finally {
    s.close();
  }
}

/** Answers after which the same write is sent again (to the primary the answer names, or the next server). */
const RETRYABLE: ReadonlySet<string> = new Set(['NOT_PRIMARY', 'NO_QUORUM', 'UNAVAILABLE']);

export interface RawWriterOptions {
  /** Every server of the cluster as ws:// URLs. */
  urls: readonly string[];
  /** The cluster's admin token (writes such as register.add need it). */
  token: string;
  /** A request's answer may take this long before the write is sent again (default 1000 ms). */
  attemptTimeoutMs?: number;
  /** A connection's hello may take this long (default 300 ms): a host that is down or cut off drops the connect silently. */
  connectTimeoutMs?: number;
  /** Pause after a failed attempt, so a loop against a dead server does not spin. */
  retryDelayMs?: number;
  /** A write not acknowledged after this long is given up (outcome code GAVE_UP). */
  giveUpMs?: number;
}

/** How one logical write ended. */
export interface WriteOutcome {
  ok: boolean;
  result?: unknown;
  /** The final error code when not ok: a definite refusal (e.g. ALREADY_EXISTS) or GAVE_UP. */
  code?: string;
  message?: string;
  requestId: string;
  /** The server that gave the final answer. */
  url: string | undefined;
  attempts: number;
  /** The code of each failed attempt, in order (CONNECT_FAILED, CONNECTION_LOST, TIMEOUT are local). */
  failures: string[];
  /** performance.now() when the write was first sent, when the last attempt was sent, and when its final answer arrived. */
  startedAt: number;
  lastSentAt: number;
  answeredAt: number;
}

/** Sequential writes (one at a time) that follow the primary; run several for concurrency. */
export class RawWriter {
  private session: RpcSession | undefined;
  private target: string | undefined;
  private closed = false;
  private readonly attemptTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly giveUpMs: number;

  constructor(private readonly opts: RawWriterOptions) {
    if (opts.urls.length === 0) throw new Error('RawWriter: no server URLs');
    this.attemptTimeoutMs = opts.attemptTimeoutMs ?? 1000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 300;
    this.retryDelayMs = opts.retryDelayMs ?? 5;
    this.giveUpMs = opts.giveUpMs ?? 30_000;
  }

  /** Sends `method` with `params` plus `requestId`, again after every failure, until a definite answer. */
  async write(method: string, params: Record<string, unknown>, requestId = newRequestId()): Promise<WriteOutcome> {
    const startedAt = performance.now();
    const failures: string[] = [];
    let lastSentAt = startedAt;
    const end = (a: Answer, url: string | undefined): WriteOutcome => ({
      ok: a.ok, requestId, url, attempts: failures.length + 1, failures, startedAt, lastSentAt, answeredAt: performance.now(),
      ...(a.ok ? { result: a.result } : { code: a.code, message: a.message }),
    });
    for (;;) {
      if (this.closed) return end(localAnswer('CONNECTION_LOST', 'the writer was closed'), undefined);
      if (performance.now() - startedAt > this.giveUpMs) {
        return end({ ok: false, code: 'GAVE_UP', message: `no acknowledgement within ${this.giveUpMs} ms (${failures.join(', ')})`, local: true }, undefined);
      }
      const s = await this.connected();
      lastSentAt = performance.now();
      const a = s === undefined ? localAnswer('CONNECT_FAILED', 'no server answered') : await s.call(method, { ...params, requestId }, this.attemptTimeoutMs);
      if (a.ok || (!a.local && !RETRYABLE.has(a.code))) return end(a, s?.url);
      failures.push(a.code);
      this.moveOn(s, a);
      await delay(this.retryDelayMs);
    }
  }

  /** Closes the connection; a write in progress ends with a local failure. */
  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
  }

  /** The open session, or a new one to the primary: the one named last, else whichever server says it is. */
  private async connected(): Promise<RpcSession | undefined> {
    if (this.session?.open === true) return this.session;
    const target = this.target;
    this.target = undefined;
    const s = await openPrimary(this.opts.urls, target, this.opts.token, this.connectTimeoutMs);
    if (s !== undefined) this.session = s;
    return s;
  }

  /** After a failed attempt: drop the connection, and follow the primary the answer names, if any. */
  private moveOn(s: RpcSession | undefined, a: Answer & { ok: false }): void {
    if (s === undefined) return;
    if (a.code === 'NOT_PRIMARY' && a.primary !== undefined && a.primary !== s.url) this.target = a.primary;
    s.close();
    if (this.session === s) this.session = undefined;
  }
}

/**
 * A session to the primary, logged in as admin: the server `target` names if it says it is the
 * primary, else whichever of `urls` does; undefined when none does or the login is refused.
 * `options` go to ws (e.g. `localAddress`).
 */
export async function openPrimary(urls: readonly string[], target: string | undefined, token: string, connectTimeoutMs: number, options: WebSocket.ClientOptions = {}): Promise<RpcSession | undefined> {
  const s = (target === undefined ? undefined : await findPrimary([target], connectTimeoutMs, true, options)) ?? await findPrimary(urls, connectTimeoutMs, true, options);
  if (s === undefined) return undefined;
  try {
    await s.login(token);
  } catch {
    s.close();
    return undefined;
  }
  return s;
}

/**
 * Connects to every URL at once and keeps the first whose hello says it is the primary (a
 * server that is down or cut off costs no more than the fastest answer). When none says so,
 * one more try at the primary their hellos name.
 */
export async function findPrimary(urls: readonly string[], connectTimeoutMs: number, hop = true, options: WebSocket.ClientOptions = {}): Promise<RpcSession | undefined> {
  let winner: RpcSession | undefined;
  const named: string[] = [];
  await new Promise<void>((resolve) => {
    let left = urls.length;
    for (const url of urls) {
      RpcSession.open(url, connectTimeoutMs, options).then((s) => {
        const c = s.hello.cluster;
        if (winner === undefined && (c === undefined || c.role === 'primary')) {
          winner = s;
          resolve();
        } else {
          if (c?.primary !== undefined) named.push(c.primary);
          s.close();
        }
      }, () => undefined).finally(() => {
        if (--left === 0) resolve();
      });
    }
  });
  if (winner !== undefined || !hop) return winner;
  const next = named.find((u) => !urls.includes(u)) ?? (urls.length > 1 ? undefined : named[0]);
  return next === undefined ? undefined : findPrimary([next], connectTimeoutMs, false, options);
}

/** A fresh request id: random, printable, well under the 64-character limit. */
export function newRequestId(): string {
  return `rw-${randomBytes(9).toString('base64url')}`;
}

function delay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, ms));
}

/**
 * One write of `probeWrites`: when it was sent (milliseconds since the probe began) and, if an
 * answer came however late, what it was: `ok`, a refusal's code, or a local failure
 * (CONNECT_FAILED; CONNECTION_LOST when the connection ended with the write outstanding).
 * No `code`: still unanswered when the probe stopped.
 */
export interface ProbeWrite {
  name: string;
  sentMs: number;
  code?: string;
  answeredMs?: number;
  detail?: string;
}

export interface ProbeOptions {
  /** Send a write every `intervalMs` for this long. */
  durationMs: number;
  intervalMs: number;
  /** Each write registers a fresh name under this prefix. */
  prefix: string;
  host: string;
  /** Listen for answers until this settles; the writes still outstanding then got none. */
  until: Promise<unknown>;
  /** Told when the last write has been sent. */
  onSent?: () => void;
}

/**
 * Writes to ONE server only, once per `intervalMs` for `durationMs`, never retrying and never
 * following a primary: what a client stuck on that server's side of a partition gets. A write
 * is never given up on: it stays outstanding, with later writes sent beside it, until an answer
 * comes or its connection ends, so an acknowledgement that comes late is still seen. A new
 * connection is opened whenever the last one failed.
 */
export async function probeWrites(url: string, token: string, opts: ProbeOptions): Promise<ProbeWrite[]> {
  const t0 = performance.now();
  const since = (): number => Math.round(performance.now() - t0);
  const writes: ProbeWrite[] = [];
  const sessions: RpcSession[] = [];
  let s: RpcSession | undefined;
  for (let i = 0; performance.now() - t0 < opts.durationMs; i++) {
    const w: ProbeWrite = { name: `${opts.prefix}/p${i}`, sentMs: since() };
    writes.push(w);
    if (s?.open !== true) {
      s = undefined;
      let opened: RpcSession | undefined;
      try {
        opened = await RpcSession.open(url, 1000);
        await opened.login(token);
        s = opened;
        sessions.push(s);
      } catch (e) {
        opened?.close();
        Object.assign(w, { code: 'CONNECT_FAILED', answeredMs: since(), detail: (e as Error).message.slice(0, 120) });
      }
    }
    if (s !== undefined) {
      void s.call('register.add', { name: w.name, spec: { host: opts.host, program: 'echo' }, requestId: newRequestId() }, Infinity).then((a) => {
        Object.assign(w, { code: a.ok ? 'ok' : a.code, answeredMs: since() });
      });
    }
    await delay(opts.intervalMs);
  }
  opts.onSent?.();
  await opts.until;
  // What is outstanding now got no answer: keep that, before closing fails it on this side.
  const out = writes.map((w) => ({ ...w }));
  for (const x of sessions) x.close();
  return out;
}
