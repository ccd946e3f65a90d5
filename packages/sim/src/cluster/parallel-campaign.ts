// Many schedules on several cores: seeds are handed out in blocks to worker threads, and the
// answer is the one a single runCampaign would give — the lowest failing seed, whatever order the
// blocks finish in (blocks after a failure are not started; blocks before it are finished).
import { Worker } from 'node:worker_threads';
import type { PlantedBug } from '@dpns/cluster-core';
import type { CampaignResult } from './campaign.js';
import type { BlockRequest } from './campaign-worker.js';
import type { ScheduleResult } from './schedule.js';

/** Seeds a worker is given at a time: enough that handing them out costs nothing, few enough that two workers end together. */
const BLOCK = 500;

export interface ParallelOptions {
  readonly jobs: number;
  readonly plant?: PlantedBug | undefined;
  /** Seeds a worker is given at a time (default 500). */
  readonly block?: number;
  /** Called with the number of schedules finished, every 10,000. */
  readonly progress?: (ran: number) => void;
}

export interface ParallelCampaign {
  readonly done: Promise<CampaignResult>;
  /** Every seed from `from` to this one held (for an interrupted run: where to go on from). */
  heldThrough(): number;
  /** Stops the workers; `done` then resolves with what finished. */
  stop(): Promise<void>;
}

export function runParallelCampaign(from: number, count: number, o: ParallelOptions): ParallelCampaign {
  const started = performance.now();
  const end = from + count;
  const finished = new Map<number, CampaignResult>();
  let next = from;
  let failure: ScheduleResult | undefined;
  let operations = 0;
  let memberChanges = 0;
  let worst = 0;
  let ran = 0;
  let reported = 0;
  let stopped = false;
  const workers: Worker[] = [];
  /** The first seed of the block each worker is running. */
  const running = new Map<Worker, number>();
  let resolveDone: (r: CampaignResult) => void = () => undefined;
  let rejectDone: (err: unknown) => void = () => undefined;
  const done = new Promise<CampaignResult>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  let busy = 0;

  const heldThrough = (): number => {
    let s = from;
    for (;;) {
      const r = finished.get(s);
      if (r === undefined || r.failure !== undefined) return s - 1;
      s += r.ran;
    }
  };
  const settle = (): void => {
    if (busy > 0) return;
    for (const w of workers) void w.terminate();
    const elapsedMs = performance.now() - started;
    if (failure === undefined) return resolveDone({ ran, operations, memberChanges, failure, worstRecoveryMs: worst, elapsedMs });
    // As a single run would have it: the schedules up to the failing one, those after it not counted.
    const f = failure;
    const before = [...finished.entries()].filter(([start]) => start <= f.seed).map(([, r]) => r);
    resolveDone({
      ran: f.seed - from + 1, operations: before.reduce((n, r) => n + r.operations, 0), memberChanges: before.reduce((n, r) => n + r.memberChanges, 0), failure: f,
      worstRecoveryMs: before.reduce((w, r) => Math.max(w, r.worstRecoveryMs), 0), elapsedMs,
    });
  };
  const give = (w: Worker): void => {
    // Past a failure only blocks of lower seeds are still worth running (none are started after it).
    const limit = failure === undefined ? end : Math.min(end, failure.seed);
    if (stopped || next >= limit) return settle();
    const req: BlockRequest = { from: next, count: Math.min(o.block ?? BLOCK, limit - next), plant: o.plant };
    next += req.count;
    busy++;
    running.set(w, req.from);
    w.postMessage(req);
  };
  const url = new URL('./campaign-worker.js', import.meta.url);
  for (let j = 0; j < Math.max(1, o.jobs); j++) {
    const w = new Worker(url);
    w.on('message', (m: { from: number; result: CampaignResult }) => {
      busy--;
      finished.set(m.from, m.result);
      ran += m.result.ran;
      operations += m.result.operations;
      memberChanges += m.result.memberChanges;
      worst = Math.max(worst, m.result.worstRecoveryMs);
      running.delete(w);
      const f = m.result.failure;
      if (f !== undefined && (failure === undefined || f.seed < failure.seed)) {
        failure = f;
        // Blocks of higher seeds cannot change the answer: their workers are let go at once.
        for (const [x, start] of running) {
          if (start <= f.seed) continue;
          running.delete(x);
          busy--;
          void x.terminate();
        }
      }
      while (o.progress !== undefined && ran - reported >= 10_000) o.progress((reported += 10_000));
      give(w);
    });
    w.on('error', (err) => {
      stopped = true;
      for (const x of workers) void x.terminate();
      rejectDone(err);
    });
    workers.push(w);
  }
  for (const w of workers) give(w);
  return {
    done,
    heldThrough,
    async stop(): Promise<void> {
      stopped = true;
      busy = 0;
      await Promise.all(workers.map((w) => w.terminate()));
      settle();
    },
  };
}
