// The write side of the WAL: index assignment, group commit, segment roll, pruning old segments.
import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from './errors.js';
import { fsyncDir } from '@dpns/node-kit';
import { encodeRecord } from './record.js';
import { segmentName } from './segment.js';
import type { StoreLogger } from './types.js';

/** Counters for tests and metrics. */
export interface WalStats {
  /** Records accepted by append(). */
  appends: number;
  /** write() calls on segment files: one per batch. */
  writes: number;
  /** fdatasync() calls on segment files: one per batch. */
  fsyncs: number;
  /** Times a write or open failed and appends were refused until a probe write succeeded. */
  faults: number;
}

/** Where the WAL takes over from recovery. */
export interface WalOptions {
  walDir: string;
  logger: StoreLogger;
  segmentBytes: number;
  /** The last index already in the log or covered by the snapshot; the next append gets one more. */
  lastIndex: number;
  /** First indexes of the segment files on disk, oldest first. */
  segments: number[];
  /** Append to the last segment in `segments`; when false, the first batch starts a new segment. */
  continueLast: boolean;
  /** How often a probe write is tried while appends are refused (default 1000 ms). */
  probeMs?: number;
  /** Told when appends start being refused for want of a resource, and when a probe write succeeds again. */
  onAvailability?: (writable: boolean, cause: string | undefined) => void;
}

interface Pending {
  index: number;
  bytes: Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * open: appending. unavailable: a write or an open failed before anything in the batch was
 * acknowledged (no space, no file descriptors, EIO); appends are refused until a probe write
 * succeeds. failed: an fsync failed, or a failed write could not be cut off again; nothing more
 * until a restart.
 */
type WalState = 'open' | 'unavailable' | 'closing' | 'closed' | 'failed';

/** Size of the probe file written while unavailable: a write has to fit in at least this much. */
export const PROBE_BYTES = 64 * 1024;
const PROBE_FILE = '.probe';

/** A failure of a write or an open: nothing written since the last fsync was acknowledged, so it can be taken back. */
class WriteFault extends Error {
  constructor(readonly fault: unknown, readonly bytesMayBeWritten: boolean) {
    super(fault instanceof Error ? fault.message : String(fault));
  }
}

/** Appends records to the segment files, many appends per write and fdatasync. */
export class Wal {
  readonly stats: WalStats = { appends: 0, writes: 0, fsyncs: 0, faults: 0 };
  private state: WalState = 'open';
  private failure: StorageError | undefined;
  private next: number;
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private lastDurable: Promise<void> = Promise.resolve();
  private fh: FileHandle | undefined;
  private bytes = 0;
  private rollRequested = false;
  private readonly segments: number[];
  private probeTimer: NodeJS.Timeout | undefined;
  private unavailable: StorageError | undefined;

  private constructor(private readonly opts: WalOptions) {
    this.next = opts.lastIndex + 1;
    this.segments = [...opts.segments];
  }

  /** Opens the WAL for appending, reopening the last segment when recovery says it continues. */
  static async open(opts: WalOptions): Promise<Wal> {
    const wal = new Wal(opts);
    const last = opts.segments.at(-1);
    if (opts.continueLast && last !== undefined) {
      wal.fh = await open(join(opts.walDir, segmentName(last)), 'a', 0o600);
      wal.bytes = (await wal.fh.stat()).size;
    }
    return wal;
  }

  /** Index of the last record appended (durable or not). */
  get lastIndex(): number {
    return this.next - 1;
  }

  get failed(): boolean {
    return this.state === 'failed';
  }

  /** Appends are refused for now (a write ran out of space or file descriptors); a probe write will lift it. */
  get isUnavailable(): boolean {
    return this.state === 'unavailable';
  }

  /**
   * Assigns the next index and queues the record. Throws (without using an index) when the WAL
   * is failed or closed, when `data` is not JSON, or when the record is too large.
   */
  append(data: unknown): { index: number; durable: Promise<void> } {
    if (this.state === 'failed') {
      throw new StorageError('FAILED', `the WAL failed earlier and accepts no more records: ${this.failure?.message ?? ''}`, { cause: this.failure });
    }
    if (this.state === 'unavailable') throw this.unavailable as StorageError;
    if (this.state !== 'open') throw new StorageError('CLOSED', 'the store is closed');
    const index = this.next;
    const bytes = encodeRecord(index, data);
    this.next = index + 1;
    this.stats.appends++;
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const durable = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A failure is logged and fails the store; a caller that drops the promise must not also
    // take the process down with an unhandled rejection.
    durable.catch(() => {});
    this.lastDurable = durable;
    this.pending.push({ index, bytes, resolve, reject });
    this.flushing ??= this.flush();
    return { index, durable };
  }

  /** Settles once every record appended so far is durable; rejects if the WAL failed first. */
  flushed(): Promise<void> {
    return this.lastDurable;
  }

  /** Starts a new segment with the next batch, so the records before it can be pruned whole. */
  requestRoll(): void {
    this.rollRequested = true;
  }

  /**
   * Removes the segments that hold only records below `keepFrom`. The segment being appended to
   * is never removed. Failures are logged, not thrown: a leftover segment only costs disk space.
   */
  async removeSegmentsBefore(keepFrom: number): Promise<void> {
    // A segment holds only records below the first index of the segment after it.
    const doomed: number[] = [];
    while (this.segments.length > 1 && this.segments[1]! <= keepFrom) doomed.push(this.segments.shift()!);
    if (doomed.length === 0) return;
    for (const first of doomed) {
      const path = join(this.opts.walDir, segmentName(first));
      try {
        await unlink(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.opts.logger.warn('could not remove an old WAL segment', { segment: path, error: String(err) });
        }
      }
    }
    try {
      await fsyncDir(this.opts.walDir);
    } catch (err) {
      this.opts.logger.warn('could not fsync the WAL directory after pruning', { dir: this.opts.walDir, error: String(err) });
    }
  }

  /** Writes what is queued, then closes the segment file. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    if (this.state === 'open' || this.state === 'unavailable') this.state = 'closing';
    await this.flushing;
    const fh = this.fh;
    this.fh = undefined;
    if (this.state === 'closing') this.state = 'closed';
    if (fh !== undefined) {
      try {
        await fh.close();
      } catch (err) {
        this.opts.logger.warn('could not close the WAL segment', { error: String(err) });
      }
    }
  }

  // Runs while there is anything queued; never more than one at a time, so at most one
  // write+fsync is in flight and batches reach the disk, and resolve, in index order.
  private async flush(): Promise<void> {
    // Appends made in the same tick as the first one join its batch instead of waiting an fsync.
    await Promise.resolve();
    while (this.pending.length > 0 && this.state !== 'failed' && this.state !== 'unavailable') {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.writeBatch(batch);
      } catch (err) {
        if (err instanceof WriteFault) await this.takeBack(err, batch);
        else this.fail(err, batch);
        break;
      }
      for (const p of batch) p.resolve();
    }
    this.flushing = undefined;
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    const first = batch[0]!.index;
    if (this.fh === undefined || (this.bytes > 0 && (this.rollRequested || this.bytes >= this.opts.segmentBytes))) {
      await this.roll(first);
    }
    this.rollRequested = false;
    const fh = this.fh!;
    const buf = batch.length === 1 ? batch[0]!.bytes : Buffer.concat(batch.map((p) => p.bytes));
    try {
      await writeAll(fh, buf);
    } catch (err) {
      throw new WriteFault(err, true);
    }
    this.bytes += buf.length;
    this.stats.writes++;
    await fh.datasync();
    this.stats.fsyncs++;
  }

  private async roll(firstIndex: number): Promise<void> {
    const old = this.fh;
    this.fh = undefined;
    // Every batch was fdatasynced before its promises resolved, so closing needs no sync, and a
    // failed close loses nothing.
    if (old !== undefined) {
      await old.close().catch((err: unknown) => this.opts.logger.warn('could not close a full WAL segment', { error: String(err) }));
    }
    const path = join(this.opts.walDir, segmentName(firstIndex));
    let fh: FileHandle;
    let dir: FileHandle | undefined;
    try {
      fh = await open(path, 'a', 0o600);
    } catch (err) {
      throw new WriteFault(err, false);
    }
    try {
      const st = await fh.stat();
      // Only an empty leftover (a crash right after a roll) may be reused; anything else under
      // this name would put stale bytes in front of ours.
      if (st.isFile() && st.size > 0) throw new Error(`new segment ${path} already exists and is not empty`);
      // The records will be fdatasynced, but the file's name lives in the directory. Opening it
      // can run out of descriptors (a fault to wait out); its fsync failing cannot be waited out.
      try {
        dir = await open(this.opts.walDir, 'r');
      } catch (err) {
        throw new WriteFault(err, false);
      }
      await dir.sync();
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    } finally {
      await dir?.close().catch(() => {});
    }
    this.fh = fh;
    this.bytes = 0;
    if (this.segments.at(-1) !== firstIndex) this.segments.push(firstIndex);
  }

  /**
   * A write or open failed: no record of the batch, nor any queued after it, was acknowledged.
   * Cut the segment back to its last fsynced length (durably, so the records cannot come back
   * after a crash), hand their indexes back, refuse them all, and probe until writes work again.
   * If the cut itself fails the records might yet come back: that is the fatal case.
   */
  private async takeBack(err: WriteFault, batch: Pending[]): Promise<void> {
    const errno = (err.fault as NodeJS.ErrnoException).code ?? 'EIO';
    this.state = 'unavailable';
    this.unavailable = new StorageError(
      'UNAVAILABLE',
      `the write-ahead log cannot be written (${errno}: ${err.message}); writes are refused until a probe write succeeds`,
      { cause: err.fault, errno },
    );
    if (err.bytesMayBeWritten && this.fh !== undefined) {
      try {
        await this.fh.truncate(this.bytes);
        await this.fh.datasync();
      } catch (cutErr) {
        this.fail(new Error(`${err.message}; cutting the segment back to ${this.bytes} bytes failed too: ${String(cutErr)}`), batch);
        return;
      }
    }
    const firstIndex = batch[0]!.index;
    const rejected = [...batch, ...this.pending];
    this.pending = [];
    this.next = firstIndex;
    this.stats.faults++;
    this.opts.logger.error('storage unavailable: a WAL write failed, so writes are refused until a probe write succeeds; reads go on', {
      errno, error: err.message, firstIndex, lastIndex: rejected.at(-1)?.index,
    });
    for (const p of rejected) p.reject(this.unavailable as StorageError);
    if (this.state !== 'unavailable') return; // closed meanwhile
    this.opts.onAvailability?.(false, errno);
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      void this.probe();
    }, this.opts.probeMs ?? 1000);
    this.probeTimer.unref();
  }

  // A file of PROBE_BYTES written, fsynced and removed: there is room and a descriptor to spare.
  private async probe(): Promise<void> {
    if (this.state !== 'unavailable') return;
    const path = join(this.opts.walDir, PROBE_FILE);
    let ok = false;
    let fh: FileHandle | undefined;
    try {
      fh = await open(path, 'w', 0o600);
      await writeAll(fh, Buffer.alloc(PROBE_BYTES));
      await fh.datasync();
      ok = true;
    } catch {
      // Still no room or no descriptor: try again later.
    } finally {
      await fh?.close().catch(() => {});
      await unlink(path).catch(() => {});
    }
    if (this.state !== 'unavailable') return;
    if (!ok) return this.scheduleProbe();
    this.state = 'open';
    this.unavailable = undefined;
    this.opts.logger.info('storage writable again: a probe write succeeded, writes are accepted', { nextIndex: this.next });
    this.opts.onAvailability?.(true, undefined);
  }

  // fsyncgate: after a failed fsync the kernel may have dropped the dirty pages and marked them
  // clean, so a retry can "succeed" without the data. The only safe answer is to stop.
  // Also reached when a failed write could not be cut off again.
  private fail(err: unknown, batch: Pending[]): void {
    this.state = 'failed';
    const detail = err instanceof Error ? err.message : String(err);
    const firstIndex = batch[0]?.index;
    const lastIndex = (this.pending.at(-1) ?? batch.at(-1))?.index;
    this.failure = new StorageError(
      'FAILED',
      `WAL write or fsync failed for records ${firstIndex}..${lastIndex}: ${detail}`,
      { cause: err },
    );
    this.opts.logger.error('WAL write or fsync failed; refusing all further writes until restart', {
      error: detail,
      firstIndex,
      lastIndex,
    });
    const rejected = [...batch, ...this.pending];
    this.pending = [];
    for (const p of rejected) p.reject(this.failure);
  }
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buf.length) {
    const { bytesWritten } = await fh.write(buf, offset, buf.length - offset, null);
    offset += bytesWritten;
  }
}
