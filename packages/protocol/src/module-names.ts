// How a call `<prefix>.<method>` names an external module, and the prefixes no module may take:
// the first segment of every method in the table (lowercased, so `findservices` cannot pose as
// `findServices`), derived from it so a new method is shielded without a second list.
import { METHOD_NAMES } from './methods.js';
import { prefixRuleProblem } from './modules.js';

/** Reserved beyond the methods: the server's own frames (`hello`, `ticket.*`), JSON-RPC's `rpc.`, `dpns`, and `peer` (cluster links). */
const RESERVED_BEYOND_METHODS = ['ticket', 'hello', 'rpc', 'dpns', 'peer'] as const;

/** Prefixes no module may take (PROTOCOL.md §18.3). */
export const RESERVED_PREFIXES: ReadonlySet<string> = new Set([
  ...METHOD_NAMES.map((m) => (m.split('.')[0] as string).toLowerCase()),
  ...RESERVED_BEYOND_METHODS,
]);

/** A module method: an identifier a module can export as a handler. */
const METHOD = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Why `prefix` cannot be a module prefix, or undefined when it can. */
export function prefixProblem(prefix: unknown): string | undefined {
  const broken = prefixRuleProblem(prefix);
  if (broken !== undefined) return broken;
  if (RESERVED_PREFIXES.has(prefix as string)) return `the prefix ${JSON.stringify(prefix)} is reserved for the name server's own methods`;
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
