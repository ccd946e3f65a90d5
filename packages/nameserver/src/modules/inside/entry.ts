// The program of a module's child process (started by sandbox.ts, under Node's permission
// model). It talks to the name server in frames on file descriptor 3, closes what the
// permission model leaves open (lockdown.ts), and only then imports the module from the source
// the name server sent; it reports the manifest, builds its registry copy from the snapshot
// slices and its store copy, runs init, and then answers calls and applies changes until it is
// stopped, or until the name server's end of the pipe closes.
import { Socket } from 'node:net';
import { DpnsError, type EntryView } from '@dpns/protocol';
import { encodeFrame, FrameReader } from '../frames.js';
import type { ChangeBatch, FromChild, ModuleCaller, ModuleChange, ToChild } from '../wire.js';
import { describe, errorMessage, plainDetails, resultMessage } from './answer.js';
import { callContext, makeConsole, makeContext, makeLog, type ModuleContext, type QueryMethod } from './context.js';
import { deepFreeze } from './freeze.js';
import { lockDown } from './lockdown.js';
import { ManifestError, readModule, type LoadedModule } from './manifest.js';
import { StoreMirror } from './store-mirror.js';
import { RegistryView } from './view.js';
import { Outbox } from '../outbox.js';

/** The name server is trusted; the bound only keeps a broken pipe from growing without end. */
const MAX_FRAME_FROM_HOST = 256 * 1024 * 1024;

const channel = new Socket({ fd: 3, readable: true, writable: true });
const reader = new FrameReader(MAX_FRAME_FROM_HOST);
const write = channel.write.bind(channel);
const outbox = new Outbox<FromChild>((batch) => {
  const frames = batch.map((m) => (m.t === 'result' ? encodeFrame({ t: 'result', id: m.id }, m.json) : m.t === 'store' ? encodeFrame({ t: 'store', id: m.id, key: m.key, op: m.json === null ? 'delete' : 'set' }, m.json ?? '') : encodeFrame(m)));
  write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames));
});
const post = (m: FromChild): void => outbox.push(m);
// Without the name server there is nothing to answer: a child never outlives its pipe.
channel.on('end', () => process.exit(0));
channel.on('error', () => process.exit(0));

lockDown();
const log = makeLog((level, message, fields) => {
  const f = fields === undefined ? undefined : plainDetails(fields);
  post({ t: 'log', level, message: message.slice(0, 2000), ...(f === undefined ? {} : { fields: f }) });
});
globalThis.console = makeConsole(log);

const view = new RegistryView();
let mod: LoadedModule | undefined;
let ctx: ModuleContext | undefined;
let limits = { maxResultBytes: 0, maxStoreBytes: 0 };
let store: StoreMirror | undefined;
/** The snapshot being received (with the store's document), and the changes that arrive before init has finished. */
let snapshot: { store: string; revision: number; entries: EntryView[] } | undefined;
let early: ChangeBatch[] = [];
let ready = false;
const queries = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
let nextQuery = 1;

channel.on('data', (chunk: Buffer) => {
  // The name server is the one party the child trusts: its headers are taken as the types say.
  for (const f of reader.push(chunk)) receive(f.header as ToChild, f.payload);
});

function receive(m: ToChild, payload: string): void {
  switch (m.t) {
    case 'load':
      limits = { maxResultBytes: m.maxResultBytes, maxStoreBytes: m.maxStoreBytes };
      void load(m.path, payload);
      return;
    case 'start':
      snapshot = { store: payload, revision: m.revision, entries: m.entries };
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
    case 'stored':
      store?.settled(m.id, m.error);
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

/**
 * Imports the module from its source as a data: URL — the child may not read the file — named
 * by its path for stack traces. A module imports only `node:` built-ins: a relative import has
 * nothing to resolve against.
 */
async function load(path: string, source: string): Promise<void> {
  try {
    const named = `${source}\n//# sourceURL=${encodeURI(`file://${path}`)}\n`;
    const ns = (await import(`data:text/javascript;base64,${Buffer.from(named, 'utf8').toString('base64')}`)) as Record<string, unknown>;
    mod = readModule(ns);
    post({
      t: 'manifest', prefix: mod.prefix, version: mod.version, methods: mod.methods,
      hasInit: mod.init !== undefined, hasOnChange: mod.onChange !== undefined,
    });
  } catch (err) {
    // The child then waits: the name server reads this and stops it.
    post({ t: 'load-failed', cause: err instanceof ManifestError ? 'BAD_MANIFEST' : 'LOAD_FAILED', message: err instanceof ManifestError ? err.message : describe(err) });
  }
}

async function begin(): Promise<void> {
  const snap = snapshot;
  if (snap === undefined || mod === undefined) return;
  snapshot = undefined;
  try {
    view.load(snap.revision, snap.entries);
    store = new StoreMirror(snap.store, limits.maxStoreBytes, (id, key, json) => post({ t: 'store', id, key, json }));
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

async function answer(id: number, method: string, params: unknown, caller: ModuleCaller): Promise<void> {
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
  post(resultMessage(id, value, limits.maxResultBytes));
}

/** The ctx of a caller, made once per connection and kept (a frozen object per call shows in a profile). */
const callerContexts = new Map<string, ModuleContext>();
function contextFor(base: ModuleContext, caller: ModuleCaller): ModuleContext {
  const key = `${caller.conn}:${caller.admin ? 1 : 0}:${caller.owner ?? ''}`;
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
  // Writes the module asked for are on disk (the name server says so) before the process goes.
  await store?.flush();
  post({ t: 'stopped' });
  outbox.flush();
  channel.end(() => process.exit(0));
}
