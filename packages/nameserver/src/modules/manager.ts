// The modules of one name server: loaded at start from the modules directory and at run time
// by an admin, each under a prefix that no other module and no built-in method has. Calls
// named `<prefix>.<method>` are routed here, and every durable change is fed from here.
import { access, constants, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  DpnsError, prefixProblem, publicEntry, RESERVED_PREFIXES, type ModuleCallName, type ModuleInfo, type ModuleTarget,
} from '@dpns/protocol';
import type { Logger } from '../log.js';
import type { Change } from '../registry/ops.js';
import type { Registry } from '../registry/registry.js';
import type { ModuleLimits } from './limits.js';
import { answerQuery } from './queries.js';
import { ModuleRecord, type RecordDeps } from './record.js';
import type { ChangeBatch, ModuleCaller } from './wire.js';
import { ChildHost } from './child-host.js';

export interface ModuleManagerOptions {
  registry: Registry;
  /** Module stores live in `<dataDir>/modules/<prefix>.json`. */
  dataDir: string;
  limits: ModuleLimits;
  log: Logger;
  /** Holds a query's answer until what it saw is durable, as for a client's read. */
  afterDurable<T>(answer: T): T | Promise<T>;
  now(): number;
}

/** Module files in a modules directory: ES modules by extension, hidden files skipped. */
const MODULE_FILE = /^[^.].*\.(mjs|js)$/;

export class ModuleManager {
  private readonly records = new Set<ModuleRecord>();
  private readonly byPrefix = new Map<string, ModuleRecord>();
  private pending: ChangeBatch[] = [];
  private flushing = false;
  private closed = false;
  private readonly deps: RecordDeps;

  constructor(private readonly opts: ModuleManagerOptions) {
    const log = opts.log;
    this.deps = {
      limits: opts.limits,
      log,
      now: opts.now,
      spawn: (path, failed) => new ChildHost(path, opts.limits, {
        failed,
        log,
        query: async (method, params) => opts.afterDurable(answerQuery(opts.registry, method, params, opts.now)),
      }),
      claim: (rec, prefix) => this.claim(rec, prefix),
      snapshot: () => {
        const s = opts.registry.snapshot();
        // Redacted as for any client: a module answers calls from anyone (server.ts redacts its change feed too).
        return { revision: s.revision, entries: s.entries.map(publicEntry) };
      },
      storeFile: (prefix) => join(opts.dataDir, 'modules', `${prefix}.json`),
    };
  }

  /** Loads every module file in `dir`, in name order; a module that fails is logged and listed, and the others still load. */
  async loadDir(dir: string): Promise<void> {
    const names = (await readdir(dir, { withFileTypes: true }))
      .filter((d) => (d.isFile() || d.isSymbolicLink()) && MODULE_FILE.test(d.name))
      .map((d) => d.name)
      .sort();
    for (const name of names) {
      if (this.closed) return;
      try {
        await this.load(join(dir, name));
      } catch (err) {
        this.opts.log.error('a module in the modules directory did not load', { path: join(dir, name), err: (err as Error).message });
      }
    }
  }

  /** Loads a module file; resolves once it runs. A reserved or taken prefix is refused and not kept; other failures leave it listed as failed. */
  async load(file: string): Promise<ModuleInfo> {
    if (this.closed) throw new DpnsError('UNAVAILABLE', 'the name server is shutting down');
    const path = resolve(file);
    const existing = [...this.records].find((r) => r.path === path);
    if (existing !== undefined && existing.state !== 'failed') {
      throw new DpnsError('ALREADY_EXISTS', `${path} is already loaded as ${existing.prefix ?? '?'}; use dpns modules reload ${existing.prefix ?? path}`, {
        details: { prefix: existing.prefix, path },
      });
    }
    await checkFile(path);
    if (existing !== undefined) await this.forget(existing);
    const rec = new ModuleRecord(path, this.deps);
    this.records.add(rec);
    try {
      await rec.load();
    } catch (err) {
      if (rec.refused) this.records.delete(rec);
      throw err;
    }
    this.opts.log.info('module loaded', { module: rec.prefix, version: rec.version, path, methods: [...rec.methods.keys()] });
    return rec.info();
  }

  /** Stops a module and forgets it; its store file stays. */
  async unload(target: ModuleTarget): Promise<{ prefix: string | null; path: string }> {
    const rec = this.find(target);
    await this.forget(rec);
    this.opts.log.info('module unloaded', { module: rec.prefix, path: rec.path });
    return { prefix: rec.prefix, path: rec.path };
  }

  /** Unloads a module and loads its file again: new code, a fresh child process, counters from zero. */
  async reload(target: ModuleTarget): Promise<ModuleInfo> {
    const rec = this.find(target);
    // Check the file first: a reload of a file that moved must not leave no module at all.
    await access(rec.path, constants.R_OK).catch((e: NodeJS.ErrnoException) => {
      throw new DpnsError('NOT_FOUND', `cannot reload ${rec.prefix ?? rec.path}: ${rec.path} is not readable (${e.code ?? e.message}); the loaded module is kept`, {
        details: { path: rec.path },
      });
    });
    await this.forget(rec);
    return this.load(rec.path);
  }

  list(): ModuleInfo[] {
    // By prefix; modules that failed before declaring one come last, by path.
    const key = (m: ModuleInfo): string => (m.prefix === undefined ? `1${m.path}` : `0${m.prefix}`);
    return [...this.records].map((r) => r.info()).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }

  /** Calls `<prefix>.<method>`; resolves with the answer's JSON text. Throws METHOD_NOT_FOUND or UNAUTHORIZED first. */
  call(name: ModuleCallName, params: unknown, caller: ModuleCaller): Promise<string> {
    const rec = this.byPrefix.get(name.prefix);
    if (rec === undefined) {
      throw new DpnsError('METHOD_NOT_FOUND', `unknown method ${name.prefix}.${name.method}: no module with the prefix ${name.prefix} is loaded (dpns modules list shows those that are)`, {
        details: { method: `${name.prefix}.${name.method}` },
      });
    }
    const m = rec.methods.get(name.method);
    if (m === undefined) {
      throw new DpnsError('METHOD_NOT_FOUND', `module ${name.prefix} has no method ${name.method}; it offers ${[...rec.methods.keys()].join(', ') || 'none'}`, {
        details: { method: `${name.prefix}.${name.method}` },
      });
    }
    if (m.admin && !caller.admin) {
      throw new DpnsError('UNAUTHORIZED', `${name.prefix}.${name.method} needs the admin credential: log in first (the dpns command reads it from --token-file FILE, DPNS_TOKEN_FILE or DPNS_TOKEN)`);
    }
    // The changes published so far go first: a client that wrote and then calls sees its write.
    this.flush();
    return rec.call(name.method, params, caller);
  }

  /** The changes of one durable revision, for every module; sent together once per turn of the event loop. */
  publish(changes: readonly Change[], revision: number): void {
    if (this.records.size === 0 || changes.length === 0) return;
    this.pending.push({
      revision,
      changes: changes.map((c) => ({ revision, type: c.type, name: c.name, ...(c.entry === undefined ? {} : { entry: c.entry }) })),
    });
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
    }
  }

  /** Stops every module. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.records];
    this.records.clear();
    this.byPrefix.clear();
    await Promise.all(all.map((r) => r.stop()));
  }

  private flush(): void {
    this.flushing = false;
    if (this.pending.length === 0) return;
    const batches = this.pending;
    this.pending = [];
    for (const r of this.records) r.feed(batches);
  }

  private find(target: ModuleTarget): ModuleRecord {
    const rec = 'prefix' in target ? this.byPrefix.get(target.prefix) : [...this.records].find((r) => r.path === resolve(target.path));
    if (rec === undefined) {
      const what = 'prefix' in target ? `with the prefix ${target.prefix}` : `from ${target.path}`;
      throw new DpnsError('NOT_FOUND', `no module ${what} is loaded (dpns modules list shows those that are)`, { details: { ...target } });
    }
    return rec;
  }

  private async forget(rec: ModuleRecord): Promise<void> {
    this.records.delete(rec);
    if (rec.prefix !== null && this.byPrefix.get(rec.prefix) === rec) this.byPrefix.delete(rec.prefix);
    await rec.stop();
  }

  /** Gives `prefix` to `rec`, or refuses: reserved for a built-in method, or held by another module. */
  private claim(rec: ModuleRecord, prefix: string): void {
    const why = prefixProblem(prefix);
    if (why !== undefined) {
      const reserved = RESERVED_PREFIXES.has(prefix);
      throw new DpnsError('MODULE_FAILED', `${rec.path} claims ${reserved ? 'a built-in prefix' : 'a bad prefix'}: ${why}`, {
        details: { cause: reserved ? 'PREFIX_RESERVED' : 'BAD_MANIFEST', prefix, path: rec.path },
      });
    }
    const holder = this.byPrefix.get(prefix);
    if (holder !== undefined && holder !== rec) {
      throw new DpnsError('ALREADY_EXISTS', `${rec.path} claims the prefix ${prefix}, which is taken by ${holder.path}`, {
        details: { prefix, path: rec.path, holder: holder.path },
      });
    }
    this.byPrefix.set(prefix, rec);
  }
}

/** A module file must exist and be a file; said here, before a process is spent on it. */
async function checkFile(path: string): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DpnsError('NOT_FOUND', `no module file at ${path} on the name server's host (${code ?? (err as Error).message})`, { details: { path } });
  }
  if (!s.isFile()) throw new DpnsError('INVALID_PARAMS', `${path} is not a file`, { details: { path } });
}
