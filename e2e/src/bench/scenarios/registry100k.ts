// Scenarios 4 and 5 share one server with 100,000 registered names: its resident memory
// once they are loaded, and `listServices` with a prefix pattern over them.
import type { BenchContext } from '../context.js';
import { startBenchServer } from '../nameserver.js';
import { status } from '../report.js';
import { randInt, rpcLoop } from '../shapes.js';
import { loadServices } from './services.js';

export async function runRegistry100k(ctx: BenchContext, which: { list: boolean; rss: boolean }): Promise<void> {
  const { cfg } = ctx;
  const groups = cfg.listGroups;
  const per = cfg.listPerGroup;
  const total = groups * per;
  status(`list/rss: starting a name server and registering ${total.toLocaleString('en-US')} services`);
  const server = await startBenchServer(cfg);
  try {
    await loadServices(server, total, (i) => `/bench/g${Math.floor(i / per)}/s${i % per}`);
    if (which.rss) {
      // Let the loading garbage be collected before reading what stays resident.
      await new Promise((r) => setTimeout(r, 2_000));
      const mem = server.memory();
      ctx.add({
        key: 'rss', label: `RSS with ${total.toLocaleString('en-US')} services`, system: 'dpns', shape: 'idle after load',
        rssMB: mem.rssMB, peakRssMB: mem.peakMB,
      });
    }
    if (which.list) {
      const conns = await server.connect(1, false);
      let wrong = 0;
      const res = await rpcLoop(conns, 1, cfg, () => ['listServices', { pattern: `/bench/g${randInt(groups)}/*` }], server.pid);
      // One answer checked for size, so a fast but empty answer cannot pass for a result.
      const check = await conns[0]?.ok<{ names: string[] }>('listServices', { pattern: '/bench/g42/*' });
      if (check?.names.length !== per) wrong = 1;
      ctx.add({
        key: 'list', label: `list /bench/gN/* over ${total.toLocaleString('en-US')}`, system: 'dpns', shape: ctx.shape(1, 1),
        ...ctx.measured(res), peakRssMB: server.memory().peakMB, errors: res.errors + wrong, verified: wrong === 0,
        note: wrong > 0 ? `expected ${per} names, got ${check?.names.length ?? 'none'}` : `${per} names per answer`,
      });
    }
  } finally {
    await server.stop();
  }
}
