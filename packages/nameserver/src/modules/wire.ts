// The messages between the name server and a module's child process, as frame headers (see
// frames.ts; a frame's payload carries the text named in a message's comment). What comes from
// the child is untrusted — the module's code can write any bytes to its pipe — and is narrowed
// here before the name server acts on it.
import { MODULE_ERROR_CODES, type EntryView, type ErrorCode, type ModuleMethodInfo } from '@dpns/protocol';
import type { Frame } from './frames.js';

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
  /** The connection logged in with the admin credential. */
  admin: boolean;
  /** The connection's number on this server, for logs and per-client state. */
  conn: number;
  /** The Ed25519 public key (hex) the connection proved with `identify`; null when it proved none. */
  owner: string | null;
}

/** Name server → child. */
export type ToChild =
  /** The first message: the module's source is the payload (the child reads no file of its own). */
  | { t: 'load'; path: string; maxResultBytes: number; maxStoreBytes: number }
  /** After the manifest is accepted: the first slice of the registry at `revision`; the payload is the store's document (store.ts). */
  | { t: 'start'; revision: number; entries: EntryView[]; more: boolean }
  /** The next slice of the registry snapshot. */
  | { t: 'entries'; entries: EntryView[]; more: boolean }
  | { t: 'changes'; batches: ChangeBatch[] }
  | { t: 'call'; id: number; method: string; params: unknown; caller: ModuleCaller }
  | { t: 'query-result'; id: number; result?: unknown; error?: { code: string; message: string } }
  /** A store write is on disk (or refused, with why). */
  | { t: 'stored'; id: number; error?: { code: string; message: string } }
  | { t: 'ping'; seq: number }
  | { t: 'stop' };

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

/** Child → name server. */
export type FromChild =
  | { t: 'manifest'; prefix: string; version: string; methods: ModuleMethodInfo[]; hasInit: boolean; hasOnChange: boolean }
  | { t: 'load-failed'; cause: 'LOAD_FAILED' | 'BAD_MANIFEST'; message: string }
  | { t: 'ready' }
  | { t: 'init-failed'; message: string }
  /** An answer; `json` is the frame's payload. */
  | { t: 'result'; id: number; json: string }
  | { t: 'error'; id: number; code: ErrorCode; cause?: 'THREW' | 'BAD_RESULT'; message: string; details?: Record<string, unknown> }
  | { t: 'query'; id: number; method: string; params: unknown }
  /** A store write: `json` (the payload) is the value's JSON text, or null to delete `key`. */
  | { t: 'store'; id: number; key: string; json: string | null }
  | { t: 'log'; level: LogLevelName; message: string; fields?: Record<string, unknown> }
  | { t: 'pong'; seq: number }
  | { t: 'stopped' };

const MAX_TEXT = 2000;
const MAX_DETAILS_BYTES = 4096;
const LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error']);

type Raw = Record<string, unknown>;

const text = (v: unknown): string | undefined => (typeof v === 'string' ? (v.length > MAX_TEXT ? `${v.slice(0, MAX_TEXT)}…` : v) : undefined);
const id = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined);

/**
 * The text is one JSON value. An answer goes to the client as it is (rpc.ts splices it into the
 * response), so a forged one must not be able to end the response early or add members to it.
 */
function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return text.length > 0;
  } catch {
    return false;
  }
}

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

/** Narrows a frame from a child; undefined when it is not a message the name server knows. */
export function parseFromChild(frame: Frame): FromChild | undefined {
  const v = frame.header;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
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
      if (i === undefined || !isJson(frame.payload)) return undefined;
      return { t: 'result', id: i, json: frame.payload };
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
    case 'store': {
      const i = id(m.id);
      if (i === undefined || typeof m.key !== 'string') return undefined;
      if (m.op === 'delete') return { t: 'store', id: i, key: m.key, json: null };
      if (m.op !== 'set' || !isJson(frame.payload)) return undefined;
      return { t: 'store', id: i, key: m.key, json: frame.payload };
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
