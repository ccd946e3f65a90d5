// Snapshot files written a batch at a time: one JSON value a line between a header and a
// trailer, so neither writing nor reading ever holds the whole state as one string or one parse.
// Format 3 (written now) hands its lines back unparsed, so the reader parses only what it needs
// when it needs it, and checks them with CRC-32 (zlib's, native). Format 2 (the same lines,
// CRC-32C, every line parsed at open) and format 1 (one JSON document after a checksummed header,
// snapshot.ts) are still read; format 1 is still written where a whole state arrives at once
// (a backup installing an older primary's JSON; a primary now sends format 3, snapshotStreamParts).
//
//   {"format":3,"index":N}\n          header
//   <value>\n ... <value>\n           body: one JSON value a line
//   {"bytes":B,"crc32":C}\n           trailer: the body's length and CRC-32 (format 2: "crc32c")
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isAscii } from 'node:buffer';
import { crc32 } from 'node:zlib';
import { replaceFileDurably } from '@dpns/node-kit';
import { lineStarts, type LineStarts } from './body-aside.js';
import { crc32c } from './crc32c.js';
import { snapshotName, TEMP_SUFFIX } from './snapshot-files.js';

/**
 * The lines of a format-3 snapshot, each one JSON value, not yet parsed or even decoded: the
 * body's bytes and where each line starts. A line is decoded when it is read, so a restart makes
 * no string a line (at a million names those strings, and the copy of the body as text they were
 * sliced from, cost ~150 ms and 24 MB that stayed).
 */
export class SnapshotLines {
  private constructor(
    /** The body: its lines, each ending with a newline. */
    readonly body: Buffer,
    private readonly starts: Uint32Array | Float64Array,
    readonly count: number,
    private readonly encoding: 'latin1' | 'utf8',
  ) {}

  /** The lines of `body`, which ends with a newline or is empty. */
  static of(body: Buffer): SnapshotLines {
    if (body.length > 0 && body[body.length - 1] !== NEWLINE) throw new TypeError('a snapshot body must end with a newline');
    return SnapshotLines.found(body, lineStarts(body, isAscii));
  }

  /** The lines of `body` where `lines` (found by lineStarts()) says they start. */
  static found(body: Buffer, lines: LineStarts): SnapshotLines {
    // ASCII (the usual case) is decoded as Latin-1, a copy; UTF-8 decoding checks every byte.
    return new SnapshotLines(body, lines.starts, lines.count, lines.ascii ? 'latin1' : 'utf8');
  }

  /** `lines` as a body would hold them (tests, and values made in memory). */
  static fromText(lines: readonly string[]): SnapshotLines {
    return SnapshotLines.of(Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8'));
  }

  /** Where line `k` starts in `body`. */
  start(k: number): number {
    return this.starts[k] as number;
  }

  /** Where line `k` ends in `body` (its newline). */
  end(k: number): number {
    return (k + 1 < this.count ? (this.starts[k + 1] as number) : this.body.length) - 1;
  }

  /** Line `k`'s text, without its newline. */
  line(k: number): string {
    return this.body.toString(this.encoding, this.start(k), this.end(k));
  }

  /** Every line's text (tests). */
  all(): string[] {
    return Array.from({ length: this.count }, (_, k) => this.line(k));
  }
}

const NEWLINE = 0x0a;

/**
 * A snapshot is flushed to the disk each time this much more of it is written. Left to one fsync
 * at the end, a million names' file (~350 MB) sat in the page cache and went to the disk at once:
 * the log's fdatasync waited behind it, and every write in flight with it (up to 165 ms on the
 * benchmark VM, against ~10 ms in 4 MiB steps, for ~0.1 s more writing the file). The same idea as
 * RocksDB's bytes_per_sync and PostgreSQL's checkpoint_flush_after.
 */
export const SNAPSHOT_SYNC_BYTES = 4 * 1024 * 1024;

/**
 * Writes the lines that `batches` yields (each batch: complete lines, every one ending in a
 * newline; text, or bytes copied from an earlier file) as the format-3 snapshot for `index`, atomically: temp file, fsync, rename, fsync of
 * the directory, flushed every `syncBytes` on the way. Each batch is written before the next is asked for, so the producer runs between
 * writes and requests are answered meanwhile. Resolves with the file's size.
 */
export async function writeSnapshotStream(dir: string, index: number, batches: AsyncIterable<string | Buffer>, syncBytes = SNAPSHOT_SYNC_BYTES): Promise<number> {
  const path = join(dir, snapshotName(index));
  let total = 0;
  await replaceFileDurably(path, async (fh) => {
    const out = new FlushedWrites(fh, syncBytes);
    for await (const buf of formatThree(index, batches, (text) => Buffer.from(text, 'utf8'), (bytes) => bytes)) {
      await out.write(buf);
      total += buf.length;
    }
  }, { temp: path + TEMP_SUFFIX });
  return total;
}

/** A file written a buffer at a time, each whole, and flushed each time `syncBytes` more have been written since the last flush (SNAPSHOT_SYNC_BYTES says why). */
export class FlushedWrites {
  private unsynced = 0;

  constructor(private readonly fh: FileHandle, private readonly syncBytes: number) {}

  async write(buf: Buffer): Promise<void> {
    let offset = 0;
    while (offset < buf.length) offset += (await this.fh.write(buf, offset)).bytesWritten;
    this.unsynced += buf.length;
    if (this.unsynced < this.syncBytes) return;
    await this.fh.datasync();
    this.unsynced = 0;
  }
}

/**
 * The same file as writeSnapshotStream would write, as its pieces of text (joined, they are the
 * file): what a primary sends a backup that needs its state (cluster/snapshot-transfer.ts), so
 * the backup stores it as it comes and loads it as a restart does. The event loop is let go
 * between batches, and the pieces are never joined here (at a million names that one copy held
 * the event loop for ~70 ms).
 */
export async function snapshotStreamParts(index: number, batches: AsyncIterable<string>): Promise<string[]> {
  const parts: string[] = [];
  for await (const text of formatThree(index, batches, (t) => t, () => {
    throw new TypeError('a snapshot sent to a backup is made as text');
  })) {
    parts.push(text);
    await new Promise((r) => setImmediate(r));
  }
  return parts;
}

/**
 * A format-3 file a piece at a time: the header, each batch (checked to be whole lines), the
 * trailer with the body's length and CRC-32. Each piece comes as `encode` makes it from text (or
 * `copy` from bytes): bytes for a file, or the text itself for a backup, whose CRC and length are then taken from the string
 * (no Buffer made only to be measured: ~3× cheaper at a million names).
 */
async function* formatThree<P extends string | Buffer>(
  index: number, batches: AsyncIterable<string | Buffer>, encode: (text: string) => P, copy: (bytes: Buffer) => P,
): AsyncGenerator<P> {
  yield encode(`${JSON.stringify({ format: 3, index })}\n`);
  let crc = 0;
  let bytes = 0;
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    const whole = typeof batch === 'string' ? batch.endsWith('\n') : batch[batch.length - 1] === 0x0a;
    if (!whole) throw new TypeError('a snapshot batch must end with a newline');
    const piece = typeof batch === 'string' ? encode(batch) : copy(batch);
    crc = crc32(piece, crc);
    bytes += typeof piece === 'string' ? Buffer.byteLength(piece, 'utf8') : piece.length;
    yield piece;
  }
  yield encode(`${JSON.stringify({ bytes, crc32: crc })}\n`);
}

/** A format-2 or format-3 file whose header and trailer are checked, its body's checksum not yet. */
export interface UncheckedStream {
  format: 2 | 3;
  /** The body: the lines between the header and the trailer. */
  body: Buffer;
  /** The checksum the trailer holds for the body: CRC-32 (format 3) or CRC-32C (format 2). */
  expected: unknown;
}

/**
 * Checks a format-2 or format-3 file (`bodyStart` just after its header's newline). Format 3
 * comes back as its lines unparsed (SnapshotLines); format 2 as the array of its values, parsed
 * one line at a time.
 */
export function decodeSnapshotStream(buf: Buffer, bodyStart: number, format: 2 | 3): { ok: true; state: unknown[] | SnapshotLines } | { ok: false; reason: string } {
  const split = splitSnapshotStream(buf, bodyStart, format);
  if (!split.ok) return split;
  const mismatch = checksumMismatch(split, format === 3 ? crc32(split.body) : crc32c(split.body));
  return mismatch === undefined ? streamState(split) : { ok: false, reason: mismatch };
}

/** A format-2 or format-3 file's body and the checksum its trailer holds, all but the checksum checked. */
export function splitSnapshotStream(buf: Buffer, bodyStart: number, format: 2 | 3): ({ ok: true } & UncheckedStream) | { ok: false; reason: string } {
  if (buf.length === 0 || buf[buf.length - 1] !== 0x0a) return { ok: false, reason: 'no trailer line (the file ends mid-line)' };
  const trailerStart = buf.lastIndexOf(0x0a, buf.length - 2) + 1;
  if (trailerStart < bodyStart) return { ok: false, reason: 'no trailer line' };
  let trailer: unknown;
  try {
    trailer = JSON.parse(buf.toString('utf8', trailerStart, buf.length - 1));
  } catch {
    return { ok: false, reason: 'trailer line is not valid JSON' };
  }
  if (typeof trailer !== 'object' || trailer === null) return { ok: false, reason: 'trailer is not an object' };
  const t = trailer as Record<string, unknown>;
  const body = buf.subarray(bodyStart, trailerStart);
  if (t.bytes !== body.length) return { ok: false, reason: `trailer says ${JSON.stringify(t.bytes)} bytes, file has ${body.length}` };
  return { ok: true, format, body, expected: format === 3 ? t.crc32 : t.crc32c };
}

/** Why `actual`, the body's checksum, condemns the file; undefined when it matches the trailer's. */
export function checksumMismatch(s: UncheckedStream, actual: number): string | undefined {
  return s.expected === actual ? undefined : `${s.format === 3 ? 'CRC-32' : 'CRC-32C'} mismatch (trailer ${JSON.stringify(s.expected)}, computed ${actual})`;
}

/** The state a checked file holds. */
function streamState(s: UncheckedStream): { ok: true; state: unknown[] | SnapshotLines } | { ok: false; reason: string } {
  if (s.format === 3) return { ok: true, state: SnapshotLines.of(s.body) };
  const state: unknown[] = [];
  for (let at = 0; at < s.body.length;) {
    const end = s.body.indexOf(0x0a, at);
    try {
      state.push(JSON.parse(s.body.toString('utf8', at, end)));
    } catch {
      return { ok: false, reason: `element ${state.length} is not valid JSON` };
    }
    at = end + 1;
  }
  return { ok: true, state };
}
