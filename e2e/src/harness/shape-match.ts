// Holds a real message to a documented one by shape and stable values: the same members (none
// missing, none extra), the same types, and the same literal values except where the value is
// one the document cannot know in advance (a time, a nonce, a key, a pid, a revision that counts
// earlier writes). Every difference is returned, not just the first.
import { isObject } from './doc-examples.js';

export interface ShapeRules {
  /**
   * Members whose value changes from run to run: only their JSON type is compared (and, where
   * the document shows a whole number, that the value is one too: a fraction in the document is
   * a quantity that may come out whole, like a load average of 2, which JSON writes as `2`).
   */
  readonly volatile: ReadonlySet<string>;
}

/** Members that are volatile wherever they appear: clocks, process ids, and revisions. */
export const VOLATILE_EVERYWHERE: readonly string[] = [
  'since', 'time', 'until', 'at', 'loadAt', 'expiresAt', 'enrolledAt', 'launchedAt', 'pid', 'pgid', 'startTime', 'revision',
];

/** Lowercase hex of 16 digits or more: a nonce, key, proof, ticket, pair id or sealed box. */
const HEX = /^[0-9a-f]{16,}$/;

/** The differences between `doc` (what PROTOCOL.md shows) and `got` (what the server sent). */
export function shapeDiff(doc: unknown, got: unknown, rules: ShapeRules, path = '$'): string[] {
  const key = path.slice(path.lastIndexOf('.') + 1).replace(/\[\d+\]$/, '');
  if (rules.volatile.has(key) && !isObject(doc) && !Array.isArray(doc)) return sameType(doc, got, path);
  if (key === 'watchId' || key === 'watchIds') return watchIds(doc, got, path);
  if (Array.isArray(doc)) {
    if (!Array.isArray(got)) return [`${path}: expected an array, got ${describe(got)}`];
    if (doc.length !== got.length) return [`${path}: expected ${doc.length} items, got ${got.length}: ${describe(got)}`];
    return doc.flatMap((d, i) => shapeDiff(d, got[i], rules, `${path}[${i}]`));
  }
  if (isObject(doc)) {
    if (!isObject(got)) return [`${path}: expected an object, got ${describe(got)}`];
    const out: string[] = [];
    const missing = Object.keys(doc).filter((k) => !(k in got));
    const extra = Object.keys(got).filter((k) => !(k in doc));
    if (missing.length > 0) out.push(`${path}: missing ${missing.join(', ')}`);
    if (extra.length > 0) out.push(`${path}: not in the doc: ${extra.map((k) => `${k}=${describe(got[k])}`).join(', ')}`);
    for (const k of Object.keys(doc)) {
      if (!(k in got)) continue;
      // An error's message, or an entry's reason (the same text): see messageMatches.
      if ((k === 'message' || k === 'reason') && typeof doc[k] === 'string' && typeof got[k] === 'string') {
        if (!messageMatches(doc[k] as string, got[k] as string)) out.push(`${path}.${k}: expected ${describe(doc[k])}, got ${describe(got[k])}`);
        continue;
      }
      out.push(...shapeDiff(doc[k], got[k], rules, `${path}.${k}`));
    }
    return out;
  }
  if (typeof doc === 'string' && HEX.test(doc)) {
    return typeof got === 'string' && got.length === doc.length && HEX.test(got)
      ? [] : [`${path}: expected ${doc.length} lowercase hex digits, got ${describe(got)}`];
  }
  return Object.is(doc, got) ? [] : [`${path}: expected ${describe(doc)}, got ${describe(got)}`];
}

/**
 * The rule for error messages: a message is compared whole, character for character, except the
 * parts that are values the document cannot know (hex keys and nonces, also cut short with "…",
 * ISO times, process ids, a request's age); those must be there, in the same form. This is stricter than a
 * prefix: a message whose fixed words changed anywhere is a mismatch. The section scripts put
 * the run's own ports and paths into the doc text before it is compared, so those are exact.
 */
export function messageMatches(doc: string, got: string): boolean {
  return messagePattern(doc).test(got);
}

const VOLATILE_IN_MESSAGE: readonly [RegExp, string][] = [
  [/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/y, String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z`],
  [/[0-9a-f]{8,}…/y, '[0-9a-f]+…'],
  [/[0-9a-f]{16,}/y, '[0-9a-f]{16,}'],
  [/pid \d+/y, String.raw`pid \d+`],
  [/signed \d+ ms ago/y, String.raw`signed \d+ ms ago`],
];

function messagePattern(doc: string): RegExp {
  let out = '';
  let i = 0;
  outer: while (i < doc.length) {
    for (const [re, replacement] of VOLATILE_IN_MESSAGE) {
      re.lastIndex = i;
      const m = re.exec(doc);
      if (m !== null && (i === 0 || !/[0-9a-f]/.test(doc[i - 1] ?? ''))) {
        out += replacement;
        i += m[0].length;
        continue outer;
      }
    }
    out += (doc[i] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    i += 1;
  }
  return new RegExp(`^${out}$`, 'u');
}

function sameType(doc: unknown, got: unknown, path: string): string[] {
  if (typeof doc !== typeof got || (doc === null) !== (got === null)) return [`${path}: expected a ${typeName(doc)}, got ${describe(got)}`];
  if (typeof doc === 'number' && Number.isInteger(doc) && !Number.isInteger(got)) return [`${path}: expected an integer, got ${describe(got)}`];
  return [];
}

function watchIds(doc: unknown, got: unknown, path: string): string[] {
  const one = (g: unknown): boolean => typeof g === 'string' && /^w\d+$/.test(g);
  if (Array.isArray(doc)) {
    return Array.isArray(got) && got.length === doc.length && got.every(one) && new Set(got).size === got.length
      ? [] : [`${path}: expected ${doc.length} distinct watch ids, got ${describe(got)}`];
  }
  return one(got) ? [] : [`${path}: expected a watch id w<n>, got ${describe(got)}`];
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function describe(v: unknown): string {
  const s = JSON.stringify(v) ?? 'nothing';
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
