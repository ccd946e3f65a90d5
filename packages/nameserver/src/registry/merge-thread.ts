// Snapshots made from the one before, written on a thread of their own (merge-worker.ts): the
// event loop makes only what needs the registry (the head, the changed names' lines, the tables)
// and hands it over a batch at a time; reading, checking and copying the file before, and
// writing the new one, happen beside it. The thread is started ahead of a snapshot (warm), kept
// while snapshots follow each other closely, and let go a second after its last one, so what it
// read and wrote (~50 MB at 100,000 names, its heap's garbage and freed buffers) does not stay
// with the process once writes stop; one warmed for a snapshot that does not come is stopped after
// a minute. A thread that fails or stops fails that snapshot (the next is then written whole, here).
import { Worker } from 'node:worker_threads';
import { StorageError, type StorageErrorCode } from '../storage/errors.js';
import type { FromMerger, ToMerger } from './merge-messages.js';
import type { MergeInput } from './snapshot-merge.js';

/**
 * The worker's code as one script, when this runs from the release bundle (packages/release
 * defines it): there is no merge-worker.js file beside the bundle to start.
 */
declare const __DPNS_MERGE_WORKER__: string | undefined;

interface Pending {
  job: number;
  resolve: (bytes: number) => void;
  reject: (err: Error) => void;
}

/**
 * A thread warmed for a snapshot that has not come for this long is stopped: an idle one holds
 * ~16 MB (its own heap and modules), and the next snapshot starts one again (~60 ms, on that thread).
 */
export const MERGE_THREAD_IDLE_MS = 60_000;

/**
 * A thread is let go this long after its snapshot unless another starts: long enough to keep it
 * while snapshots follow each other (every ~0.6 s at 100,000 names and 20,000 writes a second;
 * starting one costs ~60 ms of CPU), short enough that it is gone soon after writes stop.
 */
export const MERGE_THREAD_AFTER_MS = 1_000;

export class MergeThread {
  private worker: Worker | undefined;
  private pending: Pending | undefined;
  private jobs = 0;
  private closed = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly idleMs = MERGE_THREAD_IDLE_MS,
    private readonly afterMs = MERGE_THREAD_AFTER_MS,
  ) {}

  /** Whether the thread is running (tests). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** The running thread's id (worker_threads' threadId), to tell one thread from the next (tests). */
  get threadId(): number | undefined {
    return this.worker?.threadId;
  }

  /**
   * Writes the snapshot at `index` into `dir` made from the one at `base` (its path and index)
   * and `input`, atomically (the Store's SnapshotWriter); resolves with the file's size. One at a
   * time: the store writes its snapshots in turn.
   */
  async write(dir: string, index: number, base: { path: string; index: number }, input: MergeInput): Promise<number> {
    if (this.closed) throw new StorageError('CLOSED', 'the snapshot thread is closed');
    if (this.pending !== undefined) throw new Error('a snapshot is already being made on the snapshot thread');
    const worker = this.start();
    const job = ++this.jobs;
    const done = new Promise<number>((resolve, reject) => (this.pending = { job, resolve, reject }));
    // Failures reach `done` (the thread's answer, or its exit); what is sent after one is dropped.
    done.catch(() => {});
    const send = (m: ToMerger): void => worker.postMessage(m);
    send({ t: 'start', job, dir, index, base: base.path, baseIndex: base.index, head: input.head, nameCount: input.nameCount });
    try {
      // Each batch is made on the event loop; requests are answered between them.
      for await (const b of input.changed) {
        if (!this.busyWith(job)) break;
        send({ t: 'changed', job, names: b.names, lines: b.lines });
        await new Promise((r) => setImmediate(r));
      }
      send({ t: 'changed-end', job });
      for await (const text of input.tables()) {
        if (!this.busyWith(job)) break;
        send({ t: 'tables', job, text });
        await new Promise((r) => setImmediate(r));
      }
      send({ t: 'end', job });
    } catch (err) {
      // The input failed (the registry was replaced meanwhile): this snapshot is dropped.
      this.stop(err instanceof Error ? err : new Error(String(err)));
    }
    return done;
  }

  /**
   * Starts the thread now, ahead of the snapshot it will make (its modules take ~60 ms to load,
   * during which writes would go on past the snapshot's interval).
   */
  warm(): void {
    if (this.closed) return;
    this.start();
    if (this.pending === undefined) this.idle(true);
  }

  private busyWith(job: number): boolean {
    return this.pending?.job === job;
  }

  /** Stops the thread (after the store has closed: nothing is being written then). */
  async close(): Promise<void> {
    this.closed = true;
    this.idle(false);
    const ended = this.detach();
    this.settle(new StorageError('CLOSED', 'the snapshot thread was closed'));
    await ended;
  }

  private start(): Worker {
    this.idle(false);
    if (this.worker !== undefined) return this.worker;
    const w = typeof __DPNS_MERGE_WORKER__ === 'string'
      ? new Worker(__DPNS_MERGE_WORKER__, { eval: true })
      : new Worker(new URL('./merge-worker.js', import.meta.url));
    // It never keeps the process up: a snapshot in progress is waited for by the store's close.
    w.unref();
    w.on('message', (m: FromMerger) => {
      if (this.pending?.job !== m.job) return;
      if (m.t === 'done') this.settle(undefined, m.bytes);
      else this.settle(failure(m));
    });
    w.on('error', (err) => this.gone(w, err));
    w.on('exit', (code) => this.gone(w, new Error(`the snapshot thread stopped (exit code ${code})`)));
    this.worker = w;
    return w;
  }

  /** A failed job ends the thread, so the next starts from nothing left over. */
  private stop(err: Error): void {
    void this.detach();
    this.settle(err);
  }

  /** Lets the thread go (its exit is then no one's failure); resolves once it has ended. */
  private async detach(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  private gone(w: Worker, err: Error): void {
    // One let go (detach) may end after the next has taken a snapshot: its end fails nothing.
    if (this.worker !== w) return;
    this.worker = undefined;
    this.settle(err);
  }

  /** Starts (or, with false, stops) counting the time the thread has had nothing to do, up to `ms`. */
  private idle(from: boolean, ms = this.idleMs): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!from || this.worker === undefined) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.pending === undefined) void this.detach();
    }, ms);
    this.idleTimer.unref();
  }

  private settle(err: Error | undefined, bytes = 0): void {
    const p = this.pending;
    this.pending = undefined;
    if (p === undefined) return;
    // Unless another snapshot comes soon, the thread goes with what it holds: 225 against 172 MiB
    // of RSS 2 s after loading 100,000 names (docs/BENCHMARKS.md, History, 2026-12-05 night).
    this.idle(true, this.afterMs);
    if (err === undefined) p.resolve(bytes);
    else p.reject(err);
  }
}

/** The thread's error as this side's: a StorageError keeps its code (the thread runs this code base's), a system call's error its errno. */
function failure(m: Extract<FromMerger, { t: 'failed' }>): Error {
  if (m.name === 'StorageError' && m.code !== undefined) return new StorageError(m.code as StorageErrorCode, m.message);
  const err = new Error(m.message) as Error & { code?: string };
  if (m.code !== undefined) err.code = m.code;
  return err;
}
