// How late the event loop runs: the first thing to look at when clients time out or are dropped.
// Sampled by libuv (perf_hooks), read per window so /metrics shows the recent past, not the
// whole life of the process.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopDelayWindow {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export class LoopDelay {
  private readonly h: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private last: LoopDelayWindow = { p50Ms: 0, p99Ms: 0, maxMs: 0 };

  constructor(windowMs = 10_000) {
    this.h = monitorEventLoopDelay({ resolution: 10 });
    this.h.enable();
    this.timer = setInterval(() => this.roll(), windowMs);
    this.timer.unref();
  }

  /** The last 10 to 20 s: the completed window and the current one, the worse of the two for each figure. */
  window(): LoopDelayWindow {
    const cur = this.read();
    return { p50Ms: Math.max(cur.p50Ms, this.last.p50Ms), p99Ms: Math.max(cur.p99Ms, this.last.p99Ms), maxMs: Math.max(cur.maxMs, this.last.maxMs) };
  }

  /** The largest delay seen in the current window so far. */
  currentMaxMs(): number {
    return this.h.count > 0 ? this.h.max / 1e6 : 0;
  }

  close(): void {
    clearInterval(this.timer);
    this.h.disable();
  }

  private roll(): void {
    this.last = this.read();
    this.h.reset();
  }

  private read(): LoopDelayWindow {
    if (this.h.count === 0) return { p50Ms: 0, p99Ms: 0, maxMs: 0 };
    return { p50Ms: this.h.percentile(50) / 1e6, p99Ms: this.h.percentile(99) / 1e6, maxMs: this.h.max / 1e6 };
  }
}
