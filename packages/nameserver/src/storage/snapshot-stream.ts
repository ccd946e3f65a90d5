// Snapshot format 2: a JSON array stored one element per line, written as the elements are
// produced and checked by a trailer, so neither writing nor reading ever holds the whole state as
// one string. Format 1 (one JSON document after a checksummed header, snapshot.ts) is still read,
// and still written where a whole state arrives at once (a backup installing its primary's).
//
//   {"format":2,"index":N}\n          header
//   <element>\n ... <element>\n       body: one JSON value a line
//   {"bytes":B,"crc32c":C}\n          trailer: the body's length and CRC-32C
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '@dpns/node-kit';
import { crc32c } from './crc32c.js';
import { snapshotName, TEMP_SUFFIX } from './snapshot-files.js';

/**
 * Writes the elements that `batches` yields (each batch: complete lines, every one ending in a
 * newline) as the snapshot for `index`, atomically: temp file, fsync, rename, fsync of the
 * directory. Each batch is written before the next is asked for, so the producer runs between
 * writes and requests are answered meanwhile. Resolves with the file's size.
 */
export async function writeSnapshotStream(dir: string, index: number, batches: AsyncIterable<string>): Promise<number> {
  const path = join(dir, snapshotName(index));
  const temp = path + TEMP_SUFFIX;
  let total = 0;
  try {
    const fh = await open(temp, 'w', 0o600);
    try {
      const put = async (buf: Buffer): Promise<void> => {
        let offset = 0;
        while (offset < buf.length) offset += (await fh.write(buf, offset)).bytesWritten;
        total += buf.length;
      };
      await put(Buffer.from(`${JSON.stringify({ format: 2, index })}\n`, 'utf8'));
      let crc = 0;
      let bytes = 0;
      for await (const batch of batches) {
        if (batch.length === 0) continue;
        if (!batch.endsWith('\n')) throw new TypeError('a snapshot batch must end with a newline');
        const buf = Buffer.from(batch, 'utf8');
        crc = crc32c(buf, crc);
        bytes += buf.length;
        await put(buf);
      }
      await put(Buffer.from(`${JSON.stringify({ bytes, crc32c: crc })}\n`, 'utf8'));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  await fsyncDir(dir);
  return total;
}

/**
 * Checks a format-2 file (`header` already parsed, `bodyStart` just after its newline) and reads
 * its elements back as an array, parsing one line at a time.
 */
export function decodeSnapshotStream(buf: Buffer, bodyStart: number): { ok: true; state: unknown[] } | { ok: false; reason: string } {
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
  const actual = crc32c(body);
  if (t.crc32c !== actual) return { ok: false, reason: `CRC-32C mismatch (trailer ${JSON.stringify(t.crc32c)}, computed ${actual})` };
  const state: unknown[] = [];
  for (let at = bodyStart; at < trailerStart;) {
    const end = buf.indexOf(0x0a, at);
    try {
      state.push(JSON.parse(buf.toString('utf8', at, end)));
    } catch {
      return { ok: false, reason: `element ${state.length} is not valid JSON` };
    }
    at = end + 1;
  }
  return { ok: true, state };
}
