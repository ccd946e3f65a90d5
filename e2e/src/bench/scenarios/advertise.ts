// Scenario 3: durable writes. Every `advertiseService` (static) answer means the write is on
// disk, so this measures the write-ahead log's commit path under 64 concurrent writers.
import type { BenchContext } from '../context.js';
import { startBenchServer } from '../nameserver.js';
import { status } from '../report.js';
import { rpcLoop } from '../shapes.js';

export async function runAdvertise(ctx: BenchContext): Promise<void> {
  const { cfg } = ctx;
  status('advertise: starting a name server');
  const server = await startBenchServer(cfg);
  try {
    const conns = await server.connect(cfg.connections, true);
    // Distinct names, spread over many parents so no ordering of the index is favoured.
    const run = Math.random().toString(36).slice(2, 8);
    const res = await rpcLoop(conns, cfg.inFlight, cfg, (seq) => [
      'advertiseService',
      { name: `/bench/adv/${run}/g${seq % 997}/s${seq}`, host: '127.0.0.1', port: 1024 + (seq % 60_000), static: true },
    ], server.pid);
    ctx.add({
      key: 'advertise', label: 'advertise (durable)', system: 'dpns', shape: ctx.shape(cfg.inFlight, cfg.connections),
      ...ctx.measured(res), peakRssMB: server.memory().peakMB, note: res.firstError,
    });
  } finally {
    await server.stop();
  }
}
