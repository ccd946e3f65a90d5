// Gives back the memory a burst of work leaves behind once the server goes quiet.
//
// Loading 100,000 names leaves V8's heap at ~110 MB for ~35 MB of live objects: the young
// generation grown to its 32 MB and the requests' garbage promoted to the old one. V8 gives it
// back by itself only when its memory reducer runs, 40–75 s after the burst on the benchmark VM
// (it waits for the allocation rate to fall over several 8 s timers). This does the same
// collection (V8's low-memory GC: compacting, the young generation shrunk, freed pages
// unmapped) as soon as half a second passes in which the process all but idled, and only when
// the heap has grown by enough since the last one to be worth the pause.
//
// The collection stops the process for its length (~110 ms at 100,000 names): a request that
// arrives meanwhile waits, once, after a burst. It is not made when the heap is large enough for
// that wait to be long: those heaps are left to V8, whose own reducer works incrementally.
import { createRequire } from 'node:module';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type * as Inspector from 'node:inspector';
import type { Logger } from './log.js';

export interface HeapReducerOptions {
  log: Logger;
  /** How often to look (a look costs a few µs), and so the quiet time a collection waits for. */
  checkMs?: number;
  /** The share of the last check's time the event loop may have worked and still count as quiet. */
  quietUtilization?: number;
  /** Growth of the heap since the last collection (or the start) below which none is made. */
  minGrowthBytes?: number;
  /** The heap size above which none is made: the pause grows with the live heap. */
  maxHeapBytes?: number;
  /** The collection itself; by default V8's low-memory GC through the in-process inspector. */
  collect?: () => Promise<void>;
  /** The heap's size now; by default V8's total_heap_size. */
  heapBytes?: () => number;
}

/** Half a second of quiet is enough to tell a burst has ended. */
export const CHECK_MS = 500;
/** The last check's event-loop utilization at most this is quiet: 25 ms of work in half a second (an idle server shows ~1 %: the loop-delay sampler wakes it a hundred times a second). */
export const QUIET_UTILIZATION = 0.05;
/** Less growth than this is not worth a collection. */
export const MIN_GROWTH_BYTES = 32 * 1024 * 1024;
/**
 * A larger heap is left to V8: the pause grows with the heap, ~1 ms a MB (measured after loading
 * 50,000, 100,000, 200,000 and 300,000 names: 88, 106, 166 and 220 MB, 82, 111, 176 and 247 ms),
 * and a request arriving meanwhile waits for it.
 */
export const MAX_HEAP_BYTES = 160 * 1024 * 1024;

export class HeapReducer {
  private readonly timer: NodeJS.Timeout;
  private last: EventLoopUtilization = performance.eventLoopUtilization();
  /** The heap's size after the last collection: growth is counted from it. */
  private baseline: number;
  private readonly heapBytes: () => number;
  private collecting = false;

  private constructor(
    private readonly opts: HeapReducerOptions,
    private readonly collect: () => Promise<void>,
  ) {
    this.heapBytes = opts.heapBytes ?? (() => getHeapStatistics().total_heap_size);
    this.baseline = this.heapBytes();
    this.timer = setInterval(() => void this.check(), opts.checkMs ?? CHECK_MS);
    this.timer.unref();
  }

  /**
   * Starts looking. Undefined when this Node has no inspector to ask V8 for the collection
   * (built without it): V8's own reducer then does the work, later.
   */
  static async start(opts: HeapReducerOptions): Promise<HeapReducer | undefined> {
    const collect = opts.collect ?? lowMemoryGc();
    if (collect === undefined) {
      opts.log.debug('no inspector in this Node: memory left after bursts is given back by V8 alone');
      return undefined;
    }
    return new HeapReducer(opts, collect);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One look: collects when the last interval was quiet and the heap has grown enough; true when it did. */
  async check(): Promise<boolean> {
    if (this.collecting) return false;
    const now = performance.eventLoopUtilization();
    const quiet = performance.eventLoopUtilization(now, this.last).utilization <= (this.opts.quietUtilization ?? QUIET_UTILIZATION);
    this.last = now;
    const before = this.heapBytes();
    // The heap shrank by itself (V8's reducer ran): growth counts from there.
    if (before < this.baseline) this.baseline = before;
    if (!quiet || before - this.baseline < (this.opts.minGrowthBytes ?? MIN_GROWTH_BYTES) || before > (this.opts.maxHeapBytes ?? MAX_HEAP_BYTES)) return false;
    const started = performance.now();
    this.collecting = true;
    try {
      await this.collect();
    } catch (err) {
      // Not worth stopping for: V8 collects by itself anyway. Not tried again until the heap grows more.
      this.opts.log.warn('could not ask V8 to give back memory', { err });
      this.baseline = before;
      return false;
    } finally {
      this.collecting = false;
    }
    this.baseline = this.heapBytes();
    // The work of the collection itself is not the server's: the next look starts from here.
    this.last = performance.eventLoopUtilization();
    this.opts.log.info('heap given back after a burst', { heapBeforeMB: mb(before), heapAfterMB: mb(this.baseline), ms: Math.round(performance.now() - started) });
    return true;
  }
}

/**
 * V8's low-memory GC (Isolate::LowMemoryNotification, what a heap snapshot starts with), which
 * Node exposes only to an inspector session: one in this process, no port opened.
 */
function lowMemoryGc(): (() => Promise<void>) | undefined {
  let Session: typeof Inspector.Session;
  try {
    // require, not import(): a bundle (the binary's, the fast start's) has no loader for import().
    ({ Session } = createRequire(import.meta.url)('node:inspector') as typeof Inspector);
  } catch {
    return undefined;
  }
  return () => new Promise<void>((resolve, reject) => {
    const session = new Session();
    session.connect();
    // Disconnecting within post's callback hangs the event loop for good (Node 20): a turn later.
    session.post('HeapProfiler.collectGarbage', (err) => setImmediate(() => {
      session.disconnect();
      if (err === null) resolve();
      else reject(err);
    }));
  });
}

/** Bytes in MB, to a tenth. */
function mb(bytes: number): number {
  return Math.round((bytes / 2 ** 20) * 10) / 10;
}
