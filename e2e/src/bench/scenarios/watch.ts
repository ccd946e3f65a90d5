// Scenario 6: 10,000 watches on `/*` (20 connections × 500) while one writer advertises at a
// steady pace: the write's latency, and whether every watch saw every write.
import type { BenchContext } from '../context.js';
import { startBenchServer } from '../nameserver.js';
import { pacedWrites } from '../paced-writer.js';
import { status } from '../report.js';
import type { WatchWorkerData } from '../watch-protocol.js';
import { startWatchers } from '../watchers.js';

const WORKER = new URL('../watch-worker.js', import.meta.url);

export async function runWatch(ctx: BenchContext): Promise<void> {
  const { cfg } = ctx;
  const want = cfg.watchConnections * cfg.watchesPerConnection;
  status(`watch: starting a name server and ${want.toLocaleString('en-US')} watches on /* (${cfg.watchConnections} × ${cfg.watchesPerConnection})`);
  const server = await startBenchServer(cfg);
  try {
    const data: WatchWorkerData = { url: server.url, connections: cfg.watchConnections, watchesPerConnection: cfg.watchesPerConnection, pattern: '/*' };
    const watchers = await startWatchers(WORKER, data);
    try {
      const { ready } = watchers;
      const refused = Object.entries(ready.refused).map(([code, n]) => `${n} ${code}`).join(', ');
      status(`watch: ${ready.watches.toLocaleString('en-US')} watches open in ${(ready.setupMs / 1000).toFixed(1)} s${refused === '' ? '' : `, refused: ${refused}`}`);
      const [writer] = await server.connect(1, true);
      if (writer === undefined) throw new Error('no writer connection');
      const res = await pacedWrites(async (seq) => {
        const msg = await writer.call('advertiseService', { name: `/bench/watch/s${seq}`, host: '127.0.0.1', port: 1024 + seq, static: true });
        return !('error' in msg);
      }, { ratePerSec: cfg.watchWritesPerSec, warmupMs: cfg.warmupMs, durationMs: cfg.durationMs, serverPid: server.pid });
      const seen = await watchers.expect(res.acked, 30_000);
      const all = seen.complete === seen.watches && seen.watches === want;
      ctx.add({
        key: 'watch', label: `write with ${want.toLocaleString('en-US')} watches on /*`, system: 'dpns',
        shape: `1 writer, ~${cfg.watchWritesPerSec}/s random`,
        opsPerSec: res.writesPerSec, p50Ms: res.latency.quantile(0.5), p99Ms: res.latency.quantile(0.99),
        serverCpuPct: res.serverCpuPct, clientCpuPct: res.clientCpuPct,
        peakRssMB: server.memory().peakMB, errors: res.errors + (want - ready.watches), verified: all,
        note: `${seen.complete.toLocaleString('en-US')}/${want.toLocaleString('en-US')} watches saw all ${res.acked} writes` +
          (all ? '' : ` (events per watch: min ${seen.min}, max ${seen.max})`) + (refused === '' ? '' : `; refused: ${refused}`),
      });
    } finally {
      await watchers.close();
    }
  } finally {
    await server.stop();
  }
}
