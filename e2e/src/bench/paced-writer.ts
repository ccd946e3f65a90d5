// One writer at a given mean rate (for the watch scenarios). Writes are sent at random times
// (exponential gaps, as from independent clients), one at a time: a write due while the
// previous one is unanswered goes as soon as that answer arrives. Random times matter: a
// fixed pace falls into step with the server's own cycle (answer, then fan-out to the
// watchers) and never sees a write that arrives mid-fan-out. Every write is counted, so
// watchers can be checked against the total; only the measured window's latencies are kept.
import { cpuMeter } from './cpu.js';
import { Histogram } from './histogram.js';
import { isAborting } from './lifecycle.js';

/** Performs write number `seq`; resolves with whether it succeeded. */
export type Write = (seq: number) => Promise<boolean>;

export interface PacedResult {
  /** Writes acknowledged with success, warm-up included. */
  acked: number;
  errors: number;
  latency: Histogram;
  writesPerSec: number;
  /** CPU use over the window, % of one core (the generator's includes its watch workers). */
  serverCpuPct: number;
  clientCpuPct: number;
}

export async function pacedWrites(write: Write, opts: { ratePerSec: number; warmupMs: number; durationMs: number; serverPid?: number }): Promise<PacedResult> {
  const latency = new Histogram();
  const meanGap = 1000 / opts.ratePerSec;
  const start = performance.now();
  let due = start;
  const windowStart = start + opts.warmupMs;
  const end = windowStart + opts.durationMs;
  let acked = 0;
  let errors = 0;
  let measured = 0;
  let meter: ReturnType<typeof cpuMeter> | undefined;
  for (let seq = 0; ; seq++) {
    due += -Math.log(1 - Math.random()) * meanGap;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sentAt = performance.now();
    if (sentAt >= end || isAborting()) break;
    if (sentAt >= windowStart) meter ??= cpuMeter(opts.serverPid);
    const ok = await write(seq);
    const now = performance.now();
    if (ok) acked++;
    else errors++;
    if (sentAt >= windowStart && ok) {
      latency.record(now - sentAt);
      measured++;
    }
  }
  const cpu = meter?.stop() ?? { serverPct: NaN, clientPct: NaN };
  return { acked, errors, latency, writesPerSec: (measured / opts.durationMs) * 1000, serverCpuPct: cpu.serverPct, clientCpuPct: cpu.clientPct };
}
