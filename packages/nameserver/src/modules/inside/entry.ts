// The program of a module's worker thread. It opens a private channel to the name server
// before any module code runs (the module can reach `parentPort`, not this channel), imports
// the module, reports its manifest, builds its registry copy from the snapshot slices, opens
// its store, runs init, and then answers calls and applies changes until it is stopped.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { pathToFileURL } from 'node:url';
import { MessageChannel, parentPort, workerData } from 'node:worker_threads';
import { DpnsError, type EntryView } from '@dpns/protocol';
import type { ChangeBatch, FromWorker, ModuleChange, ToWorker, WorkerStart } from '../wire.js';
import { describe, errorMessage, plainDetails, resultMessage } from './answer.js';
import { callContext, makeConsole, makeContext, makeLog, type ModuleContext, type QueryMethod } from './context.js';
import { deepFreeze } from './freeze.js';
import { ManifestError, readModule, type LoadedModule } from './manifest.js';
import { ModuleStore } from './store.js';
import { RegistryView } from './view.js';
import { Outbox } from '../outbox.js';

const start = workerData as WorkerStart;
const channel = new MessageChannel();
const port = channel.port1;
const postRaw = port.postMessage.bind(port);
const outbox = new Outbox<FromWorker>((batch) => postRaw(batch));
const post = (m: FromWorker): void => outbox.push(m);
parentPort?.postMessage({ t: 'port', port: channel.port2 }, [channel.port2]);

lowerPriority(start.nice);
const log = makeLog((level, message, fields) => {
  const f = fields === undefined ? undefined : plainDetails(fields);
  post({ t: 'log', level, message: message.slice(0, 2000), ...(f === undefined ? {} : { fields: f }) });
});
globalThis.console = makeConsole(log);

const view = new RegistryView();
let mod: LoadedModule | undefined;
let ctx: ModuleContext | undefined;
let store: ModuleStore | undefined;
/** The snapshot being received, and the changes that arrive before init has finished. */
let snapshot: { storeFile: string; revision: number; entries: EntryView[] } | undefined;
let early: ChangeBatch[] = [];
let ready = false;
const queries = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
let nextQuery = 1;

port.on('message', (batch: ToWorker[]) => {
  for (const m of batch) receive(m);
});

function receive(m: ToWorker): void {
  switch (m.t) {
    case 'start':
      snapshot = { storeFile: m.storeFile, revision: m.revision, entries: m.entries };
      if (!m.more) void begin();
      return;
    case 'entries':
      if (snapshot === undefined) return;
      for (const e of m.entries) snapshot.entries.push(e);
      if (!m.more) void begin();
      return;
    case 'changes':
      if (ready) applyChanges(m.batches);
      else early.push(...m.batches);
      return;
    case 'call':
      void answer(m.id, m.method, m.params, m.caller);
      return;
    case 'query-result': {
      const q = queries.get(m.id);
      queries.delete(m.id);
      if (m.error !== undefined) q?.reject(new DpnsError(m.error.code as never, m.error.message));
      else q?.resolve(deepFreeze(m.result));
      return;
    }
    case 'ping':
      post({ t: 'pong', seq: m.seq });
      return;
    case 'stop':
      void stop();
      return;
    default: {
      const never: never = m;
      return never;
    }
  }
}

try {
  const ns = (await import(pathToFileURL(start.path).href)) as Record<string, unknown>;
  mod = readModule(ns);
  post({
    t: 'manifest', prefix: mod.prefix, version: mod.version, methods: mod.methods,
    hasInit: mod.init !== undefined, hasOnChange: mod.onChange !== undefined,
  });
} catch (err) {
  // The worker then waits: the name server reads this and stops it.
  post({ t: 'load-failed', cause: err instanceof ManifestError ? 'BAD_MANIFEST' : 'LOAD_FAILED', message: err instanceof ManifestError ? err.message : describe(err) });
}

async function begin(): Promise<void> {
  const snap = snapshot;
  if (snap === undefined || mod === undefined) return;
  snapshot = undefined;
  try {
    view.load(snap.revision, snap.entries);
    store = await ModuleStore.open(snap.storeFile, start.maxStoreBytes);
    ctx = makeContext({ prefix: mod.prefix, version: mod.version, registry: view.facade, store: store.api, log, query });
    // init sees the snapshot; the changes made meanwhile follow through onChange once it is done.
    await mod.init?.(ctx);
  } catch (err) {
    post({ t: 'init-failed', message: describe(err) });
    return;
  }
  ready = true;
  const pending = early;
  early = [];
  post({ t: 'ready' });
  applyChanges(pending);
}

function applyChanges(batches: ChangeBatch[]): void {
  for (const b of batches) runOnChange(view.apply(b));
}

function runOnChange(changes: readonly ModuleChange[]): void {
  const hook = mod?.onChange;
  if (hook === undefined || ctx === undefined) return;
  for (const c of changes) {
    try {
      const r = hook(c, ctx) as { catch?: unknown } | undefined;
      if (typeof r?.catch === 'function') (r as Promise<unknown>).catch((err: unknown) => log.error('onChange failed', { error: describe(err), name: c.name }));
    } catch (err) {
      log.error('onChange failed', { error: describe(err), name: c.name });
    }
  }
}

async function answer(id: number, method: string, params: unknown, caller: { admin: boolean; conn: number }): Promise<void> {
  const handler = mod?.handlers.get(method);
  if (handler === undefined || ctx === undefined) {
    post({ t: 'error', id, code: 'MODULE_FAILED', cause: 'THREW', message: `the module has no handler for ${method}` });
    return;
  }
  let value: unknown;
  try {
    value = await handler(params, contextFor(ctx, caller));
  } catch (err) {
    post(errorMessage(id, err));
    return;
  }
  post(resultMessage(id, value, start.maxResultBytes));
}

/** The ctx of a caller, made once per connection and kept (a frozen object per call shows in a profile). */
const callerContexts = new Map<string, ModuleContext>();
function contextFor(base: ModuleContext, caller: { admin: boolean; conn: number }): ModuleContext {
  const key = `${caller.conn}:${caller.admin ? 1 : 0}`;
  let c = callerContexts.get(key);
  if (c === undefined) {
    if (callerContexts.size >= 4096) callerContexts.clear();
    c = callContext(base, caller);
    callerContexts.set(key, c);
  }
  return c;
}

function query(method: QueryMethod, params: Record<string, unknown> = {}): Promise<unknown> {
  if (queries.size >= 64) return Promise.reject(new DpnsError('LIMIT_EXCEEDED', 'too many queries in flight; await some first'));
  const id = nextQuery++;
  return new Promise((resolve, reject) => {
    queries.set(id, { resolve, reject });
    try {
      post({ t: 'query', id, method: String(method), params: plainDetails(params) ?? {} });
    } catch (err) {
      queries.delete(id);
      reject(err);
    }
  });
}

async function stop(): Promise<void> {
  // Writes the module started must reach the disk before the thread goes.
  await store?.flush().catch(() => undefined);
  post({ t: 'stopped' });
  outbox.flush();
  process.exit(0);
}

/** Linux: a worker is a thread with its own id; a higher nice value keeps the name server's thread first in line for the CPU. */
function lowerPriority(nice: number): void {
  if (nice === 0 || process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) setPriority(tid, nice);
  } catch {
    // Best effort: without /proc, or refused, the worker keeps the name server's priority.
  }
}
