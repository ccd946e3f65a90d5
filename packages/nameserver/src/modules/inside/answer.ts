// Turning what a module's handler did into the message the name server gets: its answer as
// JSON text (made here, in the child, so a big answer costs the module's process and not the
// name server's), or an error with a protocol code the module may use, or MODULE_FAILED.
import { MODULE_ERROR_CODES, type ErrorCode } from '@dpns/protocol';
import type { FromChild } from '../wire.js';

// Taken before any module code runs: a module that replaces JSON.stringify cannot forge an answer.
const stringify = JSON.stringify;
const parse = JSON.parse;

/** The answer message for `value`, or a BAD_RESULT error when it is not JSON or too large. */
export function resultMessage(id: number, value: unknown, maxBytes: number): FromChild {
  let json: string | undefined;
  try {
    json = value === undefined ? 'null' : stringify(value);
  } catch (err) {
    return { t: 'error', id, code: 'MODULE_FAILED', cause: 'BAD_RESULT', message: `the handler's answer is not JSON: ${describe(err)}` };
  }
  if (json === undefined) return { t: 'error', id, code: 'MODULE_FAILED', cause: 'BAD_RESULT', message: 'the handler answered with a function or a symbol, not JSON' };
  if (json.length > maxBytes) {
    return { t: 'error', id, code: 'MODULE_FAILED', cause: 'BAD_RESULT', message: `the handler's answer is ${json.length} bytes of JSON, over the limit of ${maxBytes}` };
  }
  return { t: 'result', id, json };
}

/** The error message for something a handler threw. */
export function errorMessage(id: number, err: unknown): FromChild {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && MODULE_ERROR_CODES.has(code as ErrorCode)) {
    const details = plainDetails((err as { details?: unknown }).details);
    return { t: 'error', id, code: code as ErrorCode, message: messageOf(err), ...(details === undefined ? {} : { details }) };
  }
  return { t: 'error', id, code: 'MODULE_FAILED', cause: 'THREW', message: describe(err) };
}

/** "TypeError: Cannot assign to read only property ..." */
export function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  try {
    return `threw ${typeof err === 'string' ? err : stringify(err) ?? String(err)}`;
  } catch {
    return `threw ${String(err)}`;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String((err as { message?: unknown } | null)?.message ?? err);
}

/** A JSON copy of small plain details, or undefined. */
export function plainDetails(v: unknown): Record<string, unknown> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  try {
    const json = stringify(v);
    return json !== undefined && json.length <= 4096 ? (parse(json) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
