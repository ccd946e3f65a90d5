// Params from untrusted JSON to typed values: the schema's compiled check first (the request path
// of every call), then defaults, then a method's own last step. Only a refused value takes the
// slow walk that says, in PROTOCOL.md's words, what is wrong with it.
import type { Static, TObject, TProperties, TSchema } from '@sinclair/typebox';
import { DpnsError } from './errors.js';
import { explainObject, nullAbsentKeys, type DefaultMark } from './param-fields.js';
import { TypeCompiler } from './typebox.js';

type DefaultedKeys<P extends TProperties> = { [K in keyof P]: P[K] extends DefaultMark ? K : never }[keyof P];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The params a method's handler gets: what the schema admits, with every defaulted member present. */
export type Parsed<T extends TObject> = Simplify<
  Omit<Static<T>, DefaultedKeys<T['properties']>> & { [K in DefaultedKeys<T['properties']>]-?: Static<T['properties'][K]> }
>;

type Obj = Record<string, unknown>;

/**
 * A fresh copy of a value the schema admitted, with defaults filled in: only declared members,
 * maps (`env`) on a null prototype, arrays copied, so nothing of the caller's object is kept.
 */
function builder(schema: TSchema): (v: unknown) => unknown {
  if (schema.type === 'object' && schema.properties !== undefined) {
    const parts = Object.entries(schema.properties as TProperties).map(([k, s]) => ({
      k, build: builder(s), hasDefault: Object.prototype.hasOwnProperty.call(s, 'default'), dflt: s.default as unknown,
    }));
    return (v) => {
      const o = v as Obj;
      const out: Obj = {};
      for (const p of parts) {
        const x = o[p.k];
        if (x !== undefined) out[p.k] = p.build(x);
        else if (p.hasDefault) out[p.k] = p.build(p.dflt);
      }
      return out;
    };
  }
  if (schema.type === 'object') return (v) => Object.assign(Object.create(null) as Obj, v);
  if (schema.type === 'array') return (v) => (v as unknown[]).slice();
  return (v) => v;
}

/**
 * The parser of one method's params. Omitted or null params mean "no params": JSON-RPC allows
 * it, and `ping` needs none. `finish` checks what spans members and shapes the handler's value.
 */
export function paramParser<P extends TObject, O>(schema: P, finish: ((p: Parsed<P>) => O) | undefined): (raw: unknown) => O {
  let compiled: { check: (v: unknown) => boolean; first: (v: unknown) => { path: string; message: string } | undefined; build: (v: unknown) => unknown; nullable: string[] } | undefined;
  return (raw) => {
    // Compiled on first use: a CLI that sends one request compiles one schema.
    compiled ??= (() => {
      const c = TypeCompiler.Compile(schema);
      return { check: (v: unknown) => c.Check(v), first: (v: unknown) => c.Errors(v).First(), build: builder(schema), nullable: nullAbsentKeys(schema) };
    })();
    let v: unknown = raw ?? {};
    if (!compiled.check(v)) {
      v = withoutNulls(v, compiled.nullable);
      if (!compiled.check(v)) throw refusal(schema, v, compiled.first(v));
    }
    const p = compiled.build(v) as Parsed<P>;
    return finish === undefined ? (p as O) : finish(p);
  };
}

/** `v` without its null members where null means left out; `v` itself when it has none. */
function withoutNulls(v: unknown, keys: readonly string[]): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !keys.some((k) => (v as Obj)[k] === null)) return v;
  const copy = { ...(v as Obj) };
  for (const k of keys) if (copy[k] === null) delete copy[k];
  return copy;
}

function refusal(schema: TObject, v: unknown, first: { path: string; message: string } | undefined): DpnsError {
  try {
    explainObject(schema, v, 'params');
  } catch (e) {
    if (e instanceof DpnsError) return e;
    throw e;
  }
  // The walk and the schema disagree (param-fields.test.ts looks for that): say what the schema says.
  const field = `params${(first?.path ?? '').replaceAll('/', '.')}`;
  return new DpnsError('INVALID_PARAMS', `${field}: ${first?.message ?? 'not valid'}`, { details: { field } });
}
