// Service names: absolute paths of `[A-Za-z0-9._-]` segments, as DESIGN.md says.
import { DpnsError } from './errors.js';

/** The longest name accepted, in bytes (names are ASCII, so also characters). */
export const MAX_NAME_BYTES = 255;

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** The reason `name` is not a valid service name, or undefined if it is one. */
export function nameProblem(name: unknown): string | undefined {
  if (name === undefined) return 'a name is required (the field is missing)';
  if (typeof name !== 'string') return `a name must be a string, got ${typeof name}`;
  if (name.length === 0) return 'a name must not be empty';
  if (name.length > MAX_NAME_BYTES) return `a name is at most ${MAX_NAME_BYTES} bytes, got ${name.length}`;
  if (name[0] !== '/') return `a name must start with "/" (got ${JSON.stringify(clip(name))})`;
  if (name === '/') return 'a name needs at least one segment after "/"';
  const segments = name.slice(1).split('/');
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] ?? '';
    if (seg === '') return `empty segment at position ${i + 1} in ${JSON.stringify(clip(name))} (no "//" or trailing "/")`;
    if (seg === '.' || seg === '..') return `segment "${seg}" is not allowed in ${JSON.stringify(clip(name))}`;
    if (!SEGMENT.test(seg)) {
      return `segment ${JSON.stringify(clip(seg))} has a character outside [A-Za-z0-9._-]`;
    }
  }
  return undefined;
}

/** Throws INVALID_NAME unless `name` is valid; `where` names the field for the message. */
export function assertName(name: unknown, where = 'name'): asserts name is string {
  const problem = nameProblem(name);
  if (problem !== undefined) throw new DpnsError('INVALID_NAME', `${where}: ${problem}`, { details: { field: where } });
}

function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
