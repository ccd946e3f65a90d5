// Reads the ```json examples out of docs/PROTOCOL.md and says what each line of them is on the
// wire, so a test can replay the requests against a real server and hold its answers to the doc.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from './paths.js';

/** What one JSON document of an example is, from the server's point of view. */
export type DocMessageKind =
  /** `{"jsonrpc","id","method",...}`: a request (a client's, or `ticket.challenge`, the server's). */
  | 'request'
  /** `{"jsonrpc","id","result"|"error"}`: an answer. */
  | 'response'
  /** `{"jsonrpc","method",...}` with no `id`: `hello`, `watch.event`, `ticket.pair`, a client notification. */
  | 'notification'
  /** An array holding at least one request: a batch. */
  | 'batch-request'
  /** An array of answers: a batch's answer. */
  | 'batch-response'
  /** Any other JSON: an entry, a launch spec, an agent frame, a ticket line. */
  | 'other';

/** One JSON document of an example block (one line, or the whole block for a pretty-printed one). */
export interface DocLine {
  /** 1-based line number in PROTOCOL.md. */
  readonly line: number;
  /** The text as written. */
  readonly text: string;
  readonly kind: DocMessageKind;
}

/** One ```json block. */
export interface DocBlock {
  /** The heading it sits under, e.g. "5.6 `findServices`". */
  readonly heading: string;
  /** The heading's number, e.g. "5.6", or "3" for "3. The `hello` notification". */
  readonly section: string;
  /** 1-based line number of its first content line. */
  readonly line: number;
  /** The block's text, lines joined with "\n". */
  readonly text: string;
  /** Its documents; empty when the block is not JSON as a whole or line by line (a fragment). */
  readonly docs: readonly DocLine[];
}

export const PROTOCOL_MD = resolve(REPO_ROOT, 'docs/PROTOCOL.md');

/** The ```json blocks of `markdown` (PROTOCOL.md when omitted), in document order. */
export function readDocBlocks(markdown: string = readFileSync(PROTOCOL_MD, 'utf8')): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  let heading = '';
  let fence: { lang: string; start: number; body: string[] } | undefined;
  lines.forEach((raw, i) => {
    const trimmed = raw.trim();
    if (fence === undefined) {
      const h = /^#{2,4} (.*)$/.exec(raw);
      if (h !== null) heading = h[1] ?? '';
      else if (trimmed.startsWith('```')) fence = { lang: trimmed.slice(3).trim(), start: i + 2, body: [] };
      return;
    }
    if (trimmed !== '```') {
      fence.body.push(raw);
      return;
    }
    if (fence.lang === 'json') blocks.push(toBlock(heading, fence.start, fence.body));
    fence = undefined;
  });
  return blocks;
}

/** The section number at the start of a heading ("5.6 `findServices`" → "5.6", "3. The…" → "3"). */
export function sectionOf(heading: string): string {
  return /^(\d+(?:\.\d+)*)\.?\s/.exec(heading)?.[1] ?? heading;
}

/** What a parsed JSON document is on the wire. */
export function classify(v: unknown): DocMessageKind {
  if (Array.isArray(v)) {
    if (v.some((e) => classify(e) === 'request' || classify(e) === 'notification')) return 'batch-request';
    return v.length > 0 && v.every((e) => classify(e) === 'response') ? 'batch-response' : 'other';
  }
  if (!isObject(v) || v.jsonrpc !== '2.0') return 'other';
  if (typeof v.method === 'string') return 'id' in v ? 'request' : 'notification';
  if ('id' in v && ('result' in v || 'error' in v)) return 'response';
  return 'other';
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toBlock(heading: string, start: number, body: string[]): DocBlock {
  const text = body.join('\n');
  const base = { heading, section: sectionOf(heading), line: start, text };
  const docs: DocLine[] = [];
  let perLine = true;
  body.forEach((raw, i) => {
    const t = raw.trim();
    if (t === '') return;
    try {
      docs.push({ line: start + i, text: t, kind: classify(JSON.parse(t)) });
    } catch {
      perLine = false;
    }
  });
  if (perLine) return { ...base, docs };
  // A pretty-printed document spans lines; a fragment (`"cluster": {...}`) parses neither way.
  try {
    return { ...base, docs: [{ line: start, text, kind: classify(JSON.parse(text)) }] };
  } catch {
    return { ...base, docs: [] };
  }
}

/**
 * Joins a block that ends with a request to the next block of the same section when that one
 * starts with the answer (the doc often shows a batch and its answer as two blocks).
 */
export function joinAnswerBlocks(blocks: readonly DocBlock[]): DocBlock[] {
  const out: DocBlock[] = [];
  for (const b of blocks) {
    const prev = out[out.length - 1];
    const last = prev?.docs[prev.docs.length - 1];
    const first = b.docs[0];
    const answers = (q: DocLine, a: DocLine): boolean =>
      (q.kind === 'batch-request' && a.kind === 'batch-response') ||
      (q.kind === 'request' && a.kind === 'response' && idOf(q.text) === idOf(a.text));
    if (prev !== undefined && last !== undefined && first !== undefined && prev.section === b.section &&
      answers(last, first)) {
      out[out.length - 1] = { ...prev, text: `${prev.text}\n${b.text}`, docs: [...prev.docs, ...b.docs] };
    } else {
      out.push(b);
    }
  }
  return out;
}

function idOf(text: string): unknown {
  const v: unknown = JSON.parse(text);
  return isObject(v) ? JSON.stringify(v.id) : undefined;
}
