// Reads a module's exports into what the child runs: its manifest (prefix, version, methods),
// one handler per declared method, and the optional init/onChange hooks. Inside the child.
import { moduleMethodProblem, prefixProblem, RESERVED_PREFIXES, type ModuleMethodInfo } from '@dpns/protocol';

/** A handler as a module writes it. */
export type ModuleHandler = (params: unknown, ctx: unknown) => unknown;

export interface LoadedModule {
  prefix: string;
  version: string;
  methods: ModuleMethodInfo[];
  /** By method name; a Map, so "constructor" or "toString" can only be a module's own handler. */
  handlers: Map<string, ModuleHandler>;
  init?: (ctx: unknown) => unknown;
  onChange?: (change: unknown, ctx: unknown) => unknown;
}

/** A manifest that cannot be used; the message says which export and what is wrong. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function plainObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ManifestError(`${what} must be an object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  return v as Record<string, unknown>;
}

/** Checks the module namespace `ns` and returns what the child needs from it. */
export function readModule(ns: Record<string, unknown>): LoadedModule {
  if (!own(ns, 'manifest')) throw new ManifestError('the module does not export `manifest` (export const manifest = { prefix, version, methods })');
  if (!own(ns, 'handlers')) throw new ManifestError('the module does not export `handlers` (export const handlers = { method(params, ctx) { ... } })');
  const manifest = plainObject(ns.manifest, 'manifest');
  const prefixWhy = prefixProblem(manifest.prefix);
  // A reserved prefix is the name server's to refuse, with its own cause; only the form is checked here.
  if (typeof manifest.prefix !== 'string' || (prefixWhy !== undefined && !RESERVED_PREFIXES.has(manifest.prefix))) {
    throw new ManifestError(`manifest.prefix: ${prefixWhy ?? 'missing'}`);
  }
  const version = manifest.version;
  if (typeof version !== 'string' || version === '' || version.length > 64) {
    throw new ManifestError(`manifest.version must be a string of 1 to 64 characters, like "1.0.0"`);
  }
  const declared = plainObject(manifest.methods, 'manifest.methods');
  const handlerObj = plainObject(ns.handlers, 'handlers');
  const methods: ModuleMethodInfo[] = [];
  const handlers = new Map<string, ModuleHandler>();
  for (const name of Object.keys(declared)) {
    const why = moduleMethodProblem(name);
    if (why !== undefined) throw new ManifestError(`manifest.methods: ${why}`);
    const m = plainObject(declared[name], `manifest.methods.${name}`);
    const description = m.description ?? '';
    if (typeof description !== 'string' || description.length > 500) throw new ManifestError(`manifest.methods.${name}.description must be a string of at most 500 characters`);
    if (m.admin !== undefined && typeof m.admin !== 'boolean') throw new ManifestError(`manifest.methods.${name}.admin must be true or false`);
    const fn = own(handlerObj, name) ? handlerObj[name] : undefined;
    if (typeof fn !== 'function') throw new ManifestError(`manifest.methods declares ${name}, but handlers.${name} is not a function`);
    methods.push({ name, description, admin: m.admin === true });
    handlers.set(name, fn as ModuleHandler);
  }
  if (methods.length === 0) throw new ManifestError('manifest.methods declares no method');
  for (const name of Object.keys(handlerObj)) {
    if (!handlers.has(name)) throw new ManifestError(`handlers.${name} is not declared in manifest.methods (declare it, with a description)`);
  }
  const out: LoadedModule = { prefix: manifest.prefix, version, methods, handlers };
  for (const hook of ['init', 'onChange'] as const) {
    if (!own(ns, hook) || ns[hook] === undefined) continue;
    if (typeof ns[hook] !== 'function') throw new ManifestError(`the export \`${hook}\` must be a function`);
    out[hook] = ns[hook] as never;
  }
  return out;
}
