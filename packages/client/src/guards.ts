// Runtime checks for the shapes the server answers with: each method's result schema from the
// method table (@dpns/protocol METHODS), compiled once, and the entry of a watch event.
import { conforms, EntryViewSchema, isResultOf, type EntryView, type MethodName, type Result } from '@dpns/protocol';
import { badResponse } from './local-errors.js';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isEntryView(v: unknown): v is EntryView {
  return conforms(EntryViewSchema, v);
}

/** Narrows a result from the wire; throws BAD_RESPONSE naming the method when it does not fit. */
export function checkResult<M extends MethodName>(method: M, result: unknown): Result<M> {
  if (!isResultOf(method, result)) {
    throw badResponse(`the server's answer to ${method} does not have the expected shape`);
  }
  return result;
}
