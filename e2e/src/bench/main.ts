// `pnpm bench`: every scenario side by side in one run, a status line per shape on stderr,
// one table, the ratios and the targets on stdout. It measures; it never asserts.
import { cpus, loadavg, totalmem } from 'node:os';
import { parseBenchArgs } from './args.js';
import { BenchContext } from './context.js';
import { proactiveReclaim } from './machine-reclaim.js';
import { cleanupAll, installSignalHandlers, isAborting } from './lifecycle.js';
import { status, table } from './report.js';
import { runAbuse } from './scenarios/abuse.js';
import { runAdvertise } from './scenarios/advertise.js';
import { runEcho } from './scenarios/echo.js';
import { runEtcd } from './scenarios/etcd.js';
import { runFailover } from './scenarios/failover.js';
import { runFailoverCut } from './scenarios/failover-cut.js';
import { runFind } from './scenarios/find.js';
import { runGrowth } from './scenarios/growth.js';
import { runCatchup } from './scenarios/catchup.js';
import { runLaunch } from './scenarios/launch.js';
import { runModule } from './scenarios/module.js';
import { runReadBackups } from './scenarios/read-backups.js';
import { runRegistry100k } from './scenarios/registry100k.js';
import { runWatch, watchSpreads } from './scenarios/watch.js';
import { ratios, verdicts } from './targets.js';

async function main(): Promise<number> {
  const cfg = parseBenchArgs(process.argv.slice(2));
  installSignalHandlers();
  const ctx = new BenchContext(cfg);
  // The kernel's own reclaim stalls every process now and then once a large heap goes cold (machine-reclaim.ts).
  const reclaim = proactiveReclaim();
  const machine = `${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; ` +
    `${cfg.durationMs / 1000} s per shape after ${cfg.warmupMs / 1000} s warm-up${cfg.quick ? ' (quick)' : ''}` +
    (reclaim === undefined ? '' : `; ${reclaim}`);
  // Other work on the machine moves every figure; the load average at both ends says how much there was.
  const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
  status(`${machine}; load average ${loadBefore}`);
  const steps: [boolean, string, () => Promise<void>][] = [
    [cfg.only.has('echo') && !cfg.only.has('find'), 'echo', () => runEcho(ctx)],
    [cfg.only.has('find'), cfg.only.has('echo') ? 'echo+find' : 'find', () => runFind(ctx, cfg.only.has('echo'))],
    [cfg.only.has('module'), 'module', () => runModule(ctx)],
    [cfg.only.has('advertise'), 'advertise', () => runAdvertise(ctx)],
    [cfg.only.has('list') || cfg.only.has('rss'), 'list/rss', () => runRegistry100k(ctx, { list: cfg.only.has('list'), rss: cfg.only.has('rss') })],
    ...watchSpreads(ctx).map((spread): [boolean, string, () => Promise<void>] => [cfg.only.has('watch'), spread.key, () => runWatch(ctx, spread)]),
    [cfg.only.has('launch'), 'launch', () => runLaunch(ctx)],
    [cfg.only.has('etcd'), 'etcd', () => runEtcd(ctx)],
    [cfg.only.has('failover'), 'failover', () => runFailover(ctx)],
    [cfg.only.has('failover-cut'), 'failover-cut', () => runFailoverCut(ctx)],
    [cfg.only.has('read-backups'), 'read-backups', () => runReadBackups(ctx)],
    [cfg.only.has('abuse'), 'abuse', () => runAbuse(ctx)],
    [cfg.only.has('catchup'), 'catchup', () => runCatchup(ctx)],
    [cfg.growthSizes.length > 0, 'growth', () => runGrowth(ctx)],
  ];
  let failed = 0;
  for (const [selected, name, run] of steps) {
    if (!selected) continue;
    if (isAborting()) break;
    try {
      await run();
    } catch (e) {
      // A scenario cut short by Ctrl-C fails in whatever it was waiting for; that is no failure.
      if (isAborting()) break;
      // One broken scenario must not hide the others' figures.
      failed++;
      status(`${name}: FAILED: ${(e as Error).stack ?? String(e)}`);
      await cleanupAll();
    }
  }
  await cleanupAll();

  const loadAfter = loadavg().map((l) => l.toFixed(2)).join(' ');
  const out: string[] = ['', `${machine}; load average ${loadBefore} before, ${loadAfter} after`, '', table(ctx.rows), ''];
  out.push(...ctx.extra);
  const r = ratios(ctx);
  if (r.length > 0) out.push('Ratios:', ...r.map((x) => `  ${x}`), '');
  if (cfg.only.size > 0) out.push(`Targets${cfg.quick ? ' (quick run: smaller registries and 1 s shapes; indicative only)' : ''}:`);
  for (const v of cfg.only.size > 0 ? verdicts(ctx) : []) {
    const mark = v.met === undefined ? '  -  ' : v.met ? ' MET ' : ' MISS';
    out.push(`  [${mark}] ${v.target}: ${v.measured}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (cfg.json) process.stdout.write(`${JSON.stringify({ config: { ...cfg, only: [...cfg.only] }, rows: ctx.rows })}\n`);
  return failed > 0 ? 1 : 0;
}

// An explicit exit: a child that a failed start left behind must not keep the run alive
// (the exit hooks still kill whatever is registered).
main().then(
  (code) => process.exit(code),
  async (e: unknown) => {
    status(`failed: ${(e as Error).stack ?? String(e)}`);
    await cleanupAll();
    process.exit(1);
  },
);
