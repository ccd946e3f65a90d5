// The name server's durable store: a checksummed write-ahead log plus snapshots, behind one small API.
import { mkdir, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { asStorageError, StorageError } from './errors.js';
import { fsyncDir } from '@dpns/node-kit';
import type { DirLock } from './lock.js';
import { acquireLock } from './lock.js';
import { recover } from './recovery.js';
import { listSegments, WAL_DIR_NAME } from './segment.js';
import { encodeSnapshot, listSnapshots, removeSnapshotsExcept, snapshotName, writeSnapshot } from './snapshot.js';
import { readSnapshotBody } from './snapshot-body.js';
import { writeSnapshotStream } from './snapshot-stream.js';
import type { SnapshotFile } from './snapshot-files.js';
import type { WalStats } from './wal.js';
import { Wal } from './wal.js';
import { takeEarlyReads } from './early-read.js';
import { FilesAhead } from './whole-file.js';
import type { Recovered, StoreLogger } from './types.js';

export { StorageError } from './errors.js';
export type { StorageErrorCode } from './errors.js';
export type { StoreLogger, Recovered } from './types.js';


export interface StoreOptions {
  /** The data directory; created (mode 0700) if missing. */
  dir: string;
  logger: StoreLogger;
  /** roll to a new segment past this size */
  segmentBytes?: number /* default 64 MiB */;
  /** How often a probe write is tried while writes are refused (default 1000 ms). */
  probeMs?: number;
  /**
   * Told when appends start being refused (a WAL write ran out of space or descriptors: `cause`
   * is the errno) and when a probe write succeeds and they are accepted again.
   */
  onAvailability?: (writable: boolean, cause: string | undefined) => void;
  /** Reads started before the store was opened (Store.readAhead). */
  ahead?: FilesAhead;
}

/** A snapshot file's contents at `index`, and the state the caller decoded from those very contents. */
export interface CheckedSnapshotFile {
  index: number;
  contents: Buffer;
  state: unknown;
}


/** Counters for tests and metrics. */
export type StoreStats = WalStats;

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** A data directory opened for appending records and writing snapshots. */
export class Store {
  private closing: Promise<void> | undefined;
  // Snapshots are written one after another, in the order they were asked for.
  private snapshotChain: Promise<void> = Promise.resolve();
  // The newest snapshot known to be on disk and good: the one recovery used or the last written.
  private goodSnapshot: number | undefined;

  private constructor(
    private readonly dir: string,
    private readonly logger: StoreLogger,
    private readonly wal: Wal,
    private readonly lock: DirLock,
    snapshotIndex: number | undefined,
  ) {
    this.goodSnapshot = snapshotIndex;
  }

  /**
   * Starts reading the newest snapshot in `dir` without its lock, for Store.open to take (as
   * `ahead`) if that file is still there unchanged once the lock is held: the program loads its
   * modules meanwhile (~100 ms for a million names' 150 MB). Nothing fails here; recovery meets
   * whatever error there is.
   */
  static readAhead(dir: string): FilesAhead {
    // The bin may have started already, before the program was loaded (early-read.ts).
    const ahead = takeEarlyReads(dir) ?? new FilesAhead();
    listSnapshots(dir).then((files) => {
      const newest = files[files.length - 1];
      if (newest !== undefined) ahead.start(newest.path, true);
    }, () => undefined);
    return ahead;
  }

  /** Locks the data directory and recovers what it holds. Rejects with StorageError CORRUPT, LOCKED or IO. */
  static async open(opts: StoreOptions): Promise<{ store: Store; recovered: Recovered }> {
    return Store.openDir(opts, undefined);
  }

  /**
   * Replaces everything in the directory with the snapshot file (replaceWithSnapshotFile), then
   * opens it: the state the caller decoded is taken as read instead of read back from the file
   * it just stored (at a million names, reading it back costs as much again as the checks the
   * caller just made). One call, so the state cannot be paired with another file than the one
   * stored.
   */
  static async openReplaced(opts: StoreOptions, snapshot: CheckedSnapshotFile): Promise<{ store: Store; recovered: Recovered }> {
    await Store.replaceWithSnapshotFile(opts.dir, snapshot.index, snapshot.contents);
    return Store.openDir(opts, { index: snapshot.index, state: snapshot.state });
  }

  private static async openDir(opts: StoreOptions, justWritten: Recovered['snapshot']): Promise<{ store: Store; recovered: Recovered }> {
    const { dir, logger } = opts;
    const segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes <= 0) {
      throw new RangeError(`segmentBytes must be a positive integer, got ${String(opts.segmentBytes)}`);
    }
    const walDir = join(dir, WAL_DIR_NAME);
    try {
      await makeDir(dir);
      await makeDir(walDir);
    } catch (err) {
      throw asStorageError(err, 'IO', `cannot create the data directory ${dir}`);
    }
    let lock: DirLock;
    try {
      lock = await acquireLock(dir, logger);
    } catch (err) {
      throw asStorageError(err, 'IO', `cannot take the lock on ${dir}`);
    }
    try {
      const { recovered, snapshotIndex, segments, continueLast } = await recover(dir, logger, justWritten, opts.ahead);
      const wal = await Wal.open({
        walDir, logger, segmentBytes, lastIndex: recovered.lastIndex, segments, continueLast,
        ...(opts.probeMs === undefined ? {} : { probeMs: opts.probeMs }),
        ...(opts.onAvailability === undefined ? {} : { onAvailability: opts.onAvailability }),
      });
      logger.info('store opened', {
        dir,
        snapshotIndex: snapshotIndex ?? null,
        records: recovered.records.length,
        lastIndex: recovered.lastIndex,
      });
      return { store: new Store(dir, logger, wal, lock, snapshotIndex), recovered };
    } catch (err) {
      await lock.release();
      throw asStorageError(err, 'IO', `cannot open the store in ${dir}`);
    }
  }

  /**
   * Replaces everything in the (closed, unlocked) data directory `dir` with one snapshot file at
   * `index`, its contents as they are (a primary's, checked by the caller), so a format-3 file
   * stays one that loads without parsing its entries: what a backup does when its log went a
   * different way from its primary's. The log goes first, so a crash part-way leaves an older
   * consistent state (an older snapshot, or nothing), never a new snapshot followed by the old,
   * divergent records.
   */
  private static async replaceWithSnapshotFile(dir: string, index: number, contents: Buffer): Promise<void> {
    const walDir = join(dir, WAL_DIR_NAME);
    for (const seg of await listSegments(walDir)) await unlink(seg.path);
    await fsyncDir(walDir);
    await removeSnapshotsExcept(dir, new Set());
    await writeSnapshot(dir, index, contents);
  }

  /**
   * Assigns the next index synchronously (lastIndex+1, +2, ...) and returns it with a promise
   * that resolves once the record is fsynced (group commit). Throws StorageError CLOSED, FAILED or
   * UNAVAILABLE (the promise rejects with UNAVAILABLE when the write fails for want of space or
   * descriptors: the index is then handed back, and every later append until a probe succeeds is refused),
   * TypeError for data with no JSON form and RangeError for a record over 16 MiB; a refused
   * append uses no index.
   */
  append(data: unknown): { index: number; durable: Promise<void> } {
    if (this.closing !== undefined) throw new StorageError('CLOSED', 'the store is closed');
    return this.wal.append(data);
  }

  /**
   * Writes a snapshot of `state` covering every record up to and including `index`, durably, then
   * removes the segments and snapshots that neither it nor the snapshot before it needs. `state`
   * is serialized before this returns; the I/O runs without holding up appends. A snapshot no
   * newer than one already written is skipped: resolves true if the file was written, false if skipped.
   */
  async snapshot(index: number, state: unknown): Promise<boolean> {
    this.checkSnapshot(index);
    return this.queueSnapshot(index, bufferWriter(index, encodeSnapshot(index, state)), this.wal.stats.faults);
  }

  /**
   * Like snapshot(), for a state produced a batch at a time (format 3, snapshot-stream.ts): each
   * batch is complete lines, one JSON value a line (text, or bytes copied from the snapshot
   * before: snapshotBody), handed back unparsed at open (SnapshotLines). The batches must
   * describe the state as it was when this was called (the caller copies what could change);
   * they are asked for only while the file is written, so the registry's whole serialised form
   * is never held at once and requests are answered between batches. `faultsSeen` is
   * `stats.faults` when that state was read: a write that failed since may have taken back
   * records the state holds, and the snapshot is then refused (UNAVAILABLE).
   */
  async snapshotStream(index: number, batches: AsyncIterable<string | Buffer>, faultsSeen = this.wal.stats.faults): Promise<boolean> {
    this.checkSnapshot(index);
    return this.queueSnapshot(index, (dir) => writeSnapshotStream(dir, index, batches), faultsSeen);
  }

  /**
   * A snapshot at `index` whose file `write` makes in the data directory, atomically, resolving
   * with its size (one made on another thread: registry/merge-thread.ts), in its turn as
   * snapshotStream's are; `faultsSeen` as there.
   */
  async snapshotWith(index: number, write: (dir: string) => Promise<number>, faultsSeen = this.wal.stats.faults): Promise<boolean> {
    this.checkSnapshot(index);
    return this.queueSnapshot(index, write, faultsSeen);
  }

  /** The path of the snapshot file at `index` (one this store wrote or recovered: what snapshotBody reads). */
  snapshotFile(index: number): string {
    return join(this.dir, snapshotName(index));
  }

  /**
   * The body of the format-3 snapshot this store wrote or recovered at `index`, a chunk of whole
   * lines at a time, checked against its trailer as it is read (readSnapshotBody): what a
   * snapshot made from the one before it copies. Read lazily, so a snapshot written from it
   * (queued behind the ones before) reads the file when its turn comes; it is kept until a newer
   * one is written.
   */
  snapshotBody(index: number): AsyncIterable<Buffer> {
    return readSnapshotBody(this.snapshotFile(index), index);
  }

  private checkSnapshot(index: number): void {
    if (this.closing !== undefined) throw new StorageError('CLOSED', 'the store is closed');
    if (this.wal.failed) throw new StorageError('FAILED', 'the WAL failed earlier; no snapshot can be trusted');
    if (this.wal.isUnavailable) throw new StorageError('UNAVAILABLE', 'the WAL cannot be written now; the snapshot waits until it can');
    if (!Number.isSafeInteger(index) || index < 0 || index > this.wal.lastIndex) {
      throw new RangeError(`snapshot index must be an integer from 0 to the last appended index ${this.wal.lastIndex}, got ${index}`);
    }
  }

  private queueSnapshot(index: number, write: SnapshotWriter, faultsSeen: number): Promise<boolean> {
    const run = this.snapshotChain.then(() => this.persistSnapshot(index, write, faultsSeen));
    this.snapshotChain = run.then(() => {}, () => {});
    return run;
  }

  /** The index of the newest snapshot known to be on disk and good (recovery's, or the last written), if any. */
  get snapshotIndex(): number | undefined {
    return this.goodSnapshot;
  }

  /** That snapshot's file. */
  get newestSnapshot(): SnapshotFile | undefined {
    return this.goodSnapshot === undefined ? undefined : { index: this.goodSnapshot, path: this.snapshotFile(this.goodSnapshot) };
  }

  get lastIndex(): number {
    return this.wal.lastIndex;
  }

  get state(): 'open' | 'unavailable' | 'failed' | 'closed' {
    if (this.closing !== undefined) return 'closed';
    if (this.wal.failed) return 'failed';
    return this.wal.isUnavailable ? 'unavailable' : 'open';
  }

  get stats(): Readonly<StoreStats> {
    return { ...this.wal.stats };
  }

  /** Flushes pending appends, closes files; safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await this.wal.close();
    await this.snapshotChain;
    await this.lock.release();
    this.logger.info('store closed', { dir: this.dir, lastIndex: this.wal.lastIndex });
  }

  private async persistSnapshot(index: number, write: SnapshotWriter, faultsAtRequest: number): Promise<boolean> {
    if (this.goodSnapshot !== undefined && index <= this.goodSnapshot) return false;
    // A snapshot must never be ahead of the durable log: after a crash the records it covers
    // would be missing from the log, and later appends would land after a gap.
    await this.wal.flushed();
    // Records appended before it was asked for may since have failed and been handed back, their
    // indexes reused by other records: the state it holds is then not the log's.
    if (this.wal.stats.faults !== faultsAtRequest) {
      throw new StorageError('UNAVAILABLE', `the snapshot at index ${index} was dropped: a write failed after its state was read, so records it holds may have been taken back`);
    }
    // Everything up to `index` is written now, so the next segment holds only later records and
    // the ones before it can be removed whole once they are no longer needed.
    this.wal.requestRoll();
    let bytes: number;
    try {
      bytes = await write(this.dir);
    } catch (err) {
      this.logger.error('could not write a snapshot; the WAL still holds everything', { index, error: String(err) });
      throw asStorageError(err, 'IO', `cannot write the snapshot at index ${index}`);
    }
    const previous = this.goodSnapshot;
    this.goodSnapshot = index;
    this.logger.info('snapshot written', { index, bytes });
    // The previous snapshot and the segments it needs stay, so that a newest snapshot found
    // corrupt at the next open can be replaced by the previous one plus the log.
    const keep = new Set([index]);
    if (previous !== undefined) keep.add(previous);
    try {
      await removeSnapshotsExcept(this.dir, keep);
    } catch (err) {
      this.logger.warn('could not remove old snapshots', { dir: this.dir, error: String(err) });
    }
    if (previous !== undefined) await this.wal.removeSegmentsBefore(previous + 1);
    return true;
  }
}

/** Writes a snapshot file into the data directory (atomically); resolves with its size. */
type SnapshotWriter = (dir: string) => Promise<number>;

function bufferWriter(index: number, contents: Buffer): SnapshotWriter {
  return async (dir) => {
    await writeSnapshot(dir, index, contents);
    return contents.length;
  };
}

// mkdir -p with mode 0700, then fsync of each parent that gained an entry.
async function makeDir(path: string): Promise<void> {
  const target = resolve(path);
  const made = await mkdir(target, { recursive: true, mode: 0o700 });
  if (made === undefined) return;
  for (let p = target; ; p = dirname(p)) {
    await fsyncDir(dirname(p));
    if (p === resolve(made) || dirname(p) === p) return;
  }
}
