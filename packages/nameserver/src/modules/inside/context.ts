// The `ctx` a module's handlers, init and onChange receive: the registry (read-only), its own
// store, queries answered by the name server, a logger, and a way to refuse with a protocol
// code. Frozen, and made of closures: nothing in it reaches the child's own machinery.
import { format } from 'node:util';
import { DpnsError, MODULE_ERROR_CODES, type ErrorCode } from '@dpns/protocol';
import type { ModuleCaller } from '../wire.js';
import type { ModuleStoreApi } from './store-mirror.js';
import type { ModuleRegistry } from './view.js';

/** A module's logger; lines go to the name server's log, tagged with the module's prefix. */
export interface ModuleLog {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The read-only methods a module may ask the name server itself (an up-to-the-moment answer). */
export type QueryMethod = 'ping' | 'listServices' | 'findServices' | 'serviceState';

export interface ModuleContext {
  readonly prefix: string;
  readonly version: string;
  readonly registry: ModuleRegistry;
  readonly store: ModuleStoreApi;
  readonly log: ModuleLog;
  /** Asks the name server; findServices never launches from a module. */
  query(method: QueryMethod, params?: Record<string, unknown>): Promise<unknown>;
  /** An error to throw that answers the caller with `code` (NOT_FOUND, INVALID_PARAMS, ...). */
  error(code: ErrorCode, message: string, details?: Record<string, unknown>): Error;
  /** Set in handlers only: who is calling. */
  readonly caller?: ModuleCaller;
}

export interface ContextParts {
  prefix: string;
  version: string;
  registry: ModuleRegistry;
  store: ModuleStoreApi;
  log: ModuleLog;
  query: ModuleContext['query'];
}

/** The shared part of every ctx. */
export function makeContext(parts: ContextParts): ModuleContext {
  return Object.freeze({
    ...parts,
    error(code: ErrorCode, message: string, details?: Record<string, unknown>): Error {
      const c: ErrorCode = MODULE_ERROR_CODES.has(code) ? code : 'MODULE_FAILED';
      return new DpnsError(c, String(message), details === undefined ? undefined : { details });
    },
  });
}

/** The ctx of one call: the shared one plus who is calling. */
export function callContext(base: ModuleContext, caller: ModuleCaller): ModuleContext {
  return Object.freeze({ ...base, caller: Object.freeze({ ...caller }) });
}

/** A logger that posts through `send`, at most `perSecond` lines a second (bursts of twice that). */
export function makeLog(send: (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void, perSecond = 50): ModuleLog {
  let tokens = perSecond * 2;
  let last = Date.now();
  const emit = (level: 'debug' | 'info' | 'warn' | 'error') => (message: unknown, fields?: unknown): void => {
    const now = Date.now();
    tokens = Math.min(perSecond * 2, tokens + ((now - last) * perSecond) / 1000);
    last = now;
    if (tokens < 1) return;
    tokens -= 1;
    const f = typeof fields === 'object' && fields !== null && !Array.isArray(fields) ? (fields as Record<string, unknown>) : undefined;
    send(level, typeof message === 'string' ? message : format(message), f);
  };
  return Object.freeze({ debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') });
}

/** A `console` for module code: its lines go to the same rate-limited log instead of the process's stdout. */
export function makeConsole(log: ModuleLog): Console {
  const line = (level: keyof ModuleLog) => (...args: unknown[]): void => log[level](format(...args));
  const c = {
    log: line('info'), info: line('info'), debug: line('debug'), trace: line('debug'), warn: line('warn'), error: line('error'),
    dir: line('info'), table: line('info'), assert: (ok: unknown, ...args: unknown[]) => {
      if (!ok) log.error(`Assertion failed${args.length > 0 ? `: ${format(...args)}` : ''}`);
    },
    time: () => undefined, timeEnd: () => undefined, timeLog: () => undefined, count: () => undefined, countReset: () => undefined,
    group: () => undefined, groupEnd: () => undefined, groupCollapsed: () => undefined,
  };
  return c as unknown as Console;
}
