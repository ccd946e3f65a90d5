// Scenario 3: durable writes. Every `advertiseService` (static) answer means the write is on
// disk, so this measures the write-ahead log's commit path under 64 concurrent writers. With
// --baseline, another build's server is measured beside it in alternating slices.
import type { BenchContext } from '../context.js';
import { startBenchServer } from '../nameserver.js';
import { status } from '../report.js';
import { describeError, rpcIssue, rpcLoop, type MakeRequest } from '../shapes.js';
import { measureSlices, type Target } from '../slices.js';

export async function runAdvertise(ctx: BenchContext): Promise<void> {
  const { cfg } = ctx;
  status('advertise: starting a name server');
  const server = await startBenchServer(cfg);
  const base = cfg.baselineBin === undefined ? undefined : await startBenchServer(cfg, [], true);
  try {
    // Distinct names, spread over many parents so no ordering of the index is favoured.
    const request = (run: string): MakeRequest => (seq) => [
      'advertiseService',
      { name: `/bench/adv/${run}/g${seq % 997}/s${seq}`, host: '127.0.0.1', port: 1024 + (seq % 60_000), static: true },
    ];
    const label = { this: 'advertise (durable)', baseline: 'advertise (durable, the --baseline build)' };
    if (base === undefined) {
      const conns = await server.connect(cfg.connections, true);
      const res = await rpcLoop(conns, cfg.inFlight, cfg, request(Math.random().toString(36).slice(2, 8)), server.pid);
      ctx.add({
        key: 'advertise', label: label.this, system: 'dpns', shape: ctx.shape(cfg.inFlight, cfg.connections),
        ...ctx.measured(res), peakRssMB: server.memory().peakMB, note: res.firstError,
      });
      return;
    }
    // Against a baseline, both servers run at once and are measured in alternating slices, so
    // that the disk's moods (fsync times move by 2x from one minute to the next here) land on both.
    status('advertise and the baseline\'s advertise: measuring in alternating slices');
    const errors: (string | undefined)[] = [undefined, undefined];
    const targets: Target[] = [];
    for (const [k, s] of [server, base].entries()) {
      const conns = await s.connect(cfg.connections, true);
      const issue = rpcIssue(conns, request(`${k}${Math.random().toString(36).slice(2, 8)}`), (msg) => {
        errors[k] ??= describeError(msg);
      });
      targets.push({ issue, pid: s.pid, stop: () => s.stop() });
    }
    const [mine, theirs] = await measureSlices(cfg, targets);
    if (mine !== undefined) {
      ctx.add({
        key: 'advertise', label: label.this, system: 'dpns', shape: ctx.shape(cfg.inFlight, cfg.connections),
        ...ctx.measured(mine), peakRssMB: server.memory().peakMB, note: errors[0],
      });
    }
    if (theirs !== undefined) {
      ctx.add({
        key: 'advertise.baseline', label: label.baseline, system: 'dpns baseline', shape: ctx.shape(cfg.inFlight, cfg.connections),
        ...ctx.measured(theirs), peakRssMB: base.memory().peakMB, note: errors[1],
      });
    }
  } finally {
    await base?.stop();
    await server.stop();
  }
}
