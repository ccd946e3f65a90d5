// The messages between the name server and a module's worker thread. They are structured
// clones on a private MessageChannel; what comes from the worker is untrusted and is narrowed
// here before the name server acts on it.
import { MODULE_ERROR_CODES, type EntryView, type ErrorCode, type ModuleMethodInfo } from '@dpns/protocol';

/** What the worker is started with (its `workerData`). */
export interface WorkerStart {
  /** The module file, absolute. */
  path: string;
  maxResultBytes: number;
  maxStoreBytes: number;
  nice: number;
}

/** One durable change as a module's `onChange` sees it. */
export interface ModuleChange {
  revision: number;
  type: 'put' | 'delete';
  name: string;
  entry?: EntryView;
}

/** The changes of one durable revision. */
export interface ChangeBatch {
  revision: number;
  changes: ModuleChange[];
}

/** Who made a call, as a handler sees it in `ctx.caller`. */
export interface ModuleCaller {
  admin: boolean;
  /** The connection's number on this server, for logs and per-client state. */
  conn: number;
}

/** Name server → worker. */
export type ToWorker =
  /** After the manifest is accepted: the store file and the first slice of the registry at `revision`. */
  | { t: 'start'; storeFile: string; revision: number; entries: EntryView[]; more: boolean }
  /** The next slice of the registry snapshot. */
  | { t: 'entries'; entries: EntryView[]; more: boolean }
  | { t: 'changes'; batches: ChangeBatch[] }
  | { t: 'call'; id: number; method: string; params: unknown; caller: ModuleCaller }
  | { t: 'query-result'; id: number; result?: unknown; error?: { code: string; message: string } }
  | { t: 'ping'; seq: number }
  | { t: 'stop' };

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

/** Worker → name server. */
export type FromWorker =
  | { t: 'manifest'; prefix: string; version: string; methods: ModuleMethodInfo[]; hasInit: boolean; hasOnChange: boolean }
  | { t: 'load-failed'; cause: 'LOAD_FAILED' | 'BAD_MANIFEST'; message: string }
  | { t: 'ready' }
  | { t: 'init-failed'; message: string }
  | { t: 'result'; id: number; json: string }
  | { t: 'error'; id: number; code: ErrorCode; cause?: 'THREW' | 'BAD_RESULT'; message: string; details?: Record<string, unknown> }
  | { t: 'query'; id: number; method: string; params: unknown }
  | { t: 'log'; level: LogLevelName; message: string; fields?: Record<string, unknown> }
  | { t: 'pong'; seq: number }
  | { t: 'stopped' };

const MAX_TEXT = 2000;
const MAX_DETAILS_BYTES = 4096;
const LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error']);

type Raw = Record<string, unknown>;

const text = (v: unknown): string | undefined => (typeof v === 'string' ? (v.length > MAX_TEXT ? `${v.slice(0, MAX_TEXT)}…` : v) : undefined);
const id = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined);

/** A plain object small enough to log or to put in an error's data; anything else is dropped. */
function smallObject(v: unknown): Record<string, unknown> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(v);
  } catch {
    return undefined;
  }
  if (json === undefined || json.length > MAX_DETAILS_BYTES) return undefined;
  return Object.assign(Object.create(null) as Record<string, unknown>, JSON.parse(json) as Record<string, unknown>);
}

function methodList(v: unknown): ModuleMethodInfo[] | undefined {
  if (!Array.isArray(v) || v.length > 1000) return undefined;
  const out: ModuleMethodInfo[] = [];
  for (const m of v as unknown[]) {
    if (typeof m !== 'object' || m === null) return undefined;
    const { name, description, admin } = m as Raw;
    const d = text(description);
    if (typeof name !== 'string' || d === undefined || typeof admin !== 'boolean') return undefined;
    out.push({ name, description: d, admin });
  }
  return out;
}

/** Narrows a message from a worker; undefined when it is not one the name server sent for. */
export function parseFromWorker(v: unknown): FromWorker | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Raw;
  switch (m.t) {
    case 'manifest': {
      const methods = methodList(m.methods);
      const version = text(m.version);
      if (typeof m.prefix !== 'string' || version === undefined || methods === undefined) return undefined;
      return { t: 'manifest', prefix: m.prefix.slice(0, 64), version, methods, hasInit: m.hasInit === true, hasOnChange: m.hasOnChange === true };
    }
    case 'load-failed': {
      const message = text(m.message) ?? 'no reason given';
      return { t: 'load-failed', cause: m.cause === 'BAD_MANIFEST' ? 'BAD_MANIFEST' : 'LOAD_FAILED', message };
    }
    case 'ready':
    case 'stopped':
      return { t: m.t };
    case 'init-failed':
      return { t: 'init-failed', message: text(m.message) ?? 'no reason given' };
    case 'result': {
      const i = id(m.id);
      if (i === undefined || typeof m.json !== 'string') return undefined;
      return { t: 'result', id: i, json: m.json };
    }
    case 'error': {
      const i = id(m.id);
      if (i === undefined) return undefined;
      const message = text(m.message) ?? 'the module gave no message';
      // Only the codes a module may use pass through; anything else is the module failing.
      if (typeof m.code === 'string' && MODULE_ERROR_CODES.has(m.code as ErrorCode)) {
        const details = smallObject(m.details);
        return { t: 'error', id: i, code: m.code as ErrorCode, message, ...(details === undefined ? {} : { details }) };
      }
      return { t: 'error', id: i, code: 'MODULE_FAILED', cause: m.cause === 'BAD_RESULT' ? 'BAD_RESULT' : 'THREW', message };
    }
    case 'query': {
      const i = id(m.id);
      if (i === undefined || typeof m.method !== 'string') return undefined;
      return { t: 'query', id: i, method: m.method.slice(0, 64), params: m.params };
    }
    case 'log': {
      const message = text(m.message);
      if (typeof m.level !== 'string' || !LEVELS.has(m.level) || message === undefined) return undefined;
      const fields = smallObject(m.fields);
      return { t: 'log', level: m.level as LogLevelName, message, ...(fields === undefined ? {} : { fields }) };
    }
    case 'pong': {
      const seq = id(m.seq);
      return seq === undefined ? undefined : { t: 'pong', seq };
    }
    default:
      return undefined;
  }
}
