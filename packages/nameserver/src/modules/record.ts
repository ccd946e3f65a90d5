// One module the name server knows of, across the child processes it runs in: its manifest, its state
// and counters, and the restart policy — a back-off after each failure, and `failed` for good
// (until reloaded) after too many failures in a row.
import { DpnsError, type EntryView, type ModuleFailureCause, type ModuleInfo, type ModuleMethodInfo, type ModuleState } from '@dpns/protocol';
import type { Logger } from '../log.js';
import { restartDelay, type ModuleLimits } from './limits.js';
import type { ChangeBatch, ModuleCaller } from './wire.js';
import type { ChildFailure, ChildHost } from './child-host.js';

/** What a record needs from the manager around it. */
export interface RecordDeps {
  limits: ModuleLimits;
  log: Logger;
  /** A new child process for the module file; `failed` hears of its death once it runs. */
  spawn(path: string, failed: (f: ChildFailure) => void): ChildHost;
  /** Takes `prefix` for the record, or throws the refusal (reserved, or held by another module). */
  claim(rec: ModuleRecord, prefix: string): void;
  /** The registry now, for a new child. */
  snapshot(): { revision: number; entries: EntryView[] };
  storeFile(prefix: string): string;
  now(): number;
}

export class ModuleRecord {
  prefix: string | null = null;
  version: string | null = null;
  methods = new Map<string, ModuleMethodInfo>();
  state: ModuleState = 'loading';
  since: number;
  restarts = 0;
  crashes = 0;
  calls = 0;
  errors = 0;
  timeouts = 0;
  lastError: ModuleInfo['lastError'];
  /** Set when the load was refused (a reserved or taken prefix): such a record is not kept. */
  refused = false;
  private host: ChildHost | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readyAt = 0;
  private closed = false;

  constructor(readonly path: string, private readonly deps: RecordDeps) {
    this.since = deps.now();
  }

  /** The first load: resolves once it runs; rejects with why not (and the record is `failed`, or `refused`). */
  async load(): Promise<void> {
    try {
      await this.start();
    } catch (err) {
      if (!this.refused && !this.closed) this.enter('failed', failureOf(err));
      throw err;
    }
  }

  /** Calls one of its methods; resolves with the answer's JSON text. */
  call(method: string, params: unknown, caller: ModuleCaller): Promise<string> {
    const host = this.host;
    if (this.state === 'running' && host !== undefined) {
      this.calls++;
      return host.call(method, params, caller).catch((err: unknown) => {
        this.errors++;
        if ((err as DpnsError).code === 'MODULE_TIMEOUT') this.timeouts++;
        throw err;
      });
    }
    const name = this.prefix ?? this.path;
    if (this.state === 'failed') {
      const why = this.lastError === undefined ? '' : `: ${this.lastError.message}`;
      return Promise.reject(new DpnsError('MODULE_FAILED', `module ${name} has failed${why}; an admin can try again with dpns modules reload ${name}`, {
        details: { cause: 'FAILED', prefix: name },
      }));
    }
    const retryAfterMs = this.state === 'restarting' ? restartDelay(this.deps.limits, this.crashes) : 100;
    return Promise.reject(new DpnsError('MODULE_FAILED', `module ${name} is ${this.state}; retry shortly`, { details: { cause: 'RESTARTING', prefix: name, retryAfterMs } }));
  }

  /** Durable changes, for the current child. */
  feed(batches: ChangeBatch[]): void {
    this.host?.changes(batches);
  }

  /** Stops the child and any restart to come. Safe to call twice. */
  async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    const host = this.host;
    this.host = undefined;
    await host?.stop('UNLOADED');
  }

  info(): ModuleInfo {
    const out: ModuleInfo = {
      prefix: this.prefix, path: this.path, version: this.version, state: this.state, since: this.since, restarts: this.restarts,
      crashes: this.crashes, calls: this.calls, errors: this.errors, timeouts: this.timeouts, methods: [...this.methods.values()],
    };
    if (this.lastError !== undefined) out.lastError = { ...this.lastError };
    return out;
  }

  /** Spawns a child, checks its manifest, hands it the registry, and waits for its init. */
  private async start(): Promise<void> {
    const host = this.deps.spawn(this.path, (f) => this.crashed(host, f));
    this.host = host;
    const m = await host.manifest();
    if (this.prefix === null) {
      try {
        this.deps.claim(this, m.prefix);
      } catch (err) {
        this.refused = true;
        await host.stop('UNLOADED');
        throw err;
      }
      this.prefix = m.prefix;
    } else if (m.prefix !== this.prefix) {
      await host.stop('UNLOADED');
      throw new DpnsError('MODULE_FAILED', `${this.path} now declares the prefix ${m.prefix}, not ${this.prefix}; unload it and load it again`, {
        details: { cause: 'BAD_MANIFEST', prefix: this.prefix },
      });
    }
    this.version = m.version;
    this.methods = new Map(m.methods.map((x) => [x.name, x]));
    const snap = this.deps.snapshot();
    await host.begin(this.deps.storeFile(this.prefix), snap.revision, snap.entries, this.prefix);
    if (this.closed) {
      await host.stop('UNLOADED');
      return;
    }
    this.readyAt = this.deps.now();
    this.enter('running');
  }

  /** A running child died. */
  private crashed(host: ChildHost, f: ChildFailure): void {
    if (host !== this.host || this.closed) return;
    this.host = undefined;
    // A child that ran a good while before failing starts a fresh count of failures in a row.
    if (this.deps.now() - this.readyAt >= this.deps.limits.stableMs) this.crashes = 0;
    this.afterFailure(f);
  }

  private afterFailure(f: ChildFailure): void {
    this.crashes++;
    this.lastError = { at: this.deps.now(), cause: f.cause, message: f.message };
    const { moduleMaxRestarts } = this.deps.limits;
    const fields = { module: this.prefix, path: this.path, cause: f.cause, reason: f.message, crashes: this.crashes, restarts: this.restarts };
    if (this.crashes > moduleMaxRestarts) {
      this.enter('failed');
      this.deps.log.error('module failed too many times in a row; it stays failed until an admin reloads it', { ...fields, maxRestarts: moduleMaxRestarts });
      return;
    }
    const delay = restartDelay(this.deps.limits, this.crashes);
    this.enter('restarting');
    this.deps.log.error('module failed; restarting it', { ...fields, inMs: delay });
    this.restartTimer = setTimeout(() => void this.restart(), delay);
    this.restartTimer.unref();
  }

  private async restart(): Promise<void> {
    if (this.closed) return;
    this.restarts++;
    this.enter('loading');
    try {
      await this.start();
      this.deps.log.info('module restarted', { module: this.prefix, restarts: this.restarts });
    } catch (err) {
      if (this.closed) return;
      this.host = undefined;
      this.afterFailure(failureOf(err));
    }
  }

  private enter(state: ModuleState, failure?: ChildFailure): void {
    if (failure !== undefined) this.lastError = { at: this.deps.now(), cause: failure.cause, message: failure.message };
    if (state === this.state) return;
    this.state = state;
    this.since = this.deps.now();
  }
}

/** The cause and message of a failed load step. */
function failureOf(err: unknown): ChildFailure {
  const e = err as DpnsError;
  const cause = (e.details?.cause ?? 'CRASHED') as ModuleFailureCause;
  return { cause, message: e instanceof Error ? e.message : String(err) };
}
