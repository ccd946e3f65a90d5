// A snapshot made from the one before it: the earlier file's entry lines are copied as bytes,
// except those of the names changed since it was taken, which are written from the registry in
// their places (name order), or left out if the name is gone. The file is the one
// snapshotLines() would write for the same image, byte for byte; what it costs is a pass over
// the earlier file's bytes plus the changed entries, not a lookup and a copy of every entry (at a
// million names a snapshot every eighth of the registry was eight entries' work a write).
import { compareNames } from './ordered-names.js';
import type { ChangedEntries } from './changed-entries.js';
import type { RegistryImage } from './registry.js';
import { BATCH_MS, CLOCK_EVERY, headLine, tableLines } from './snapshot-lines.js';
import { plainNameEnd, SERVICE_PREFIX } from './service-line.js';

/** Output is handed on in pieces of about this many bytes (one file write each). */
const PIECE_BYTES = 1 << 20;
const NEWLINE = 0x0a;

/**
 * The changed names since the snapshot before, in name order, with each one's line as it is now
 * (undefined: the name is gone), a batch at a time: what a snapshot made from the one before
 * writes in place of those names' old lines. Plain strings, so a batch can be handed to another
 * thread (merge-thread.ts).
 */
export interface ChangedLines {
  names: string[];
  lines: (string | undefined)[];
}

/** What a snapshot made from the one before needs besides that file: all of it made from the registry's image. */
export interface MergeInput {
  /** The head line, ending with its newline. */
  head: string;
  /** Entries the new file must hold: a check on what the merge made. */
  nameCount: number;
  changed: AsyncIterable<ChangedLines>;
  /** The lines after the entries (tickets, requests, agents, joins), asked for once the entries are written. */
  tables: () => Iterable<string> | AsyncIterable<string>;
}

/**
 * `image`'s part of a snapshot made from the one before (`changed` being the entries taken with
 * it): the head, the changed names' lines made a batch at a time (a batch ends every BATCH_MS,
 * as a whole snapshot's do: changed names may all sort together, and stringifying a hundred
 * thousand of them in one go would hold the event loop for ~100 ms), and the tables.
 */
export function mergeInput(image: RegistryImage, changed: ChangedEntries): MergeInput {
  return { head: headLine(image), nameCount: image.nameCount, changed: changedLines(image, changed), tables: () => tableLines(image) };
}

async function* changedLines(image: RegistryImage, changed: ChangedEntries): AsyncGenerator<ChangedLines> {
  // Sorted a slice at a time, as the lines are made: at a million names, 125,000 names in one go held the event loop 80–210 ms.
  const { names, entries: latest } = await changed.inOrder(BATCH_MS);
  let batch: ChangedLines = { names: [], lines: [] };
  let started = performance.now();
  for (let k = 0; k < names.length; k++) {
    const name = names[k] as string;
    const e = image.entryAsTaken(name, latest[k]);
    // Not held as text afterwards (heldAsText): the next snapshot copies the line from this
    // file whatever the registry holds, and the object stays where the text would be
    // another ~300 bytes in the old space, and a parse at the next write (at a million names
    // 56.0 against 64.5 µs a write, and 874 against 1,108 MiB after 600,000 rewrites).
    batch.names.push(name);
    batch.lines.push(e === undefined ? undefined : typeof e === 'string' ? e : JSON.stringify(e));
    if (batch.names.length % CLOCK_EVERY === 0 && performance.now() - started >= BATCH_MS) {
      yield batch;
      batch = { names: [], lines: [] };
      started = performance.now();
    }
  }
  if (batch.names.length > 0) yield batch;
}

/**
 * The lines of the snapshot `input` describes (mergeInput() of an image), made from `base`: the
 * body of the snapshot file taken when the registry's changed entries were last taken
 * (Registry.takeChanged), a chunk of whole lines at a time. Throws if what it makes cannot be the
 * image (the counts differ): the caller then writes the image whole. The name server runs it on
 * the snapshot thread (merge-worker.ts), with the input made here.
 */
export async function* mergeLines(input: MergeInput, base: AsyncIterable<Buffer>): AsyncGenerator<string | Buffer> {
  yield input.head;
  const changed = new ChangedQueue(input.changed);
  const out = new Pieces();
  let written = 0;
  const own = new LineName();
  /**
   * Writes the changed names that sort before the line `upTo` names (all that are left, when
   * undefined); returns whether that name itself is one. Hands on what it made every piece's
   * worth: changed names may all sort together (names written in order land after every line
   * of the file).
   */
  async function* writeChangedUpTo(upTo: LineName | undefined): AsyncGenerator<Buffer, boolean> {
    for (;;) {
      const t = changed.ready() ? changed.next : await changed.peek();
      if (t === undefined) return false;
      const c = upTo === undefined ? -1 : upTo.compare(t);
      if (c > 0) return false;
      const line = changed.take();
      if (line !== undefined) {
        out.text(`${line}\n`);
        written++;
      }
      if (out.size >= PIECE_BYTES) yield out.take();
      if (c === 0) return true;
    }
  }
  let line = 0;
  let entries = -1;
  for await (const chunk of base) {
    let run = 0;
    for (let at = 0; at < chunk.length;) {
      const end = chunk.indexOf(NEWLINE, at);
      if (line === 0) {
        entries = headEntries(chunk.toString('utf8', at, end));
        run = end + 1;
      } else if (line <= entries) {
        own.locate(chunk, at, end);
        // Checked on each old line only against the next changed name: both are in name order.
        const next = changed.ready() ? changed.next : await changed.peek();
        if (next !== undefined && own.compare(next) <= 0) {
          out.bytes(chunk, run, at);
          const replaced = yield* writeChangedUpTo(own);
          if (replaced) run = end + 1;
          else {
            run = at;
            written++;
          }
        } else written++;
      } else if (line === entries + 1) {
        // The tables after the entries are written from the image; this file's are only checked (its CRC).
        out.bytes(chunk, run, at);
        yield* writeChangedUpTo(undefined);
        run = chunk.length;
      } else run = chunk.length;
      at = end + 1;
      line++;
    }
    out.bytes(chunk, run, chunk.length);
    if (out.size >= PIECE_BYTES) yield out.take();
  }
  if (entries < 0) throw new Error('the snapshot before has no head line');
  // A file of entries only (no tables after them).
  yield* writeChangedUpTo(undefined);
  if (written !== input.nameCount) throw new Error(`a snapshot made from the one before would hold ${written} entries, the registry ${input.nameCount}`);
  if (out.size > 0) yield out.take();
  for await (const t of input.tables()) yield t;
}

/** The changed names and lines, one at a time, from their batches as they come. */
class ChangedQueue {
  private readonly batches: AsyncIterator<ChangedLines>;
  private batch: ChangedLines = { names: [], lines: [] };
  private k = 0;
  private done = false;

  constructor(source: AsyncIterable<ChangedLines>) {
    this.batches = source[Symbol.asyncIterator]();
  }

  /** Whether `next` holds the next name (or the end) without waiting for a batch. */
  ready(): boolean {
    return this.k < this.batch.names.length || this.done;
  }

  /** The next name, when ready(); undefined at the end. */
  get next(): string | undefined {
    return this.batch.names[this.k];
  }

  /** The next name, once its batch has come; undefined at the end. */
  async peek(): Promise<string | undefined> {
    while (!this.ready()) {
      const r = await this.batches.next();
      if (r.done === true) this.done = true;
      else {
        this.batch = r.value;
        this.k = 0;
      }
    }
    return this.next;
  }

  /** Moves past the next name (peek() found it), returning its line. */
  take(): string | undefined {
    return this.batch.lines[this.k++];
  }
}

/** The entry count in a snapshot's head line. */
function headEntries(text: string): number {
  const head = JSON.parse(text) as { entries?: unknown };
  if (typeof head.entries !== 'number' || !Number.isSafeInteger(head.entries) || head.entries < 0) throw new Error('the snapshot before has no entry count in its head');
  return head.entries;
}

/**
 * The name of one entry line of the earlier file, to compare names with (negative: the name
 * sorts first). A plain service's name is compared as the bytes between the prefix and the next
 * quote (names are ASCII, which sorts the same as bytes or as UTF-16 code units); any other line
 * is parsed for its name. One object, moved from line to line: a million lines a snapshot.
 */
class LineName {
  private buf: Buffer = Buffer.alloc(0);
  private from = 0;
  private to = 0;
  private parsed: string | undefined;

  locate(buf: Buffer, at: number, end: number): void {
    this.buf = buf;
    this.parsed = undefined;
    const to = plainNameEnd(buf, at, end);
    if (to >= 0) {
      this.from = at + SERVICE_PREFIX.length;
      this.to = to;
      return;
    }
    const line = JSON.parse(buf.toString('utf8', at, end)) as { name?: unknown };
    if (typeof line.name !== 'string') throw new Error('an entry line of the snapshot before has no name');
    this.parsed = line.name;
  }

  compare(name: string): number {
    return this.parsed === undefined ? compareToBytes(name, this.buf, this.from, this.to) : compareNames(name, this.parsed);
  }
}

function compareToBytes(name: string, buf: Buffer, from: number, to: number): number {
  const len = to - from;
  const n = Math.min(name.length, len);
  for (let i = 0; i < n; i++) {
    const d = name.charCodeAt(i) - (buf[from + i] as number);
    if (d !== 0) return d;
  }
  return name.length - len;
}

/** Output gathered into pieces: slices of the earlier file and new text, in order. */
class Pieces {
  private parts: Buffer[] = [];
  private pending = '';
  size = 0;

  bytes(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.flushText();
    this.parts.push(buf.subarray(from, to));
    this.size += to - from;
  }

  text(s: string): void {
    this.pending += s;
    this.size += s.length;
  }

  take(): Buffer {
    this.flushText();
    const all = Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    return all;
  }

  private flushText(): void {
    if (this.pending === '') return;
    this.parts.push(Buffer.from(this.pending, 'utf8'));
    this.pending = '';
  }
}
