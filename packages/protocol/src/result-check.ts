// Answers from the wire held to the method table's result schemas, compiled once each: the
// client's guard against a server that answers something else. Result objects admit members
// they do not declare, so a newer server may add some.
import type { TSchema } from '@sinclair/typebox';

import { METHODS, type MethodName, type Result } from './methods.js';
import { TypeCompiler } from './typebox.js';

const compiled = new WeakMap<TSchema, (v: unknown) => boolean>();

/** Whether `v` has the shape `schema` describes. */
export function conforms(schema: TSchema, v: unknown): boolean {
  let check = compiled.get(schema);
  if (check === undefined) {
    const c = TypeCompiler.Compile(schema);
    check = (x) => c.Check(x);
    compiled.set(schema, check);
  }
  return check(v);
}

/** Whether `v` is a result of `method`. */
export function isResultOf<M extends MethodName>(method: M, v: unknown): v is Result<M> {
  return conforms(METHODS[method].result, v);
}
