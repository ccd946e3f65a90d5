// One module's child process, seen from the name server: spawned in its sandbox (sandbox.ts),
// loaded (source, manifest, registry snapshot in slices, store, init), then called, fed changes
// and pinged. Every way it can end — a call past its time limit, no answer to a ping, the memory
// limit, an uncaught exception, process.exit, a frame it should not have sent — ends in one
// place, `fail`, which answers whatever was waiting and kills the process.
// The name server never waits on the child: everything here is a message or a timer. What the
// child sends is untrusted (its module can write any bytes to its pipe): frames are bounded,
// every message is narrowed (wire.ts), and one that does not fit what was asked is refused.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import type { Duplex } from 'node:stream';
import { DpnsError, type EntryView, type ModuleFailureCause, type ModuleMethodInfo } from '@dpns/protocol';
import type { Logger } from '../log.js';
import { TokenBucket } from '../rate-limit.js';
import { encodeFrame, FrameError, FrameReader, type Frame } from './frames.js';
import type { ModuleLimits } from './limits.js';
import { Outbox } from './outbox.js';
import { childCommand } from './sandbox.js';
import { ModuleStore } from './store.js';
import { parseFromChild, type ChangeBatch, type FromChild, type ModuleCaller, type ToChild } from './wire.js';

/** Why a child ended, as the module's lastError shows it. */
export interface ChildFailure {
  cause: ModuleFailureCause;
  message: string;
}

export interface Manifest {
  prefix: string;
  version: string;
  methods: ModuleMethodInfo[];
}

/** What the host asks of the name server around it. */
export interface ChildHostHooks {
  /** A running child failed; it is already stopped. Not called after `stop()`, nor while loading. */
  failed(f: ChildFailure): void;
  /** A query from the module; the answer (or a DpnsError) goes back to it. */
  query(method: string, params: unknown): Promise<unknown>;
  log: Logger;
}

export type HostState = 'spawning' | 'loading' | 'ready' | 'stopping' | 'gone';

interface PendingCall {
  resolve(json: string): void;
  reject(err: DpnsError): void;
  timer: NodeJS.Timeout;
}

/** Registry entries per snapshot message: small enough that encoding one is a short pause for the name server. */
const SNAPSHOT_SLICE = 2000;
/** A module file larger than this is refused before a process is spent on it. */
const MAX_SOURCE_BYTES = 8 * 1024 * 1024;
/** Room in a frame beside its largest payload (an answer or a stored value) for the header. */
const FRAME_HEADROOM = 64 * 1024;
/** Refused messages after which a child is taken for hostile and stopped. */
const MAX_REFUSED = 16;
/** What V8 prints when a heap limit ends the process. */
const OOM_TEXT = /heap out of memory|Reached heap limit/;

export class ChildHost {
  state: HostState = 'spawning';
  /** Messages from the child that were refused (malformed, or not matching anything asked). */
  refused = 0;
  private readonly child: ChildProcess | undefined;
  private readonly channel: Duplex | undefined;
  private readonly reader: FrameReader;
  private readonly calls = new Map<number, PendingCall>();
  private nextCall = 1;
  private queriesInFlight = 0;
  private loadTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingSeq = 0;
  private pongSeq = 0;
  private readonly logBucket = new TokenBucket(200, 6000);
  private label: string;
  /** Settles the load: the manifest first, then ready (or the failure that ended it). */
  private waiter: { resolve(v: unknown): void; reject(f: DpnsError): void } | undefined;
  private exited = false;
  private readonly exitWaiters: (() => void)[] = [];
  private readonly outbox = new Outbox<{ m: ToChild; payload?: string }>((batch) => this.send(batch));
  /** What ended the child, for a load step asked for after it had already died. */
  private failure: ChildFailure | undefined;
  private store: ModuleStore | undefined;
  private oom = false;

  constructor(readonly path: string, private readonly limits: ModuleLimits, private readonly hooks: ChildHostHooks) {
    this.label = path;
    this.reader = new FrameReader(Math.max(limits.maxResultBytes, limits.maxStoreBytes) + FRAME_HEADROOM);
    // Import, snapshot and init together; a module that hangs at load is stopped.
    this.loadTimer = setTimeout(() => this.fail({ cause: 'TIMEOUT', message: `it did not load within ${limits.moduleLoadTimeoutMs} ms` }), limits.moduleLoadTimeoutMs);
    let child: ChildProcess;
    try {
      const cmd = childCommand(limits);
      child = spawn(cmd.command, cmd.args, cmd.options);
    } catch (err) {
      this.exited = true;
      queueMicrotask(() => this.fail({ cause: 'LOAD_FAILED', message: err instanceof Error ? err.message : String(err) }));
      return;
    }
    this.child = child;
    this.channel = child.stdio[3] as Duplex;
    child.on('error', (err) => this.fail({ cause: 'CRASHED', message: `its process could not run: ${err.message}` }));
    // 'close', not 'exit': by then stderr has been read to its end, and with it V8's out-of-memory line.
    child.on('close', (code, signal) => {
      this.exited = true;
      for (const w of this.exitWaiters.splice(0)) w();
      if (this.oom) this.fail({ cause: 'OUT_OF_MEMORY', message: `it reached its memory limit (${limits.moduleMemoryMb} MB)` });
      else this.fail({ cause: 'CRASHED', message: `its process exited (${signal === null ? `code ${code}` : signal})` });
    });
    this.channel.on('data', (chunk: Buffer) => this.onBytes(chunk));
    this.channel.on('error', () => undefined);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.onLog('info', 'module output', { text: chunk.slice(0, 1000) }));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (OOM_TEXT.test(chunk)) this.oom = true;
      this.onLog('warn', 'module output', { text: chunk.slice(0, 1000), stream: 'stderr' });
    });
    if (limits.moduleNice !== 0 && child.pid !== undefined) {
      try {
        setPriority(child.pid, limits.moduleNice);
      } catch {
        // Best effort: refused, the child keeps the name server's priority.
      }
    }
    void this.sendSource();
  }

  /** Waits for the module's manifest; rejects with MODULE_FAILED (data.cause says why). */
  manifest(): Promise<Manifest> {
    return this.wait() as Promise<Manifest>;
  }

  /**
   * Opens the module's store, hands the child the registry at `revision` (in slices, one per
   * turn of the event loop) and the store, and waits for its init. Changes given meanwhile
   * reach it after the snapshot.
   */
  begin(storeFile: string, revision: number, entries: EntryView[], prefix: string): Promise<void> {
    this.label = prefix;
    this.state = 'loading';
    const done = this.wait() as Promise<void>;
    ModuleStore.open(storeFile, this.limits.maxStoreBytes).then((store) => {
      if (this.state !== 'loading') return;
      this.store = store;
      const send = (from: number): void => {
        if (this.state !== 'loading') return;
        const slice = entries.slice(from, from + SNAPSHOT_SLICE);
        const more = from + SNAPSHOT_SLICE < entries.length;
        if (from === 0) this.post({ t: 'start', revision, entries: slice, more }, store.document());
        else this.post({ t: 'entries', entries: slice, more });
        if (more) setImmediate(() => send(from + SNAPSHOT_SLICE));
      };
      send(0);
    }, (err: unknown) => this.fail({ cause: 'INIT_FAILED', message: err instanceof Error ? err.message : String(err) }));
    return done;
  }

  /** Calls a method; resolves with the answer's JSON text. */
  call(method: string, params: unknown, caller: ModuleCaller): Promise<string> {
    if (this.state !== 'ready') return Promise.reject(new DpnsError('MODULE_FAILED', `module ${this.label} is not running`, { details: { cause: 'RESTARTING', prefix: this.label } }));
    const id = this.nextCall++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => this.timedOut(id, method), this.limits.moduleTimeoutMs);
      this.calls.set(id, { resolve, reject, timer });
      this.post({ t: 'call', id, method, params, caller });
    });
  }

  /** Durable changes, in revision order. */
  changes(batches: ChangeBatch[]): void {
    if (this.state === 'loading' || this.state === 'ready') this.post({ t: 'changes', batches });
  }

  /** Asks the child to finish its store writes and exit; kills it if it has not within a second. */
  async stop(why: ModuleFailureCause = 'UNLOADED'): Promise<void> {
    if (this.state === 'gone' || this.state === 'stopping') return;
    const wasReady = this.state === 'ready';
    this.state = 'stopping';
    this.clearTimers();
    this.settleCalls(() => new DpnsError('MODULE_FAILED', `module ${this.label} was ${why === 'UNLOADED' ? 'unloaded' : 'stopped'} while the call was in flight`, { details: { cause: why, prefix: this.label } }));
    this.waiter?.reject(new DpnsError('MODULE_FAILED', `module ${this.label} was stopped while loading`, { details: { cause: why } }));
    this.waiter = undefined;
    const exited = this.whenExited();
    if (wasReady) {
      this.post({ t: 'stop' });
      this.outbox.flush();
    } else this.kill();
    const timer = setTimeout(() => this.kill(), 1000);
    await exited;
    clearTimeout(timer);
    // The store writes the child asked for before it went are on disk before the module is gone.
    await this.store?.flush();
    this.state = 'gone';
  }

  private whenExited(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  private kill(): void {
    if (!this.exited) this.child?.kill('SIGKILL');
  }

  private wait(): Promise<unknown> {
    if (this.state === 'gone') {
      const f = this.failure ?? { cause: 'CRASHED', message: 'its process is gone' };
      return Promise.reject(new DpnsError('MODULE_FAILED', `module ${this.label} could not load: ${f.message}`, { details: { cause: f.cause, path: this.path } }));
    }
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  private settle(v: unknown): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve(v);
  }

  /** The module's source goes to the child over the pipe: the child may not read the file itself. */
  private async sendSource(): Promise<void> {
    let source: string;
    try {
      const bytes = await readFile(this.path);
      if (bytes.length > MAX_SOURCE_BYTES) throw new Error(`the file is ${bytes.length} bytes, over the limit of ${MAX_SOURCE_BYTES}`);
      source = bytes.toString('utf8');
    } catch (err) {
      this.fail({ cause: 'LOAD_FAILED', message: `cannot read ${this.path}: ${(err as Error).message}` });
      return;
    }
    this.post({ t: 'load', path: this.path, maxResultBytes: this.limits.maxResultBytes, maxStoreBytes: this.limits.maxStoreBytes }, source);
  }

  private onBytes(chunk: Buffer): void {
    if (this.state === 'gone') return;
    let frames: Frame[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      // The stream cannot be read on: whatever the child meant, it is not speaking the protocol.
      const why = err instanceof FrameError ? err.message : String(err);
      this.hooks.log.error('a module process sent what is not a frame; it is stopped', { module: this.label, why });
      this.fail({ cause: 'CRASHED', message: `it sent ${why} to the name server` });
      return;
    }
    for (const frame of frames) {
      const m = parseFromChild(frame);
      if (m === undefined) this.refuse('a malformed message', frame.header);
      // Stopping, the child still finishes its store writes (it waits for their answers before it exits); nothing else counts.
      else if (this.state !== 'stopping') this.handle(m);
      else if (m.t === 'store') this.storeWrite(m.id, m.key, m.json);
      // A message can end the child (load-failed, too many refusals); the rest is moot.
      if (this.isGone()) return;
    }
  }

  /** Read through a method: a message handled a line above may have changed the state. */
  private isGone(): boolean {
    return this.state === 'gone';
  }

  /** Counts and logs a message that does not fit; too many and the child is stopped. */
  private refuse(what: string, header: unknown): void {
    this.refused++;
    const t = (header as { t?: unknown } | null)?.t;
    if (this.logBucket.take()) this.hooks.log.warn(`refused ${what} from a module process`, { module: this.label, type: typeof t === 'string' ? t.slice(0, 32) : typeof t, refused: this.refused });
    if (this.refused > MAX_REFUSED) this.fail({ cause: 'CRASHED', message: `it sent ${this.refused} messages the name server refused (the last: ${what})` });
  }

  private handle(m: FromChild): void {
    switch (m.t) {
      case 'manifest':
        if (this.state === 'spawning' && this.waiter !== undefined) this.settle({ prefix: m.prefix, version: m.version, methods: m.methods } satisfies Manifest);
        else this.refuse('a second manifest', m);
        return;
      case 'load-failed':
        this.fail({ cause: m.cause, message: m.message });
        return;
      case 'init-failed':
        this.fail({ cause: 'INIT_FAILED', message: m.message });
        return;
      case 'ready':
        if (this.state !== 'loading' || this.store === undefined) {
          this.refuse('a ready before its start', m);
          return;
        }
        this.state = 'ready';
        clearTimeout(this.loadTimer);
        this.startPings();
        this.settle(undefined);
        return;
      case 'result': {
        const c = this.takeCall(m.id);
        if (c === undefined) this.refuse('an answer to no call in flight', m);
        c?.resolve(m.json);
        return;
      }
      case 'error': {
        const c = this.takeCall(m.id);
        if (c === undefined) this.refuse('an error for no call in flight', m);
        const details = { ...m.details, ...(m.cause === undefined ? {} : { cause: m.cause }) };
        c?.reject(new DpnsError(m.code, m.cause === undefined ? m.message : `module ${this.label}: ${m.message}`, { details }));
        return;
      }
      case 'query':
        this.answerQuery(m.id, m.method, m.params);
        return;
      case 'store':
        this.storeWrite(m.id, m.key, m.json);
        return;
      case 'log':
        this.onLog(m.level, m.message, m.fields);
        return;
      case 'pong':
        this.pongSeq = Math.max(this.pongSeq, Math.min(m.seq, this.pingSeq));
        return;
      case 'stopped':
        return;
      default: {
        const never: never = m;
        return never;
      }
    }
  }

  private takeCall(id: number): PendingCall | undefined {
    const c = this.calls.get(id);
    if (c === undefined) return undefined;
    this.calls.delete(id);
    clearTimeout(c.timer);
    return c;
  }

  private timedOut(id: number, method: string): void {
    const c = this.calls.get(id);
    if (c === undefined) return;
    this.calls.delete(id);
    const ms = this.limits.moduleTimeoutMs;
    c.reject(new DpnsError('MODULE_TIMEOUT', `${this.label}.${method} did not answer within ${ms} ms; the module's process was stopped and is restarting`, {
      details: { prefix: this.label, method, timeoutMs: ms },
    }));
    this.fail({ cause: 'TIMEOUT', message: `${this.label}.${method} ran past its time limit of ${ms} ms` });
  }

  private answerQuery(id: number, method: string, params: unknown): void {
    const reply = (r: { result?: unknown; error?: { code: string; message: string } }): void => {
      this.queriesInFlight--;
      if (this.state === 'ready' || this.state === 'loading') this.post({ t: 'query-result', id, ...r });
    };
    this.queriesInFlight++;
    if (this.queriesInFlight > this.limits.maxQueriesInFlight) {
      reply({ error: { code: 'LIMIT_EXCEEDED', message: `a module may have at most ${this.limits.maxQueriesInFlight} queries in flight` } });
      return;
    }
    this.hooks.query(method, params).then(
      (result) => reply({ result }),
      (err: unknown) => reply({ error: err instanceof DpnsError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: 'the query failed' } }),
    );
  }

  /** A write to the module's own store, and nothing else: the store is the only file a module has. */
  private storeWrite(id: number, key: string, json: string | null): void {
    const store = this.store;
    if (store === undefined || this.state === 'spawning' || this.state === 'gone') {
      this.refuse('a store write before its store was open', { t: 'store' });
      return;
    }
    const write = json === null ? store.remove(key) : store.setJson(key, json);
    write.then(
      () => this.post({ t: 'stored', id }),
      (err: unknown) => this.post({ t: 'stored', id, error: err instanceof DpnsError ? { code: err.code, message: err.message } : { code: 'UNAVAILABLE', message: 'the store could not be written' } }),
    );
  }

  private onLog(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void {
    if (!this.logBucket.take()) return;
    this.hooks.log[level](message, { ...fields, module: this.label });
  }

  /** A loop outside any call (in onChange, a timer) is seen as a ping left unanswered. */
  private startPings(): void {
    const every = Math.max(1000, 2 * this.limits.moduleTimeoutMs);
    this.pingTimer = setInterval(() => {
      if (this.pongSeq < this.pingSeq) {
        this.fail({ cause: 'UNRESPONSIVE', message: `its process did not answer a liveness ping within ${every} ms (a loop outside any call?)` });
        return;
      }
      this.post({ t: 'ping', seq: ++this.pingSeq });
    }, every);
    this.pingTimer.unref();
  }

  private post(m: ToChild, payload?: string): void {
    this.outbox.push(payload === undefined ? { m } : { m, payload });
  }

  private send(batch: { m: ToChild; payload?: string }[]): void {
    if (this.channel === undefined || this.state === 'gone' || this.exited) return;
    const frames: Buffer[] = [];
    for (const { m, payload } of batch) {
      try {
        frames.push(encodeFrame(m, payload));
      } catch (err) {
        // Params that are not JSON (a cycle, a BigInt) cannot come from a client; said to the caller all the same.
        if (m.t === 'call') this.takeCall(m.id)?.reject(new DpnsError('INVALID_PARAMS', `params cannot be passed to the module: ${(err as Error).message}`));
        else this.hooks.log.warn('could not send to a module process', { module: this.label, type: m.t, err: (err as Error).message });
      }
    }
    if (frames.length > 0) this.channel.write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames));
  }

  private clearTimers(): void {
    clearTimeout(this.loadTimer);
    clearInterval(this.pingTimer);
    this.loadTimer = undefined;
    this.pingTimer = undefined;
  }

  /** Rejects every call in flight with the error `make` builds. */
  private settleCalls(make: () => DpnsError): void {
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const c of calls) {
      clearTimeout(c.timer);
      c.reject(make());
    }
  }

  /** The one way a child ends on its own: everything waiting is answered, the process is killed. */
  private fail(f: ChildFailure): void {
    if (this.state === 'gone' || this.state === 'stopping') return;
    const wasReady = this.state === 'ready';
    this.state = 'gone';
    this.failure = f;
    this.clearTimers();
    this.kill();
    const cause: ModuleFailureCause = f.cause === 'TIMEOUT' || f.cause === 'UNRESPONSIVE' ? 'RESTARTED' : f.cause;
    this.settleCalls(() => new DpnsError('MODULE_FAILED', `module ${this.label} stopped while the call was in flight: ${f.message}; it is restarting, retry shortly`, {
      details: { cause, prefix: this.label },
    }));
    if (this.waiter !== undefined) {
      this.waiter.reject(new DpnsError('MODULE_FAILED', `module ${this.label} could not load: ${f.message}`, { details: { cause: f.cause, path: this.path } }));
      this.waiter = undefined;
      return;
    }
    if (wasReady) this.hooks.failed(f);
  }
}
