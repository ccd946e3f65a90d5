// The health checker: while this server is the primary, it probes every advertised service
// that has a health check (a static entry's own, or a launched service's spec's) every
// `intervalMs`, counts failures in a row, and writes the state change (`unhealthy` after
// `threshold` failures, `running` again after one pass) through the log like any other write,
// so backups, restarts and watchers see it. The rules of that write are registry/health-rules.ts.
//
// Bounded: one probe in flight per entry (the next starts an interval after the last started,
// never while one runs), at most `maxConcurrent` probes at once over all entries (the others
// wait their turn, so intervals stretch rather than the server's sockets), and each probe only
// to the address the entry advertises (probe.ts).
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../metrics.js';
import { checkTarget, planHealth, targetKey, type CheckTarget, type Verdict } from '../registry/health-rules.js';
import type { Op } from '../registry/ops.js';
import type { Registry } from '../registry/registry.js';
import { probe } from './probe.js';

/** Probes in flight at once, over all entries. */
export const DEFAULT_MAX_CONCURRENT_PROBES = 64;

export interface HealthCheckerOptions {
  registry: Registry;
  commit(ops: Op[]): Promise<number>;
  log: Logger;
  now(): number;
  /** Told once a service's `unhealthy` state is durable: its restart policy may replace it. */
  onUnhealthy?(name: string): void;
  metrics?: ServerMetrics;
  maxConcurrent?: number;
}

/** One entry's probing: what it probes, and its failures in a row. */
interface Loop {
  key: string;
  target: CheckTarget;
  timer: NodeJS.Timeout | undefined;
  inFlight: boolean;
  failures: number;
}

export class HealthChecker {
  private readonly loops = new Map<string, Loop>();
  private active = false;
  private stopObserving: (() => void) | undefined;
  private readonly dirty = new Set<string>();
  private syncQueued = false;
  private inFlight = 0;
  /** Probes waiting for a slot, oldest first; told false when the checker stops. */
  private readonly queue: ((go: boolean) => void)[] = [];
  private readonly maxConcurrent: number;

  constructor(private readonly o: HealthCheckerOptions) {
    this.maxConcurrent = o.maxConcurrent ?? DEFAULT_MAX_CONCURRENT_PROBES;
  }

  /** Entries being probed now. */
  get size(): number {
    return this.loops.size;
  }

  /** Starts probing (this server became the primary). Failure counts start from zero. */
  start(): void {
    if (this.active) return;
    this.active = true;
    // Told before each put or delete is applied: read the entry once the record is applied.
    this.stopObserving = this.o.registry.observe((name) => this.touched(name));
    for (const name of this.o.registry.checked()) this.sync(name);
  }

  /** Stops probing (stepped down, or closing); probes in flight finish and their verdicts are dropped. Safe to call twice. */
  stop(): void {
    this.active = false;
    this.stopObserving?.();
    this.stopObserving = undefined;
    for (const l of this.loops.values()) if (l.timer !== undefined) clearTimeout(l.timer);
    this.loops.clear();
    this.dirty.clear();
    for (const go of this.queue.splice(0)) go(false);
  }

  private touched(name: string): void {
    this.dirty.add(name);
    if (this.syncQueued) return;
    this.syncQueued = true;
    queueMicrotask(() => {
      this.syncQueued = false;
      if (!this.active) return;
      const checked = this.o.registry.checked();
      // Most writes are of entries without a check: only those with one, or probed until now, are read.
      for (const n of this.dirty) if (checked.has(n) || this.loops.has(n)) this.sync(n);
      this.dirty.clear();
    });
  }

  /** Starts, keeps, restarts or ends the probing of `name` as its entry now says. */
  private sync(name: string): void {
    const target = checkTarget(this.o.registry.get(name));
    const loop = this.loops.get(name);
    if (target === undefined) {
      if (loop !== undefined) this.drop(name, loop);
      return;
    }
    const key = targetKey(target);
    // Its own state change (running <-> unhealthy) keeps the loop and its count.
    if (loop?.key === key) return;
    if (loop !== undefined) this.drop(name, loop);
    const l: Loop = { key, target, timer: undefined, inFlight: false, failures: 0 };
    this.loops.set(name, l);
    this.schedule(name, l, 0);
  }

  private drop(name: string, l: Loop): void {
    if (l.timer !== undefined) clearTimeout(l.timer);
    this.loops.delete(name);
  }

  private schedule(name: string, l: Loop, delayMs: number): void {
    l.timer = setTimeout(() => {
      l.timer = undefined;
      void this.run(name, l);
    }, delayMs);
    l.timer.unref();
  }

  private current(name: string, l: Loop): boolean {
    return this.active && this.loops.get(name) === l;
  }

  private async run(name: string, l: Loop): Promise<void> {
    if (!this.current(name, l) || l.inFlight) return;
    l.inFlight = true;
    const started = performance.now();
    const { host, port, check } = l.target;
    let result;
    try {
      if (!(await this.slot())) return;
      try {
        result = await probe(host, port, check);
      } finally {
        this.release();
      }
    } finally {
      l.inFlight = false;
    }
    if (!this.current(name, l)) return;
    this.o.metrics?.healthChecks.inc({ kind: check.kind, outcome: result.ok ? 'ok' : 'failed' });
    let verdict: Verdict | undefined;
    if (result.ok) {
      l.failures = 0;
      verdict = { healthy: true };
    } else {
      l.failures++;
      if (l.failures >= check.threshold) verdict = { healthy: false, reason: `${result.reason} (${l.failures} in a row)` };
    }
    // The next probe starts an interval after this one started (a probe is shorter than an interval).
    this.schedule(name, l, Math.max(0, check.intervalMs - (performance.now() - started)));
    if (verdict !== undefined) this.record(name, l.target, verdict);
  }

  private record(name: string, target: CheckTarget, verdict: Verdict): void {
    const ops = planHealth(this.o.registry, name, target, verdict, this.o.now());
    if (ops.length === 0) {
      // Unhealthy already (before a restart or a failover too, since the state is in the log): its
      // restart policy hears of it again, so a replacement is not forgotten with the server's memory.
      const e = this.o.registry.get(name);
      if (!verdict.healthy && e?.kind === 'service' && e.state === 'unhealthy') this.o.onUnhealthy?.(name);
      return;
    }
    this.o.log.info(verdict.healthy ? 'a service passes its health check again' : 'a service fails its health check', {
      service: name, ...(verdict.healthy ? {} : { reason: verdict.reason }),
    });
    this.o.commit(ops).then(() => {
      if (!verdict.healthy) this.o.onUnhealthy?.(name);
    }, (err: unknown) => {
      // Not the primary any more, or the disk refuses writes: the next verdict plans it again.
      this.o.log.warn('could not record a health check\'s verdict', { service: name, err: (err as Error).message });
    });
  }

  private slot(): Promise<boolean> {
    if (this.inFlight < this.maxConcurrent) {
      this.inFlight++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.queue.push((go) => {
      if (go) this.inFlight++;
      resolve(go);
    }));
  }

  private release(): void {
    this.inFlight--;
    this.queue.shift()?.(true);
  }
}
