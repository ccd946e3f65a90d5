// Scenario 3: durable writes. Every `advertiseService` (static) answer means the write is on
// disk, so this measures the write-ahead log's commit path under 64 concurrent writers.
import type { BenchContext } from '../context.js';
import { startBenchServer } from '../nameserver.js';
import { status } from '../report.js';
import { rpcLoop, type ShapeResult } from '../shapes.js';

export async function runAdvertise(ctx: BenchContext): Promise<void> {
  const { cfg } = ctx;
  // With --baseline, the baseline's server is measured between two halves of this one's, so
  // that a disk growing slower or faster over the run does not favour either.
  const rounds: ('this' | 'baseline')[] = cfg.baselineBin === undefined ? ['this'] : ['this', 'baseline', 'this'];
  const parts: { which: 'this' | 'baseline'; res: ShapeResult; peakMB: number }[] = [];
  for (const which of rounds) {
    status(`advertise: starting ${which === 'this' ? 'a' : 'the baseline\'s'} name server`);
    const server = await startBenchServer(cfg, [], which === 'baseline');
    try {
      const conns = await server.connect(cfg.connections, true);
      // Distinct names, spread over many parents so no ordering of the index is favoured.
      const run = Math.random().toString(36).slice(2, 8);
      const res = await rpcLoop(conns, cfg.inFlight, cfg, (seq) => [
        'advertiseService',
        { name: `/bench/adv/${run}/g${seq % 997}/s${seq}`, host: '127.0.0.1', port: 1024 + (seq % 60_000), static: true },
      ], server.pid);
      parts.push({ which, res, peakMB: server.memory().peakMB });
    } finally {
      await server.stop();
    }
  }
  for (const which of ['this', 'baseline'] as const) {
    const mine = parts.filter((p) => p.which === which);
    const first = mine[0];
    if (first === undefined) continue;
    // Two halves of this build's run: the one nearer the median of the two is not better defined
    // than their mean, so the row gives the mean throughput and the worse latencies.
    const m = mine.map((p) => ctx.measured(p.res));
    const mean = (f: (x: (typeof m)[number]) => number | undefined): number | undefined => {
      const xs = m.map(f).filter((x): x is number => x !== undefined);
      return xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    ctx.add({
      key: which === 'this' ? 'advertise' : 'advertise.baseline', label: which === 'this' ? 'advertise (durable)' : 'advertise (durable, the --baseline build)',
      system: which === 'this' ? 'dpns' : 'dpns baseline', shape: ctx.shape(cfg.inFlight, cfg.connections),
      ...m[0], opsPerSec: mean((x) => x.opsPerSec), p50Ms: Math.max(...m.map((x) => x.p50Ms ?? 0)), p99Ms: Math.max(...m.map((x) => x.p99Ms ?? 0)),
      errors: m.reduce((n, x) => n + (x.errors ?? 0), 0), serverCpuPct: mean((x) => x.serverCpuPct), clientCpuPct: mean((x) => x.clientCpuPct),
      peakRssMB: Math.max(...mine.map((p) => p.peakMB)), note: first.res.firstError,
    });
  }
}
