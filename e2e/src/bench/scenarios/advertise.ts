// Scenario 3: durable writes. Every `advertiseService` (static) answer means the write is on
// disk, so this measures the write-ahead log's commit path under 64 concurrent writers, in
// slices (slices.ts); with --baseline, another build's server in alternating slices beside it.
import type { BenchContext } from '../context.js';
import { startBenchServer, type BenchServer } from '../nameserver.js';
import { status } from '../report.js';
import { describeError, rpcIssue } from '../shapes.js';
import { measureSlices, type Target } from '../slices.js';

export async function runAdvertise(ctx: BenchContext): Promise<void> {
  const { cfg } = ctx;
  status('advertise: starting a name server');
  const servers = [await startBenchServer(cfg)];
  if (cfg.baselineBin !== undefined) servers.push(await startBenchServer(cfg, [], true));
  try {
    // Against a baseline both servers run at once and are measured in alternating slices, so
    // that the disk's moods (fsync times move by 2x from one minute to the next here) land on both.
    if (servers.length > 1) status('advertise and the baseline\'s advertise: measuring in alternating slices');
    const errors: (string | undefined)[] = [];
    const targets: Target[] = [];
    for (const [k, s] of servers.entries()) {
      const conns = await s.connect(cfg.connections, true);
      // Distinct names, spread over many parents so no ordering of the index is favoured.
      const run = `${k}${Math.random().toString(36).slice(2, 8)}`;
      const issue = rpcIssue(conns, (seq) => [
        'advertiseService',
        { name: `/bench/adv/${run}/g${seq % 997}/s${seq}`, host: '127.0.0.1', port: 1024 + (seq % 60_000), static: true },
      ], (msg) => {
        errors[k] ??= describeError(msg);
      });
      targets.push({ issue, pid: s.pid, stop: () => s.stop() });
    }
    const results = await measureSlices(cfg, targets);
    for (const [k, res] of results.entries()) {
      const s = servers[k] as BenchServer;
      ctx.add({
        key: k === 0 ? 'advertise' : 'advertise.baseline', label: k === 0 ? 'advertise (durable)' : 'advertise (durable, the --baseline build)',
        system: k === 0 ? 'dpns' : 'dpns baseline', shape: ctx.shape(cfg.inFlight, cfg.connections),
        ...ctx.measured(res), peakRssMB: s.memory().peakMB, note: errors[k],
      });
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}
