// Scenario 6: 10,000 watches on `/*` while one writer advertises at random times averaging
// 50 a second: the write's latency, and whether every watch saw every write. Run twice, with
// the same number of watches spread differently: 20 connections × 500 (a connection gets one
// frame per change, whatever its number of watches) and 1,000 connections × 10 (1,000 frames
// per change), which shows what the fan-out costs per connection.
import type { BenchContext } from '../context.js';
import { startBenchServer } from '../nameserver.js';
import { pacedWrites } from '../paced-writer.js';
import { status } from '../report.js';
import type { WatchWorkerData } from '../watch-protocol.js';
import { startWatchers } from '../watchers.js';

const WORKER = new URL('../watch-worker.js', import.meta.url);

/** How the watches are spread over connections, and the row they are reported under. */
export interface WatchSpread {
  key: string;
  connections: number;
  watchesPerConnection: number;
}

/** Both spreads of the configured number of watches. */
export function watchSpreads(ctx: BenchContext): WatchSpread[] {
  const { cfg } = ctx;
  return [
    { key: 'watch', connections: cfg.watchConnections, watchesPerConnection: cfg.watchesPerConnection },
    { key: 'watch.conns', connections: cfg.watchManyConnections, watchesPerConnection: cfg.watchesPerManyConnection },
  ];
}

export async function runWatch(ctx: BenchContext, spread: WatchSpread): Promise<void> {
  const { cfg } = ctx;
  const want = spread.connections * spread.watchesPerConnection;
  const spreadText = `${spread.connections.toLocaleString('en-US')} conns × ${spread.watchesPerConnection}`;
  status(`watch: starting a name server and ${want.toLocaleString('en-US')} watches on /* (${spreadText})`);
  const server = await startBenchServer(cfg);
  try {
    const data: WatchWorkerData = { url: server.url, connections: spread.connections, watchesPerConnection: spread.watchesPerConnection, pattern: '/*' };
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
        key: spread.key, label: `write with ${want.toLocaleString('en-US')} watches on /*`, system: 'dpns',
        shape: `1 writer, ~${cfg.watchWritesPerSec}/s; ${spreadText}`,
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
