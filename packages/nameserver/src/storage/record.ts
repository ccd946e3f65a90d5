// One WAL record: [u32 LE payload length][u32 LE CRC-32C of payload][UTF-8 JSON {"i":index,"d":data}].
import { crc32c } from './crc32c.js';
import { StorageError } from './errors.js';

/** Bytes before the payload: length and checksum. */
export const RECORD_HEADER_BYTES = 8;
/** The largest payload accepted; also the sanity bound on a length read back from disk. */
export const MAX_RECORD_PAYLOAD_BYTES = 16 * 1024 * 1024;

/**
 * The bytes of record `index` carrying `data`. Throws TypeError when `data` has no JSON form
 * and RangeError when the payload is over MAX_RECORD_PAYLOAD_BYTES, before anything is written.
 */
export function encodeRecord(index: number, data: unknown): Buffer {
  const json: string | undefined = JSON.stringify(data);
  if (json === undefined) throw new TypeError(`WAL record data must be a JSON value, got ${typeof data}`);
  const payload = `{"i":${index},"d":${json}}`;
  const length = Buffer.byteLength(payload, 'utf8');
  if (length > MAX_RECORD_PAYLOAD_BYTES) {
    throw new RangeError(`WAL record of ${length} bytes is over the ${MAX_RECORD_PAYLOAD_BYTES}-byte limit`);
  }
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + length);
  buf.write(payload, RECORD_HEADER_BYTES, 'utf8');
  buf.writeUInt32LE(length, 0);
  buf.writeUInt32LE(crc32c(buf.subarray(RECORD_HEADER_BYTES)), 4);
  return buf;
}

/** A record read back: its index, its data, and how many bytes it took on disk. */
export interface DecodedRecord {
  ok: true;
  index: number;
  data: unknown;
  bytes: number;
}

/** Why the bytes at an offset are not a whole, intact record. */
export interface BadRecord {
  ok: false;
  reason: string;
}

/** Reads the record that starts at `offset` in `buf`. */
export function decodeRecord(buf: Buffer, offset: number): DecodedRecord | BadRecord {
  const length = checkFrame(buf, offset);
  if (typeof length !== 'number') return length;
  const start = offset + RECORD_HEADER_BYTES;
  const stored = u32(buf, offset + 4);
  const actual = crc32c(buf, 0, start, start + length);
  if (stored !== actual) {
    return { ok: false, reason: `CRC-32C mismatch (stored ${hex(stored)}, computed ${hex(actual)})` };
  }
  const parsed = parsePayload(buf, start, start + length);
  if (parsed === NOT_JSON) return { ok: false, reason: 'payload is not valid JSON' };
  if (typeof parsed !== 'object' || parsed === null || !('i' in parsed) || !Number.isSafeInteger(parsed.i)) {
    return { ok: false, reason: 'payload has no integer "i"' };
  }
  const record = parsed as { i: number; d?: unknown };
  return { ok: true, index: record.i, data: record.d, bytes: RECORD_HEADER_BYTES + length };
}

const INDEX_PREFIX = Buffer.from('{"i":');

/**
 * The record at `offset`, checked as decodeRecord checks it (frame, checksum, an integer "i"), with
 * its data parsed when it is read, each time: a restart replays every record after the snapshot
 * once, and parsed all at once they lived until the last was replayed, so that the garbage
 * collector moved ~100,000 of them twice (~0.5 s of a restart at a million names). A payload not
 * laid out as encodeRecord writes it (see skipRecord) is parsed now. Data that passes its checksum
 * but is not JSON (no writer makes it) throws CORRUPT when read.
 */
export function checkRecord(buf: Buffer, offset: number): CheckedRecord | BadRecord {
  const length = checkFrame(buf, offset);
  if (typeof length !== 'number') return length;
  const start = offset + RECORD_HEADER_BYTES;
  const index = indexOf(buf, start, start + length);
  if (index < 0) {
    const full = decodeRecord(buf, offset);
    return full.ok ? { ok: true, index: full.index, bytes: full.bytes, record: { index: full.index, data: full.data } } : full;
  }
  const stored = u32(buf, offset + 4);
  const actual = crc32c(buf, 0, start, start + length);
  if (stored !== actual) return { ok: false, reason: `CRC-32C mismatch (stored ${hex(stored)}, computed ${hex(actual)})` };
  return { ok: true, index, bytes: RECORD_HEADER_BYTES + length, record: new ParsedWhenRead(index, buf, start, start + length) };
}

/**
 * A record's data, parsed from its checked payload `buf[start, end)` each time it is read. One
 * small object: an object literal with a getter was three (its closure and their context), and
 * ~25 MB of a restart's garbage at 100,000 records.
 */
class ParsedWhenRead {
  constructor(readonly index: number, private readonly buf: Buffer, private readonly start: number, private readonly end: number) {}

  get data(): unknown {
    return dataOf(this.buf, this.start, this.end, this.index);
  }
}

/** A record checked by checkRecord: its index, how many bytes it took, and it. */
export interface CheckedRecord {
  ok: true;
  index: number;
  bytes: number;
  record: { readonly index: number; readonly data: unknown };
}

/** A record passed over by skipRecord: its index and how many bytes it took, and no data. */
export interface SkippedRecord {
  ok: true;
  index: number;
  bytes: number;
  record?: undefined;
}

const NOT_JSON: unique symbol = Symbol('not JSON');

/** The payload `buf[start, end)` parsed, or NOT_JSON. */
function parsePayload(buf: Buffer, start: number, end: number): unknown {
  try {
    return JSON.parse(buf.toString('utf8', start, end));
  } catch {
    return NOT_JSON;
  }
}

/** The "d" of record `index`'s payload `buf[start, end)`, which passed its checksum. */
function dataOf(buf: Buffer, start: number, end: number, index: number): unknown {
  const parsed = parsePayload(buf, start, end);
  if (parsed === NOT_JSON) {
    throw new StorageError('CORRUPT', `WAL record ${index} passed its checksum but its payload is not valid JSON: no writer makes such a record. ` +
      'Keep a copy of the data directory for diagnosis, then restore it from a backup or let this server re-sync from a replica.');
  }
  return (parsed as { d?: unknown }).d;
}

/**
 * Like decodeRecord, for a record a snapshot covers, which recovery passes over to reach the
 * ones after it: its frame's length is checked the same and its index read from the `{"i":N,`
 * that encodeRecord starts every payload with, but its checksum is not computed nor its payload
 * parsed. Such a record is not needed while that snapshot is good, and is decoded, checksum and
 * all, when it is needed: by a recovery that falls back on the snapshot before. (Checksumming
 * them cost ~100 ms of a restart at a million names: a snapshot covers ~100,000 records of the
 * segment recovery starts in.) A payload laid out otherwise is decoded whole.
 */
export function skipRecord(buf: Buffer, offset: number): SkippedRecord | BadRecord {
  const length = checkFrame(buf, offset);
  if (typeof length !== 'number') return length;
  const start = offset + RECORD_HEADER_BYTES;
  const end = start + length;
  const index = indexOf(buf, start, end);
  if (index >= 0) return { ok: true, index, bytes: end - offset };
  const full = decodeRecord(buf, offset);
  return full.ok ? { ok: true, index: full.index, bytes: full.bytes } : full;
}

/** The index in the `{"i":N,` that encodeRecord starts the payload `buf[start, end)` with; -1 when it does not start so. */
function indexOf(buf: Buffer, start: number, end: number): number {
  if (!startsWithIndexPrefix(buf, start, end)) return -1;
  let index = 0;
  for (let k = start + INDEX_PREFIX.length; k < end && k < start + INDEX_PREFIX.length + 16; k++) {
    const c = buf[k] as number;
    if (c === 0x2c /* , */ && k > start + INDEX_PREFIX.length) return index;
    if (c < 0x30 || c > 0x39) return -1;
    index = index * 10 + (c - 0x30);
  }
  return -1;
}

/**
 * Whether the payload `buf[start, end)` starts with INDEX_PREFIX and has more after it. Byte by
 * byte: a call of Buffer#compare checks its five arguments at more cost than five bytes.
 */
function startsWithIndexPrefix(buf: Buffer, start: number, end: number): boolean {
  if (end - start <= INDEX_PREFIX.length) return false;
  for (let k = 0; k < INDEX_PREFIX.length; k++) if (buf[start + k] !== INDEX_PREFIX[k]) return false;
  return true;
}

/**
 * The unsigned 32-bit little-endian number at `at` (at least 4 bytes before the end). Read byte
 * by byte: Buffer#readUInt32LE validates its argument on each call, and a restart at a million
 * names reads two a record for ~300,000 records (~50 ms of it, in a CPU profile).
 */
function u32(buf: Buffer, at: number): number {
  return ((buf[at] as number) | ((buf[at + 1] as number) << 8) | ((buf[at + 2] as number) << 16)) + (buf[at + 3] as number) * 0x1000000;
}

/**
 * The payload's length, in bytes after the header, when the bytes at `offset` can frame a record;
 * else why not (too short for a header, a length that is zero, over the bound or past the end).
 */
function checkFrame(buf: Buffer, offset: number): number | BadRecord {
  const available = buf.length - offset;
  if (available < RECORD_HEADER_BYTES) {
    return { ok: false, reason: `short header (${available} of ${RECORD_HEADER_BYTES} bytes)` };
  }
  const length = u32(buf, offset);
  // A torn write often leaves zeros, and the CRC of nothing is 0: refuse it before the CRC "matches".
  if (length === 0) return { ok: false, reason: 'zero payload length' };
  if (length > MAX_RECORD_PAYLOAD_BYTES) {
    return { ok: false, reason: `payload length ${length} is over the ${MAX_RECORD_PAYLOAD_BYTES}-byte limit` };
  }
  if (length > available - RECORD_HEADER_BYTES) {
    return { ok: false, reason: `payload length ${length} runs past end of file (${available - RECORD_HEADER_BYTES} bytes left)` };
  }
  return length;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
