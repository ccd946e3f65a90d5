// External modules as the protocol sees them: the prefix rule, how a call `<prefix>.<method>`
// names its module, the errors a module may answer with, and what `modules.list` reports.
import { DpnsError, type ErrorCode } from './errors.js';

/** A module prefix: a lowercase letter, then up to 31 lowercase letters, digits or dashes. */
export const MODULE_PREFIX_RULE = '[a-z][a-z0-9-]{0,31}';
const PREFIX = /^[a-z][a-z0-9-]{0,31}$/;
/** A module method: an identifier a module can export as a handler. */
const METHOD = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * Prefixes no module may take: the first segment of every built-in method (lowercased, so
 * `findservices` cannot pose as `findServices`), the server's own notifications, and JSON-RPC's
 * reserved `rpc.`. methods.test.ts checks that every built-in method is covered.
 */
export const RESERVED_PREFIXES: ReadonlySet<string> = new Set([
  'login', 'identify', 'ping', 'listservices', 'findservices', 'servicestate', 'watch', 'unwatch', 'advertiseservice',
  'unadvertiseservice', 'reportload', 'launchservice', 'killservice', 'resetservice', 'authenticateservice', 'register', 'modules',
  'ticket', 'hello', 'rpc', 'dpns', 'servers', 'peer', 'agents',
]);

/** Why `prefix` cannot be a module prefix, or undefined when it can. */
export function prefixProblem(prefix: unknown): string | undefined {
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    const shown = typeof prefix === 'string' ? JSON.stringify(prefix.slice(0, 64)) : typeof prefix;
    return `a module prefix must match ${MODULE_PREFIX_RULE} (a lowercase letter, then at most 31 lowercase letters, digits or dashes), got ${shown}`;
  }
  if (RESERVED_PREFIXES.has(prefix)) return `the prefix ${JSON.stringify(prefix)} is reserved for the name server's own methods`;
  return undefined;
}

/** Why `name` cannot be a module method name, or undefined when it can. */
export function moduleMethodProblem(name: unknown): string | undefined {
  if (typeof name === 'string' && METHOD.test(name)) return undefined;
  return `a module method name must match [A-Za-z][A-Za-z0-9_]{0,63}, got ${typeof name === 'string' ? JSON.stringify(name.slice(0, 64)) : typeof name}`;
}

/** A call's method split into the module that answers it and the method inside that module. */
export interface ModuleCallName {
  prefix: string;
  method: string;
}

/**
 * Splits "dir.lookup" into {prefix: "dir", method: "lookup"}; undefined when the name cannot be
 * a module call (no dot, a bad or reserved prefix, a bad method name).
 */
export function parseModuleMethod(name: string): ModuleCallName | undefined {
  const dot = name.indexOf('.');
  if (dot <= 0) return undefined;
  const prefix = name.slice(0, dot);
  const method = name.slice(dot + 1);
  if (prefixProblem(prefix) !== undefined || moduleMethodProblem(method) !== undefined) return undefined;
  return { prefix, method };
}

/** A module call's params: a JSON object or array, `{}` when omitted. The module checks the rest. */
export function parseModuleParams(raw: unknown): unknown {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null) {
    throw new DpnsError('INVALID_PARAMS', `params: expected an object or an array, got ${raw === null ? 'null' : typeof raw}`, { details: { field: 'params' } });
  }
  return raw;
}

/**
 * The codes a module's handler may answer with by throwing an error whose `code` is one of them
 * (ctx.error(code, message) makes one). Anything else a handler throws is MODULE_FAILED.
 */
export const MODULE_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INVALID_PARAMS', 'NOT_FOUND', 'ALREADY_EXISTS', 'WRONG_KIND', 'IN_USE', 'INVALID_NAME', 'INVALID_PATTERN', 'ALIAS_CYCLE',
  'NOT_RUNNING', 'FORBIDDEN', 'UNAUTHORIZED', 'LIMIT_EXCEEDED', 'UNAVAILABLE', 'RATE_LIMITED',
]);

/**
 * Where a module is in its life: `loading` (importing, reading the registry, running init),
 * `running`, `restarting` (its worker died or was stopped; a new one follows after a back-off),
 * `failed` (it could not load, or crashed too often in a row; `modules reload` tries again).
 */
export type ModuleState = 'loading' | 'running' | 'restarting' | 'failed';

/** Values of MODULE_FAILED's `data.cause`, and of a module's `lastError.cause`. */
export type ModuleFailureCause =
  /** The module file could not be imported (it threw at top level, or does not parse). */
  | 'LOAD_FAILED'
  /** Its `manifest` or `handlers` export is missing or malformed. */
  | 'BAD_MANIFEST'
  /** Its prefix is reserved for a built-in method. */
  | 'PREFIX_RESERVED'
  /** Its `init(ctx)` threw, or its store file could not be read. */
  | 'INIT_FAILED'
  /** A handler threw something without a protocol error code. */
  | 'THREW'
  /** A handler answered with something that is not JSON, or too large. */
  | 'BAD_RESULT'
  /** Loading or a call ran past its time limit; the worker was stopped. */
  | 'TIMEOUT'
  /** The worker stopped answering its liveness pings (a loop outside any call). */
  | 'UNRESPONSIVE'
  /** The worker reached its memory limit and was stopped. */
  | 'OUT_OF_MEMORY'
  /** The worker died: an uncaught exception, process.exit, a stack overflow. */
  | 'CRASHED'
  /** The call was in flight when the worker was stopped for another reason. */
  | 'RESTARTED'
  /** The module is restarting; retry after `data.retryAfterMs`. */
  | 'RESTARTING'
  /** The module is `failed` and answers nothing until it is reloaded. */
  | 'FAILED'
  /** The module was unloaded while the call was in flight. */
  | 'UNLOADED';

/** One method a module offers, from its manifest. */
export interface ModuleMethodInfo {
  name: string;
  description: string;
  /** True when only an admin connection may call it. */
  admin: boolean;
}

/** A module as `modules.list` reports it. */
export interface ModuleInfo {
  /** Null when the file failed before it could say (it threw at import). */
  prefix: string | null;
  /** The module file, absolute, on the name server's host. */
  path: string;
  version: string | null;
  state: ModuleState;
  /** Epoch milliseconds when it entered `state`. */
  since: number;
  /** Times its worker was restarted since it was loaded. */
  restarts: number;
  /** Failures in a row; it is `failed` once this passes the server's limit. */
  crashes: number;
  calls: number;
  /** Calls answered with an error (a handler's own refusal included). */
  errors: number;
  timeouts: number;
  lastError?: { at: number; cause: ModuleFailureCause; message: string };
  methods: ModuleMethodInfo[];
}

/** How `modules.unload` and `modules.reload` name a module: by prefix, or by file for one that failed before it had a prefix. */
export type ModuleTarget = { prefix: string } | { path: string };
