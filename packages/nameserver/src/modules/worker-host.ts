// One module's worker thread, seen from the name server: spawned with resource limits, loaded
// (manifest, registry snapshot in slices, init), then called, fed changes and pinged. Every way
// it can end — a call past its time limit, no answer to a ping, the memory limit, an uncaught
// exception, process.exit — ends in one place, `fail`, which answers whatever was waiting.
// The name server's thread never waits on the worker: everything here is a message or a timer.
import { MessagePort, Worker } from 'node:worker_threads';
import { DpnsError, type EntryView, type ModuleFailureCause, type ModuleMethodInfo } from '@dpns/protocol';
import type { Logger } from '../log.js';
import { TokenBucket } from '../rate-limit.js';
import type { ModuleLimits } from './limits.js';
import { Outbox } from './outbox.js';
import { parseFromWorker, type ChangeBatch, type FromWorker, type ModuleCaller, type ToWorker, type WorkerStart } from './wire.js';

/** Why a worker ended, as the module's lastError shows it. */
export interface WorkerFailure {
  cause: ModuleFailureCause;
  message: string;
}

export interface Manifest {
  prefix: string;
  version: string;
  methods: ModuleMethodInfo[];
}

/** What the host asks of the name server around it. */
export interface WorkerHostHooks {
  /** A running worker failed; it is already stopped. Not called after `stop()`, nor while loading. */
  failed(f: WorkerFailure): void;
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

/** Registry entries per snapshot message: small enough that posting one is a short pause for the name server. */
const SNAPSHOT_SLICE = 2000;
/** The worker's own entry program, compiled beside this file. */
const ENTRY = new URL('./inside/entry.js', import.meta.url);

export class WorkerHost {
  state: HostState = 'spawning';
  private readonly worker: Worker;
  private port: MessagePort | undefined;
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
  private stopped: (() => void) | undefined;
  private readonly outbox = new Outbox<ToWorker>((batch) => this.send(batch));
  /** What ended the worker, for a load step asked for after it had already died. */
  private failure: WorkerFailure | undefined;

  constructor(readonly path: string, private readonly limits: ModuleLimits, private readonly hooks: WorkerHostHooks) {
    this.label = path;
    const data: WorkerStart = { path, maxResultBytes: limits.maxResultBytes, maxStoreBytes: limits.maxStoreBytes, nice: limits.nice };
    this.worker = new Worker(ENTRY, {
      workerData: data,
      resourceLimits: { maxOldGenerationSizeMb: limits.maxOldGenerationMb, maxYoungGenerationSizeMb: limits.maxYoungGenerationMb, stackSizeMb: limits.stackMb },
      stdout: true,
      stderr: true,
      name: `dpns-module ${path}`,
    });
    this.worker.once('message', (m: unknown) => this.onFirstMessage(m));
    this.worker.on('error', (err) => {
      const oom = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.fail({ cause: oom ? 'OUT_OF_MEMORY' : 'CRASHED', message: oom ? `it reached its memory limit (${limits.maxOldGenerationMb} MB)` : `uncaught ${err.name}: ${err.message}` });
    });
    this.worker.on('exit', (code) => {
      this.stopped?.();
      this.fail({ cause: 'CRASHED', message: `its worker exited (code ${code})` });
    });
    for (const stream of [this.worker.stdout, this.worker.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => this.onLog('info', 'module output', { text: chunk.slice(0, 1000) }));
    }
    // Import, snapshot and init together; a module that hangs at load is stopped.
    this.loadTimer = setTimeout(() => this.fail({ cause: 'TIMEOUT', message: `it did not load within ${limits.loadTimeoutMs} ms` }), limits.loadTimeoutMs);
  }

  /** Waits for the module's manifest; rejects with MODULE_FAILED (data.cause says why). */
  manifest(): Promise<Manifest> {
    return this.wait() as Promise<Manifest>;
  }

  /**
   * Hands the worker the registry at `revision` (in slices, one per turn of the event loop)
   * and its store file, and waits for its init. Changes given meanwhile reach it after the snapshot.
   */
  begin(storeFile: string, revision: number, entries: EntryView[], prefix: string): Promise<void> {
    this.label = prefix;
    this.state = 'loading';
    const done = this.wait() as Promise<void>;
    const send = (from: number): void => {
      if (this.state !== 'loading') return;
      const slice = entries.slice(from, from + SNAPSHOT_SLICE);
      const more = from + SNAPSHOT_SLICE < entries.length;
      this.post(from === 0 ? { t: 'start', storeFile, revision, entries: slice, more } : { t: 'entries', entries: slice, more });
      if (more) setImmediate(() => send(from + SNAPSHOT_SLICE));
    };
    send(0);
    return done;
  }

  /** Calls a method; resolves with the answer's JSON text. */
  call(method: string, params: unknown, caller: ModuleCaller): Promise<string> {
    if (this.state !== 'ready') return Promise.reject(new DpnsError('MODULE_FAILED', `module ${this.label} is not running`, { details: { cause: 'RESTARTING', prefix: this.label } }));
    const id = this.nextCall++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => this.timedOut(id, method), this.limits.callTimeoutMs);
      this.calls.set(id, { resolve, reject, timer });
      this.post({ t: 'call', id, method, params, caller });
    });
  }

  /** Durable changes, in revision order. */
  changes(batches: ChangeBatch[]): void {
    if (this.state === 'loading' || this.state === 'ready') this.post({ t: 'changes', batches });
  }

  /** Asks the worker to flush its store and exit; terminates it if it has not within a second. */
  async stop(why: ModuleFailureCause = 'UNLOADED'): Promise<void> {
    if (this.state === 'gone' || this.state === 'stopping') return;
    const wasLoading = this.state !== 'ready';
    this.state = 'stopping';
    this.clearTimers();
    this.settleCalls(() => new DpnsError('MODULE_FAILED', `module ${this.label} was ${why === 'UNLOADED' ? 'unloaded' : 'stopped'} while the call was in flight`, { details: { cause: why, prefix: this.label } }));
    this.waiter?.reject(new DpnsError('MODULE_FAILED', `module ${this.label} was stopped while loading`, { details: { cause: why } }));
    this.waiter = undefined;
    const exited = new Promise<void>((resolve) => (this.stopped = resolve));
    if (!wasLoading && this.port !== undefined) {
      this.post({ t: 'stop' });
      this.outbox.flush();
    }
    else void this.worker.terminate();
    const timer = setTimeout(() => void this.worker.terminate(), 1000);
    await exited;
    clearTimeout(timer);
    this.state = 'gone';
  }

  private wait(): Promise<unknown> {
    if (this.state === 'gone') {
      const f = this.failure ?? { cause: 'CRASHED', message: 'its worker is gone' };
      return Promise.reject(new DpnsError('MODULE_FAILED', `module ${this.label} could not load: ${f.message}`, { details: { cause: f.cause, path: this.path } }));
    }
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  private settle(v: unknown): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve(v);
  }

  private onFirstMessage(m: unknown): void {
    const port = (m as { t?: unknown; port?: unknown } | null)?.port;
    if ((m as { t?: unknown } | null)?.t !== 'port' || !(port instanceof MessagePort)) {
      this.fail({ cause: 'LOAD_FAILED', message: 'its worker did not open the module channel' });
      return;
    }
    this.port = port;
    port.on('message', (raw: unknown) => this.onMessage(raw));
    // Anything the module itself posts on parentPort is not the name server's business.
    this.worker.on('message', () => undefined);
  }

  /** A batch of messages from the worker (see outbox.ts). */
  private onMessage(raw: unknown): void {
    if (!Array.isArray(raw)) {
      this.hooks.log.warn('ignored a malformed message from a module worker', { module: this.label });
      return;
    }
    for (const item of raw as unknown[]) {
      const m = parseFromWorker(item);
      if (m === undefined) this.hooks.log.warn('ignored a malformed message from a module worker', { module: this.label });
      else this.handle(m);
      // A message can end the worker (load-failed, a bad answer); the rest of the batch is moot.
      if (this.state === 'gone') return;
    }
  }

  private handle(m: FromWorker): void {
    switch (m.t) {
      case 'manifest':
        if (this.state === 'spawning') this.settle({ prefix: m.prefix, version: m.version, methods: m.methods } satisfies Manifest);
        return;
      case 'load-failed':
        this.fail({ cause: m.cause, message: m.message });
        return;
      case 'init-failed':
        this.fail({ cause: 'INIT_FAILED', message: m.message });
        return;
      case 'ready':
        if (this.state !== 'loading') return;
        this.state = 'ready';
        clearTimeout(this.loadTimer);
        this.startPings();
        this.settle(undefined);
        return;
      case 'result': {
        const c = this.takeCall(m.id);
        c?.resolve(m.json);
        return;
      }
      case 'error': {
        const c = this.takeCall(m.id);
        const details = { ...m.details, ...(m.cause === undefined ? {} : { cause: m.cause }) };
        c?.reject(new DpnsError(m.code, m.cause === undefined ? m.message : `module ${this.label}: ${m.message}`, { details }));
        return;
      }
      case 'query':
        this.answerQuery(m.id, m.method, m.params);
        return;
      case 'log':
        this.onLog(m.level, m.message, m.fields);
        return;
      case 'pong':
        this.pongSeq = Math.max(this.pongSeq, m.seq);
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
    const ms = this.limits.callTimeoutMs;
    c.reject(new DpnsError('MODULE_TIMEOUT', `${this.label}.${method} did not answer within ${ms} ms; the module's worker was stopped and is restarting`, {
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

  private onLog(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void {
    if (!this.logBucket.take()) return;
    this.hooks.log[level](message, { ...fields, module: this.label });
  }

  /** A loop outside any call (in onChange, a timer) is seen as a ping left unanswered. */
  private startPings(): void {
    const every = Math.max(1000, 2 * this.limits.callTimeoutMs);
    this.pingTimer = setInterval(() => {
      if (this.pongSeq < this.pingSeq) {
        this.fail({ cause: 'UNRESPONSIVE', message: `its worker did not answer a liveness ping within ${every} ms (a loop outside any call?)` });
        return;
      }
      this.post({ t: 'ping', seq: ++this.pingSeq });
    }, every);
    this.pingTimer.unref();
  }

  private post(m: ToWorker): void {
    this.outbox.push(m);
  }

  private send(batch: ToWorker[]): void {
    if (this.port === undefined || this.state === 'gone') return;
    try {
      this.port.postMessage(batch);
    } catch {
      // Something in the batch cannot be cloned: send them one by one, so only its sender hears of it.
      for (const m of batch) {
        try {
          this.port.postMessage([m]);
        } catch (err) {
          if (m.t === 'call') this.takeCall(m.id)?.reject(new DpnsError('INVALID_PARAMS', `params cannot be passed to the module: ${(err as Error).message}`));
          else this.hooks.log.warn('could not post to a module worker', { module: this.label, type: m.t, err: (err as Error).message });
        }
      }
    }
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

  /** The one way a worker ends on its own: everything waiting is answered, the thread is stopped. */
  private fail(f: WorkerFailure): void {
    if (this.state === 'gone' || this.state === 'stopping') return;
    const wasReady = this.state === 'ready';
    this.state = 'gone';
    this.failure = f;
    this.clearTimers();
    void this.worker.terminate();
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
