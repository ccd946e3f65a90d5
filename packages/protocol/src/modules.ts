// External modules as the protocol sees them: the prefix rule, a call's params, the errors a
// module may answer with, and what `modules.list` reports. Which prefixes are reserved, and how
// a call `<prefix>.<method>` names its module, is module-names.ts (it needs the method table).
import type { Static } from '@sinclair/typebox';
import { Type } from './typebox.js';
import { oneOf } from './entries.js';
import { DpnsError, type ErrorCode } from './errors.js';

/** A module prefix: a lowercase letter, then up to 31 lowercase letters, digits or dashes. */
export const MODULE_PREFIX_RULE = '[a-z][a-z0-9-]{0,31}';
const PREFIX = /^[a-z][a-z0-9-]{0,31}$/;

/** Why `prefix` breaks the prefix rule, or undefined when it keeps it (reserved or not: module-names.ts says which are). */
export function prefixRuleProblem(prefix: unknown): string | undefined {
  if (typeof prefix === 'string' && PREFIX.test(prefix)) return undefined;
  const shown = typeof prefix === 'string' ? JSON.stringify(prefix.slice(0, 64)) : typeof prefix;
  return `a module prefix must match ${MODULE_PREFIX_RULE} (a lowercase letter, then at most 31 lowercase letters, digits or dashes), got ${shown}`;
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
export const MODULE_STATES = ['loading', 'running', 'restarting', 'failed'] as const;
export type ModuleState = (typeof MODULE_STATES)[number];

/** Values of MODULE_FAILED's `data.cause`, and of a module's `lastError.cause`. */
export const MODULE_FAILURE_CAUSES = [
  /** The module file could not be imported (it threw at top level, or does not parse). */
  'LOAD_FAILED',
  /** Its `manifest` or `handlers` export is missing or malformed. */
  'BAD_MANIFEST',
  /** Its prefix is reserved for a built-in method. */
  'PREFIX_RESERVED',
  /** Its `init(ctx)` threw, or its store file could not be read. */
  'INIT_FAILED',
  /** A handler threw something without a protocol error code. */
  'THREW',
  /** A handler answered with something that is not JSON, or too large. */
  'BAD_RESULT',
  /** Loading or a call ran past its time limit; the worker was stopped. */
  'TIMEOUT',
  /** The worker stopped answering its liveness pings (a loop outside any call). */
  'UNRESPONSIVE',
  /** The worker reached its memory limit and was stopped. */
  'OUT_OF_MEMORY',
  /** The worker died: an uncaught exception, process.exit, a stack overflow. */
  'CRASHED',
  /** The call was in flight when the worker was stopped for another reason. */
  'RESTARTED',
  /** The module is restarting; retry after `data.retryAfterMs`. */
  'RESTARTING',
  /** The module is `failed` and answers nothing until it is reloaded. */
  'FAILED',
  /** The module was unloaded while the call was in flight. */
  'UNLOADED',
] as const;
export type ModuleFailureCause = (typeof MODULE_FAILURE_CAUSES)[number];

/** One method a module offers, from its manifest. */
export const ModuleMethodInfo = Type.Object({
  name: Type.String(),
  description: Type.String(),
  admin: Type.Boolean({ description: 'True when only an admin connection may call it.' }),
}, { title: 'ModuleMethodInfo' });
export type ModuleMethodInfo = Static<typeof ModuleMethodInfo>;

/** A module as `modules.list` reports it. */
export const ModuleInfo = Type.Object({
  prefix: Type.Union([Type.String(), Type.Null()], { description: 'Null when the file failed before it could say (it threw at import).' }),
  path: Type.String({ description: 'The module file, absolute, on the name server\'s host.' }),
  version: Type.Union([Type.String(), Type.Null()]),
  state: oneOf(MODULE_STATES),
  since: Type.Number({ description: 'Epoch milliseconds when it entered `state`.' }),
  restarts: Type.Integer({ description: 'Times its worker was restarted since it was loaded.' }),
  crashes: Type.Integer({ description: 'Failures in a row; it is `failed` once this passes the server\'s limit.' }),
  calls: Type.Integer(),
  errors: Type.Integer({ description: 'Calls answered with an error (a handler\'s own refusal included).' }),
  timeouts: Type.Integer(),
  lastError: Type.Optional(Type.Object({ at: Type.Number(), cause: oneOf(MODULE_FAILURE_CAUSES), message: Type.String() })),
  methods: Type.Array(ModuleMethodInfo),
}, { title: 'ModuleInfo' });
export type ModuleInfo = Static<typeof ModuleInfo>;

/** How `modules.unload` and `modules.reload` name a module: by prefix, or by file for one that failed before it had a prefix. */
export type ModuleTarget = { prefix: string } | { path: string };
