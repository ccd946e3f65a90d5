// The write path: log the ops, apply them, and let the answer out only once they are on disk.
import type { Store } from './storage/store.js';
import type { Change, LogRecord, Op } from './registry/ops.js';
import type { Registry, Undo } from './registry/registry.js';
import { DpnsError } from '@dpns/protocol';
import { StorageError } from './storage/store.js';
import type { WatchHub } from './watch-hub.js';
import { snapshotLines } from './registry/snapshot-lines.js';
import { mergeInput } from './registry/snapshot-merge.js';
import { MergeThread } from './registry/merge-thread.js';
import type { Logger } from './log.js';

/** What the committer needs from the cluster: may it write, the epoch to stamp, and when a record is committed. */
export interface Replication {
  writeRefusal(): Error | undefined;
  readonly epoch: number;
  /** A record was appended locally: stream it to the backups. */
  appended(index: number, rec: LogRecord): void;
  /** The record at `index` is on this server's disk; resolves once the cluster has committed it. */
  committed(index: number): Promise<void>;
  /**
   * Records from `firstIndex` on were never written and are being taken back. False when they
   * cannot be (backups may hold them already): the server must stop instead.
   */
  takeBack(firstIndex: number): boolean;
}

/** A record applied to the registry but not yet durable, with what it changed. */
interface Applied {
  index: number;
  undo: Undo;
}

export class Committer {
  private snapshotting = false;
  private lastSnapshot: number;
  /** The highest revision known to be on disk. */
  private durableRevision: number;
  /** Reads waiting for the revision they saw to reach the disk, in revision order. */
  private readonly readers: { revision: number; release: () => void; refuse: (err: Error) => void }[] = [];
  /** Records applied but not yet durable, oldest first: what a failed write takes back. */
  private readonly applied: Applied[] = [];
  /** Hears every durable change right after the watchers do (the external modules' feed). */
  onDurable: ((changes: readonly Change[], revision: number) => void) | undefined;

  /**
   * The format-3 snapshot on disk that holds the registry as it was when its changed names were
   * last taken (Registry.takeChanged), and which registry that was: the next snapshot is made
   * from it. Undefined when there is none (none written yet, or the last one failed).
   */
  private mergeBase: { index: number; generation: number } | undefined;

  /** Where snapshots made from the one before are written (a thread, let go once they stop: merge-thread.ts). */
  private readonly merger = new MergeThread();
  /** The snapshot (lastSnapshot) after which the thread for the next was started. */
  private warmedAfter: number | undefined;

  constructor(
    /** Replaced when a backup installs a snapshot from its primary. */
    public store: Store,
    private readonly registry: Registry,
    private readonly hub: WatchHub,
    private readonly log: Logger,
    private readonly snapshotEvery: number,
    private readonly onFatal: (err: unknown) => void,
    private readonly replication: Replication,
    /**
     * The index of the format-3 snapshot the registry was loaded from at recovery, with nothing
     * changed since but by what its changed names hold (the log replayed after it).
     */
    recoveredFrom?: { index: number; generation: number },
  ) {
    this.lastSnapshot = registry.revision;
    this.durableRevision = registry.revision;
    this.mergeBase = recoveredFrom;
  }

  /**
   * Delivers a read's answer only once every change it could have seen is on disk, so no
   * client is ever told of a change that a crash could still take back. With no write in
   * flight (the common case) the answer goes at once.
   */
  afterDurable<T>(answer: T): T | Promise<T> {
    const revision = this.registry.revision;
    if (revision <= this.durableRevision) return answer;
    return new Promise<T>((resolve, reject) => this.readers.push({ revision, release: () => resolve(answer), refuse: reject }));
  }

  /**
   * Starts the durable mark over at `revision` (a role change, a snapshot installed from the
   * primary): every waiting read is answered, and the next local snapshot counts from there.
   */
  resetDurable(revision: number, snapshotAt?: number): void {
    this.durableRevision = revision;
    if (snapshotAt !== undefined) this.lastSnapshot = snapshotAt;
    const all = this.readers.splice(0);
    if (all.length > 0) setImmediate(() => {
      for (const r of all) r.release();
    });
  }

  /** Stops the snapshot thread: after the store has closed, so no snapshot is being written. */
  close(): Promise<void> {
    return this.merger.close();
  }

  /** Reads wait from now until the next record commits (a new primary, before its epoch's first record is committed). */
  holdReads(): void {
    this.durableRevision = -1;
  }

  /** Everything up to `index` is durable (and, in a cluster, committed): reads that saw it may be answered. */
  markDurable(index: number): void {
    if (index > this.durableRevision) this.durableRevision = index;
    let n = 0;
    while (n < this.readers.length && (this.readers[n] as { revision: number }).revision <= this.durableRevision) n++;
    if (n === 0) return;
    // After the writers' answers, which are a few promise hops behind this point.
    const ready = this.readers.splice(0, n);
    setImmediate(() => {
      for (const r of ready) r.release();
    });
  }

  /**
   * Logs and applies `ops`; resolves with their revision once fsynced. The registry is
   * updated at once so the next request is checked against it; watchers hear of the change
   * only after it is durable (and after the writer's answer has gone).
   */
  commit(ops: Op[], rid?: string): Promise<number> {
    if (ops.length === 0) return Promise.resolve(this.afterDurable(this.registry.revision));
    return this.commitRecord({ ops, ...(rid === undefined ? {} : { rid }) });
  }

  /**
   * Logs one record stamped with the current epoch (an empty one marks a new primary's epoch in
   * the log). Refused with NOT_PRIMARY or NO_QUORUM when this server may not write.
   */
  commitRecord(rec: LogRecord): Promise<number> {
    const refusal = this.replication.writeRefusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    const record: LogRecord = { ...rec, ep: this.replication.epoch };
    let appended: { index: number; durable: Promise<void> };
    try {
      appended = this.store.append(record);
    } catch (err) {
      // The store refuses once it has failed, closed or run out of room; the registry was not touched.
      return Promise.reject(writeError(err));
    }
    const { index, durable } = appended;
    this.replication.appended(index, record);
    const applied: Applied = { index, undo: this.registry.beforeImage(record) };
    this.applied.push(applied);
    const changes: Change[] = this.registry.applyRecord(record, index);
    // The watchers' fan-out gives way while this write waits for its disk (WatchHub.writeStarted).
    const release = this.hub.writeStarted();
    const answered = durable.then(
      () => {
        this.forget(applied);
        return this.replication.committed(index).then(() => {
          this.settled(changes, index);
          return index;
        });
      },
      (err: unknown) => {
        if (err instanceof StorageError && err.code === 'UNAVAILABLE' && this.takeBack(index, err)) throw writeError(err);
        this.onFatal(err);
        throw err;
      },
    );
    // Released before the caller's own callbacks (which send the answer) run.
    answered.then(release, release);
    return answered;
  }

  private forget(a: Applied): void {
    // Records become durable in index order, so this is nearly always the first.
    const at = this.applied.indexOf(a);
    if (at >= 0) this.applied.splice(at, 1);
  }

  /**
   * The write of the record at `index` failed before it reached the disk, and so did every
   * record after it: the registry goes back to how it was before them (newest first), and the
   * reads that saw them are refused. True when done (or already done by an earlier record of
   * the same failed batch); false when records in a cluster cannot be taken back.
   */
  private takeBack(index: number, err: StorageError): boolean {
    const from = this.applied.findIndex((a) => a.index >= index);
    if (from < 0) return true;
    if (!this.replication.takeBack(index)) return false;
    const undone = this.applied.splice(from);
    for (let k = undone.length - 1; k >= 0; k--) this.registry.restore((undone[k] as Applied).undo);
    const refused = writeError(err);
    let keep = 0;
    while (keep < this.readers.length && (this.readers[keep] as { revision: number }).revision < index) keep++;
    for (const r of this.readers.splice(keep)) r.refuse(refused);
    // Batches reach the disk in order, so every record before this one is on it; alone, that is
    // committed too. Reads held for a new epoch's first record (holdReads) need not wait for it.
    this.markDurable(index - 1);
    this.log.warn('took back writes that never reached the disk', { fromIndex: index, records: undone.length, revision: this.registry.revision });
    return true;
  }

  /**
   * Everything up to `index` is durable (and committed): reads that saw it are answered, modules
   * and watchers hear of `changes`, and a snapshot is taken when one is due. Called for a write
   * here, and on a backup for records stored from the primary.
   */
  settled(changes: readonly Change[], index: number): void {
    this.markDurable(index);
    // Modules hear of the change before the writer's answer leaves, so a call the writer makes
    // after that answer finds it (their queue keeps order); watchers hear of it after the answer.
    this.onDurable?.(changes, index);
    if (changes.length > 0) setImmediate(() => this.hub.publish(changes, index));
    this.maybeSnapshot();
  }

  private maybeSnapshot(): void {
    const rev = this.registry.revision;
    const interval = snapshotInterval(this.snapshotEvery, this.registry.size);
    // The thread for the next snapshot made from the one before is started three quarters of the
    // way to it (not while the server starts: a restart is timed to its first answer); once per
    // interval, so a write does not reset its timers.
    if (this.mergeBase !== undefined && this.warmedAfter !== this.lastSnapshot && rev - this.lastSnapshot >= interval * WARM_AT) {
      this.warmedAfter = this.lastSnapshot;
      this.merger.warm();
    }
    if (this.snapshotting || rev - this.lastSnapshot < interval) return;
    this.snapshotting = true;
    const started = Date.now();
    // The store drops it if a write fails from now on: what it holds might then be taken back.
    const faultsSeen = this.store.stats.faults;
    // Serialised a batch at a time while the file is written, so requests keep being answered
    // meanwhile and the registry's serialised form is never held whole.
    // The image copies the names now and each entry changed meanwhile as it was, so the entries
    // themselves are read batch by batch, in name order (so a restart need not sort them).
    const image = this.registry.image();
    const changed = this.registry.takeChanged();
    // Made from the snapshot before when there is one of this registry that this process wrote
    // or recovered, and most entries are as it holds them: a pass over its bytes instead of over
    // every entry. Until this one is written, there is none to make the next from.
    const base = this.mergeBase;
    this.mergeBase = undefined;
    const changes = changed.entries;
    const merged = base !== undefined && base.generation === changed.generation && changes !== undefined && changes.changes <= image.nameCount / 2;
    let stream: Promise<boolean>;
    try {
      if (merged) {
        // Made on the snapshot thread; the file before is read when this one's turn comes.
        const store = this.store;
        const input = mergeInput(image, changes);
        stream = store.snapshotWith(rev, (dir) => this.merger.write(dir, rev, { path: store.snapshotFile(base.index), index: base.index }, input), faultsSeen);
      } else stream = this.store.snapshotStream(rev, snapshotLines(image), faultsSeen);
    } catch (err) {
      stream = Promise.reject(err);
    }
    stream.then(
      (written) => {
        this.lastSnapshot = rev;
        // Skipped (one as new was already there, from elsewhere): no file of this image to make the next from.
        if (written) this.mergeBase = { index: rev, generation: changed.generation };
        this.log.info('snapshot written', {
          revision: rev, entries: this.registry.size, ms: Date.now() - started, ...(merged ? { from: base.index, changed: changes.changes } : {}),
        });
      },
      (err: unknown) => this.log.error('snapshot failed; the log keeps growing until one succeeds', { err }),
    ).finally(() => {
      image.release();
      this.snapshotting = false;
    });
  }
}

/**
 * How far to the next snapshot its thread is started: a quarter of the interval ahead is at least
 * 2,500 writes, which take longer than the thread's ~60 ms start even at 20,000 writes a second.
 */
const WARM_AT = 0.75;

/**
 * Log records between snapshots for a registry of `size` entries: at least `every`, and at least
 * an eighth of the registry. Writing a snapshot whole costs about 1 µs of CPU an entry (one made
 * from the one before, ~0.3 µs an unchanged entry's line and ~2 µs a changed one) and replaying a
 * logged record at restart about 10 µs, so this keeps snapshot work to a few µs a write however
 * large the registry grows (against ~40–60 µs for the write itself), while a restart replays at most
 * an eighth of the registry on top of loading the snapshot. The floor `every` (10,000 by default)
 * matters below 80,000 entries: at 100,000 it was 50,000, and a restart then replayed up to half
 * the registry's worth of records (~5 µs each) after a snapshot that loads at ~1 µs an entry.
 */
export function snapshotInterval(every: number, size: number): number {
  return Math.max(every, Math.ceil(size / 8));
}

/** A write the store would not take, as the error its client gets. */
function writeError(err: unknown): Error {
  if (err instanceof StorageError && err.code === 'UNAVAILABLE') {
    return new DpnsError('STORAGE_UNAVAILABLE', `the name server cannot write to its disk (${err.errno ?? 'EIO'}), so this write was not applied; writes resume by themselves once the disk has room (or the server has file descriptors) again, reads still work`, {
      details: { cause: err.errno ?? 'EIO' },
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}
