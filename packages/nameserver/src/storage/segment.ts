// One WAL segment file: its name, reading it back record by record, and cutting off a bad tail.
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { checkRecord, skipRecord } from './record.js';
import { readWholeFile } from './whole-file.js';

/** The WAL's folder inside the data directory. */
export const WAL_DIR_NAME = 'wal';

const NAME_RE = /^wal-(\d{16})\.log$/;

/** `wal-<index of the first record, 16 digits>.log` */
export function segmentName(firstIndex: number): string {
  return `wal-${String(firstIndex).padStart(16, '0')}.log`;
}

/** A segment file found on disk. */
export interface SegmentFile {
  firstIndex: number;
  path: string;
}

/** The segment files in `walDir`, oldest first; other files are ignored. A missing folder has none. */
export async function listSegments(walDir: string): Promise<SegmentFile[]> {
  let names: string[];
  try {
    names = await readdir(walDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const found: SegmentFile[] = [];
  for (const name of names) {
    const m = NAME_RE.exec(name);
    if (m?.[1] !== undefined) found.push({ firstIndex: Number(m[1]), path: join(walDir, name) });
  }
  return found.sort((a, b) => a.firstIndex - b.firstIndex);
}

/** What a scan of one segment found: the good records, and where and why it stopped early. */
export interface SegmentScan {
  /** The good records after `skipThrough`, their data parsed when read (checkRecord). */
  records: { readonly index: number; readonly data: unknown }[];
  /** How many good records at or before `skipThrough` were checked but not returned. */
  skipped: number;
  /** Bytes from the start of the file through the last good record. */
  goodBytes: number;
  fileBytes: number;
  bad?: { offset: number; reason: string };
}

/**
 * Reads a segment whose first record must be `firstIndex`, each next one the index after. Stops
 * at the first record that is torn, fails its checksum, or is out of sequence; the caller decides
 * whether that is a torn tail or corruption. Records up to `skipThrough` (those a snapshot
 * covers) are checked the same but not parsed; the others are parsed when read. `contents`: the
 * file's bytes when already read (or being read: FilesAhead).
 */
export async function scanSegment(path: string, firstIndex: number, skipThrough = 0, contents?: Promise<Buffer>): Promise<SegmentScan> {
  const buf = await (contents ?? readWholeFile(path));
  const records: SegmentScan['records'] = [];
  let skipped = 0;
  let offset = 0;
  let expected = firstIndex;
  while (offset < buf.length) {
    const rec = expected <= skipThrough ? skipRecord(buf, offset) : checkRecord(buf, offset);
    if (!rec.ok) return { records, skipped, goodBytes: offset, fileBytes: buf.length, bad: { offset, reason: rec.reason } };
    if (rec.index !== expected) {
      const reason = `record has index ${rec.index} where ${expected} was expected`;
      return { records, skipped, goodBytes: offset, fileBytes: buf.length, bad: { offset, reason } };
    }
    if (rec.record !== undefined) records.push(rec.record);
    else skipped++;
    offset += rec.bytes;
    expected++;
  }
  return { records, skipped, goodBytes: offset, fileBytes: buf.length };
}

/** Records parsed between two looks at `pending` (parseWhilePending). */
const PARSE_STEP = 1000;

/**
 * Parses the data of `records` (as scanSegment returns them, parsed when read) in order, in place,
 * while `pending` has not settled, a step at a time between turns; returns how many were parsed.
 * A restart at a million names waits ~150–250 ms for its snapshot's check on another thread after
 * the log is scanned, and the replay then parses ~100,000 records at ~2.4 µs each: what is parsed
 * while it waits is off the path to the first answer. Parsed, a record's data is held until it is
 * replayed (parsed when read, it is garbage at once); that costs the collector less than the parse
 * saves. A record whose data does not parse is left as it is, and the parsing stops there: reading
 * it throws as it would have, once the replay reaches it.
 */
export async function parseWhilePending(records: { index: number; data: unknown }[], pending: Promise<unknown>): Promise<number> {
  let settled = false;
  void pending.then(() => (settled = true), () => (settled = true));
  // A promise settled already has settled set after this turn of microtasks.
  await Promise.resolve();
  let k = 0;
  while (k < records.length && !settled) {
    for (const end = Math.min(k + PARSE_STEP, records.length); k < end; k++) {
      const r = records[k] as { index: number; data: unknown };
      let data: unknown;
      try {
        data = r.data;
      } catch {
        return k;
      }
      records[k] = { index: r.index, data };
    }
    await new Promise((r) => setImmediate(r));
  }
  return k;
}

/** Cuts the file to `bytes` and makes the new length durable before anything is appended after it. */
export async function truncateSegment(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.truncate(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
