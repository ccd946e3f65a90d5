// The closed-loop load generator: `inFlight` requests outstanding at all times, each new
// request sent as soon as an answer arrives, over whatever transport `issue` speaks.
// Only answers that arrive inside the measured window count, after a warm-up.
import { performance } from 'node:perf_hooks';
import { cpuMeter } from './cpu.js';
import { Histogram } from './histogram.js';
import { isAborting } from './lifecycle.js';

/** Sends request number `seq` on slot `slot` and calls `done` once with whether it succeeded. */
export type Issue = (slot: number, seq: number, done: (ok: boolean) => void) => void;

export interface LoadOptions {
  /** Requests kept outstanding; slot k is meant for connection k % connections. */
  inFlight: number;
  warmupMs: number;
  durationMs: number;
  issue: Issue;
  /** The server's process id, to report its CPU use over the window. */
  serverPid?: number;
}

export interface LoadResult {
  ops: number;
  errors: number;
  /** Measured successful operations per second. */
  opsPerSec: number;
  latency: Histogram;
  elapsedMs: number;
  /** CPU use over the window, in % of one core: the server's (NaN when unknown) and the generator's. */
  serverCpuPct: number;
  clientCpuPct: number;
}

/** Runs the closed loop and resolves once the window has ended and every slot has drained. */
export function closedLoop(opts: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve) => {
    const latency = new Histogram();
    let seq = 0;
    let measuring = false;
    let stopping = false;
    let ops = 0;
    let errors = 0;
    let active = 0;
    let windowStart = 0;
    let windowEnd = 0;
    let cpu = { serverPct: NaN, clientPct: NaN };
    let meter: ReturnType<typeof cpuMeter> | undefined;

    const finish = (): void => {
      const elapsedMs = windowEnd - windowStart;
      resolve({ ops, errors, opsPerSec: (ops / elapsedMs) * 1000, latency, elapsedMs, serverCpuPct: cpu.serverPct, clientCpuPct: cpu.clientPct });
    };

    const launch = (slot: number): void => {
      const sentAt = performance.now();
      let settled = false;
      active++;
      opts.issue(slot, seq++, (ok) => {
        if (settled) return;
        settled = true;
        active--;
        const now = performance.now();
        // Throughput counts every answer inside the window; latency only requests also sent inside it.
        if (measuring) {
          if (!ok) errors++;
          else {
            ops++;
            if (sentAt >= windowStart) latency.record(now - sentAt);
          }
        }
        if (!stopping && !isAborting()) launch(slot);
        else if (active === 0) finish();
      });
    };

    for (let s = 0; s < opts.inFlight; s++) launch(s);
    setTimeout(() => {
      measuring = true;
      windowStart = performance.now();
      meter = cpuMeter(opts.serverPid);
      setTimeout(() => {
        measuring = false;
        stopping = true;
        windowEnd = performance.now();
        if (meter !== undefined) cpu = meter.stop();
        if (active === 0) finish();
      }, opts.durationMs);
    }, opts.warmupMs);
  });
}

/** One result from several windows of the same shape: totals, merged latencies, time-weighted CPU. */
export function mergeResults(parts: readonly LoadResult[]): LoadResult {
  const latency = new Histogram();
  let ops = 0;
  let errors = 0;
  let elapsedMs = 0;
  let serverCpu = 0;
  let clientCpu = 0;
  for (const p of parts) {
    latency.merge(p.latency);
    ops += p.ops;
    errors += p.errors;
    elapsedMs += p.elapsedMs;
    serverCpu += p.serverCpuPct * p.elapsedMs;
    clientCpu += p.clientCpuPct * p.elapsedMs;
  }
  return {
    ops, errors, latency, elapsedMs, opsPerSec: (ops / elapsedMs) * 1000,
    serverCpuPct: serverCpu / elapsedMs, clientCpuPct: clientCpu / elapsedMs,
  };
}
