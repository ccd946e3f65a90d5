// Snapshot files, format 1: the whole state at one index as one JSON document, checksummed,
// replaced atomically; and reading any format (formats 2 and 3: snapshot-stream.ts).
import { join } from 'node:path';
import { crc32c } from './crc32c.js';
import { replaceFileDurably } from '@dpns/node-kit';
import { snapshotName, TEMP_SUFFIX, type SnapshotFile } from './snapshot-files.js';
import { checksumMismatch, decodeSnapshotStream, FlushedWrites, SNAPSHOT_SYNC_BYTES, SnapshotLines, splitSnapshotStream } from './snapshot-stream.js';
import { bodyFacts } from './body-aside.js';
import { readWholeFile } from './whole-file.js';

export { listSnapshots, removeSnapshotsExcept, snapshotName } from './snapshot-files.js';
export { SnapshotLines } from './snapshot-stream.js';
export type { SnapshotFile } from './snapshot-files.js';

/**
 * The file contents for `state` at `index`: a header line
 * `{"format":1,"index":N,"crc32c":C,"bytes":B}` and then the B bytes of the state's JSON.
 * Synchronous, so the state is captured as it is at the call.
 */
export function encodeSnapshot(index: number, state: unknown): Buffer {
  const json: string | undefined = JSON.stringify(state);
  if (json === undefined) throw new TypeError(`snapshot state must be a JSON value, got ${typeof state}`);
  return encodeSnapshotText(index, json);
}

/** The file contents for state already serialised as JSON text. */
function encodeSnapshotText(index: number, json: string): Buffer {
  const body = Buffer.from(json, 'utf8');
  const header = JSON.stringify({ format: 1, index, crc32c: crc32c(body), bytes: body.length });
  return Buffer.concat([Buffer.from(`${header}\n`, 'utf8'), body]);
}

/**
 * Checks a snapshot file's contents against its header (and, in formats 2 and 3, its trailer)
 * and the index in its name. A format-2 file's state is the array of its lines' values; a
 * format-3 file's is its lines unparsed (SnapshotLines).
 */
export function decodeSnapshot(buf: Buffer, index: number): DecodedSnapshot {
  const header = decodeHeader(buf, index);
  return header.ok ? decodeAfterHeader(buf, header) : header;
}

/** A snapshot file's state, or why it has none. */
export type DecodedSnapshot = { ok: true; state: unknown } | { ok: false; reason: string };
type Header = { ok: true; h: Record<string, unknown> & { format: 1 | 2 | 3 }; newline: number };

function decodeAfterHeader(buf: Buffer, { h, newline }: Header): DecodedSnapshot {
  if (h.format !== 1) return decodeSnapshotStream(buf, newline + 1, h.format);
  const body = buf.subarray(newline + 1);
  if (h.bytes !== body.length) return { ok: false, reason: `header says ${JSON.stringify(h.bytes)} bytes, file has ${body.length}` };
  const actual = crc32c(body);
  if (h.crc32c !== actual) return { ok: false, reason: `CRC-32C mismatch (header ${JSON.stringify(h.crc32c)}, computed ${actual})` };
  try {
    return { ok: true, state: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false, reason: 'state is not valid JSON' };
  }
}

function decodeHeader(buf: Buffer, index: number): Header | { ok: false; reason: string } {
  const newline = buf.indexOf(0x0a);
  if (newline < 0) return { ok: false, reason: 'no header line' };
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(0, newline).toString('utf8'));
  } catch {
    return { ok: false, reason: 'header line is not valid JSON' };
  }
  if (typeof header !== 'object' || header === null) return { ok: false, reason: 'header is not an object' };
  const h = header as Record<string, unknown>;
  if (h.format !== 1 && h.format !== 2 && h.format !== 3) return { ok: false, reason: `unknown format ${JSON.stringify(h.format)}` };
  if (h.index !== index) return { ok: false, reason: `header index ${JSON.stringify(h.index)} does not match the file name's ${index}` };
  return { ok: true, h: h as Record<string, unknown> & { format: 1 | 2 | 3 }, newline };
}

/**
 * Reads one snapshot file for recovery (`contents`: its bytes when already being read) and checks
 * it as decodeSnapshot does, but a large format-3 body's checksum and lines are found on another
 * thread (body-aside.ts): what is checked at once is answered at once, and `checked` settles to
 * the rest of the verdict, with the state, while the caller goes on — scanning the log.
 */
export async function openSnapshot(file: SnapshotFile, contents?: Promise<Buffer>): Promise<{ ok: true; checked: Promise<DecodedSnapshot> } | { ok: false; reason: string }> {
  const buf = await (contents ?? readWholeFile(file.path, true));
  const header = decodeHeader(buf, file.index);
  if (!header.ok) return header;
  if (header.h.format !== 3) {
    const decoded = decodeAfterHeader(buf, header);
    return decoded.ok ? { ok: true, checked: Promise.resolve(decoded) } : decoded;
  }
  const split = splitSnapshotStream(buf, header.newline + 1, 3);
  if (!split.ok) return split;
  const checked = bodyFacts(split.body).then((facts): DecodedSnapshot => {
    const mismatch = checksumMismatch(split, facts.crc);
    return mismatch === undefined ? { ok: true, state: SnapshotLines.found(split.body, facts.lines) } : { ok: false, reason: mismatch };
  });
  return { ok: true, checked };
}

/**
 * Writes `contents` as the snapshot for `index` so that after a crash the file is either the
 * complete new snapshot or absent: temp file, fsync, rename, fsync of the directory. Flushed every
 * `syncBytes` on the way, as writeSnapshotStream is: a backup installing a million names' 134 MB
 * in one write and one fsync held every fdatasync on the disk up to ~100 ms, its primary's and
 * the other backup's among them, so the writes they were acknowledging waited as long.
 */
export async function writeSnapshot(dir: string, index: number, contents: Buffer, syncBytes = SNAPSHOT_SYNC_BYTES): Promise<string> {
  const path = join(dir, snapshotName(index));
  await replaceFileDurably(path, async (fh) => {
    const out = new FlushedWrites(fh, syncBytes);
    // In steps of syncBytes, so that each is flushed once it is written.
    for (let k = 0; k < contents.length; k += syncBytes) await out.write(contents.subarray(k, k + syncBytes));
  }, { temp: path + TEMP_SUFFIX });
  return path;
}
