// What a primary sends a backup that its log cannot bring up to date: the registry as a format-3
// snapshot file's bytes (storage/snapshot-stream.ts), which the backup checks, stores as it is and
// loads as a restart would (no JSON document of the whole registry is parsed on either side).
//
// The text is the primary's newest snapshot on disk when its log still holds every record after
// it (the core keeps them: ClusterCore.keepLogAfter): read back and checked, not made again. Made
// from the registry, a million names held the primary's event loop in ~20 ms pieces for ~7 s, and
// its writes waited behind them. Otherwise (no such file, an older format, a file that does not
// check out) it is made from an image of the registry a batch at a time and kept in those parts.
import { open } from 'node:fs/promises';
import type { Registry } from '../registry/registry.js';
import { snapshotLines } from '../registry/snapshot-lines.js';
import { readSnapshotBody, type SnapshotTrailer } from '../storage/snapshot-body.js';
import type { SnapshotFile } from '../storage/snapshot-files.js';
import { snapshotStreamParts } from '../storage/snapshot-stream.js';
import { bufferView } from './buffer-view.js';
import { piecesOfBytes, piecesOfParts, type SnapshotPieces } from './peer-transport.js';

const FILE_PREFIX = '{"format":3,';

/** A snapshot file's bytes as the chunks they go in, the index it is at, and where it came from. */
export interface SnapshotText {
  index: number;
  pieces: SnapshotPieces;
  /** The file's size (for the log). */
  bytes: number;
  /** `stored`: the snapshot file on disk; `made`: made from the registry (with why the file was not used, if there was one). */
  source: 'stored' | 'made';
  why?: string;
}

/**
 * The snapshot a backup is sent: `stored` (the newest snapshot on disk) if it is at `floor` or
 * later (the log holds every record after it), else the registry now. A stored file whose
 * header, trailer or body does not hold is found so on the way (its pieces throw, `bad` is told)
 * and is not offered again (BackupSnapshots).
 */
export async function snapshotForBackup(registry: Registry, stored: SnapshotFile | undefined, floor: number, bad: (file: SnapshotFile, why: string) => void = () => undefined): Promise<SnapshotText> {
  let why: string | undefined;
  if (stored === undefined) why = 'no snapshot on disk';
  else if (stored.index < floor) why = `the snapshot on disk (${stored.index}) is older than the log held (${floor})`;
  else {
    try {
      return await storedSnapshot(stored, (w) => bad(stored, w));
    } catch (err) {
      why = `the snapshot on disk cannot be sent: ${(err as Error).message}`;
    }
  }
  return { ...(await madeSnapshot(registry)), why };
}

/** A server's snapshots for its backups: the newest on disk unless it was found corrupt on the way, else made. */
export class BackupSnapshots {
  private corrupt: number | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly newest: () => SnapshotFile | undefined,
    private readonly onCorrupt: (index: number, why: string) => void,
  ) {}

  forBackup(floor: number): Promise<SnapshotText> {
    const stored = this.newest();
    if (stored !== undefined && stored.index === this.corrupt) return madeSnapshot(this.registry).then((m) => ({ ...m, why: `the snapshot on disk (${stored.index}) did not check out` }));
    return snapshotForBackup(this.registry, stored, floor, (file, why) => {
      this.corrupt = file.index;
      this.onCorrupt(file.index, why);
    });
  }
}

/** The registry now, made as a snapshot file's text. */
export async function madeSnapshot(registry: Registry): Promise<SnapshotText> {
  const image = registry.image();
  try {
    const parts = await snapshotStreamParts(image.revision, snapshotLines(image));
    // The size from the trailer, which holds the body's: not a count over every part in one step.
    const head = parts[0] ?? '';
    const trailer = parts.at(-1) ?? '';
    const body = (JSON.parse(trailer) as { bytes: number }).bytes;
    return { index: image.revision, pieces: piecesOfParts(parts), bytes: Buffer.byteLength(head) + body + Buffer.byteLength(trailer), source: 'made' };
  } finally {
    image.release();
  }
}

/**
 * A format-3 snapshot file, read a megabyte at a time as its chunks go (held whole, a million
 * names' 134 MB of Buffers made the primary's heap collect in full, 200–450 ms at once). The file
 * is opened when the first chunk after the header is asked for and closed when the last has gone
 * or the link lets the snapshot go. Its header, trailer and body are checked as it is read
 * (readSnapshotBody): if they do not hold, the pieces throw before the body's last, so the backup
 * never gets it whole, and `bad` is told.
 */
export async function storedSnapshot(file: SnapshotFile, bad: (why: string) => void = () => undefined): Promise<SnapshotText> {
  const header = `${JSON.stringify({ format: 3, index: file.index })}\n`;
  // A file of an older format (1 or 2, from versions before 2026-12-04) is not corrupt, only not
  // one to send as it is: told apart here, before anything goes, by its first line.
  const fh = await open(file.path, 'r');
  let size: number;
  let first: string;
  try {
    size = (await fh.stat()).size;
    const head = Buffer.alloc(header.length);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    first = head.toString('utf8', 0, bytesRead);
  } finally {
    await fh.close();
  }
  if (first !== header) throw new Error(`its first line is not ${header.trim()} (an older format, or not a snapshot of that index)`);
  async function* pieces(): SnapshotPieces {
    try {
      yield Buffer.from(header, 'utf8');
      let trailer: SnapshotTrailer | undefined;
      for await (const chunk of readSnapshotBody(file.path, file.index, (t) => (trailer = t))) yield* piecesOfBytes(chunk);
      if (trailer === undefined) throw new Error('the snapshot body was read without its trailer');
      // The file's trailer, checked against the body as it was read, written as formatThree does.
      yield Buffer.from(`${JSON.stringify({ bytes: trailer.bytes, crc32: trailer.crc32 })}\n`, 'utf8');
    } catch (err) {
      bad((err as Error).message);
      throw err;
    }
  }
  return { index: file.index, pieces: pieces(), bytes: size, source: 'stored' };
}

/** Whether a primary's snapshot is a snapshot file (else: one JSON document, from a primary before 2026-12-04). */
export function isSnapshotFile(data: string | Uint8Array): boolean {
  return typeof data === 'string' ? data.startsWith(FILE_PREFIX) : bufferView(data).toString('latin1', 0, FILE_PREFIX.length) === FILE_PREFIX;
}
