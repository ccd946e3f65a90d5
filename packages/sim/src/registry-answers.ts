// What a client's answer means for the history. The checker needs to know, for each operation,
// whether it took effect with a known answer, was never applied, or may or may not have been:
//
// - a result, and the "negative" answers that still describe the registry (find's and
//   unadvertise's NOT_FOUND), are kept with their return time;
// - a write refused before anything was applied (NOT_PRIMARY, STORAGE_UNAVAILABLE, or a
//   connection that never opened) is dropped from the history: it did nothing;
// - a write whose outcome is unknown (no answer within the time limit, the connection lost with
//   it in flight, UNAVAILABLE, NO_QUORUM) is kept with no return (∞): it may have taken effect at
//   any time after its call, or never. NO_QUORUM is in this group because it is answered both
//   before applying (the primary hears no majority) and after (the record was applied but not
//   stored on a majority in time, PROTOCOL.md §19.1), and the wire does not say which;
// - a read that failed in any of these ways is dropped: it observed nothing.
//
// Any other code (FORBIDDEN, NOT_RUNNING, INVALID_PARAMS, ...) has no place in the model:
// `unexpected`, for the test to report.
import type { RegistryInput, RegistryOutput } from './registry-model.js';

/** An answer as the wire gave it: a result, or the error's stable code (`data.code`, or a client's local code). */
export type WireAnswer = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly code: string };

export type AnswerClass =
  | { readonly kind: 'answered'; readonly output: RegistryOutput }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'not-applied' }
  | { readonly kind: 'unexpected'; readonly code: string };

/** Refusals found before the write touched the registry. */
const NOT_APPLIED: ReadonlySet<string> = new Set(['NOT_PRIMARY', 'STORAGE_UNAVAILABLE', 'CONNECT_FAILED']);
/** Failures after which a write may or may not have been applied. */
const OUTCOME_UNKNOWN: ReadonlySet<string> = new Set(['TIMEOUT', 'CONNECTION_LOST', 'CLOSED', 'UNAVAILABLE', 'NO_QUORUM']);

/** Classifies `answer` to `input` by the rules above. */
export function classifyAnswer(input: RegistryInput, answer: WireAnswer): AnswerClass {
  if (answer.ok) {
    switch (input.op) {
      case 'advertise':
        return { kind: 'answered', output: { op: 'advertise' } };
      case 'unadvertise':
        return { kind: 'answered', output: { op: 'unadvertise', existed: true } };
      case 'find': {
        const address = foundAddress(answer.result);
        return address === null ? { kind: 'unexpected', code: 'BAD_RESULT' } : { kind: 'answered', output: { op: 'find', address } };
      }
    }
  }
  const { code } = answer;
  if (code === 'NOT_FOUND' && input.op === 'unadvertise') return { kind: 'answered', output: { op: 'unadvertise', existed: false } };
  if (code === 'NOT_FOUND' && input.op === 'find') return { kind: 'answered', output: { op: 'find', address: undefined } };
  if (NOT_APPLIED.has(code)) return { kind: 'not-applied' };
  if (OUTCOME_UNKNOWN.has(code)) return input.op === 'find' ? { kind: 'not-applied' } : { kind: 'unknown' };
  return { kind: 'unexpected', code };
}

/** HOST:PORT of a find's one location, undefined for none, null for a result of another shape. */
function foundAddress(result: unknown): string | undefined | null {
  const services = (result as { services?: unknown } | null)?.services;
  if (!Array.isArray(services) || services.length > 1) return null;
  if (services.length === 0) return undefined;
  const loc = services[0] as { host?: unknown; port?: unknown };
  return typeof loc.host === 'string' && typeof loc.port === 'number' ? `${loc.host}:${loc.port}` : null;
}
