// Scenario 2: `findServices` of random names among registered static services, at 64 in
// flight over 8 connections, then one client with one request in flight.
import type { BenchContext } from '../context.js';
import { startBenchServer, type BenchServer } from '../nameserver.js';
import { status } from '../report.js';
import { describeError, randInt, rpcBulk, rpcIssue, rpcLoop } from '../shapes.js';
import { measureSlices, type Target } from '../slices.js';
import { startEcho } from './echo.js';

/** The name of the i-th service registered for `find`. */
export function findName(i: number): string {
  return `/bench/find/s${i}`;
}

/** Registers `count` static services named by `nameOf`, pipelined over admin connections. */
export async function loadServices(server: BenchServer, count: number, nameOf: (i: number) => string): Promise<void> {
  const conns = await server.connect(8, true);
  const res = await rpcBulk(conns, 256, count, (i) => ['advertiseService', { name: nameOf(i), host: '127.0.0.1', port: 1024 + (i % 60_000), static: true }]);
  await Promise.all(conns.map((c) => c.close()));
  const rate = Math.round((count / res.elapsedMs) * 1000);
  status(`loaded ${count.toLocaleString('en-US')} services in ${(res.elapsedMs / 1000).toFixed(1)} s (${rate.toLocaleString('en-US')}/s), ${res.errors} errors${res.firstError === undefined ? '' : ` (first: ${res.firstError})`}`);
  if (res.errors > 0) throw new Error(`loading services failed: ${res.firstError ?? ''}`);
}

/**
 * With `withEcho`, the echo ceiling (scenario 1) is measured in slices alternating with
 * `find` on the same run, so the two figures and their ratio see the same machine.
 */
export async function runFind(ctx: BenchContext, withEcho: boolean): Promise<void> {
  const { cfg } = ctx;
  status(`find: starting a name server and registering ${cfg.findServices.toLocaleString('en-US')} services`);
  const server = await startBenchServer(cfg);
  const echo = withEcho ? await startEcho(ctx) : undefined;
  try {
    await loadServices(server, cfg.findServices, findName);
    const conns = await server.connect(cfg.connections, false);
    let firstError: string | undefined;
    const find = rpcIssue(conns, () => ['findServices', { pattern: findName(randInt(cfg.findServices)) }], (msg) => {
      firstError ??= describeError(msg);
    });
    const findTarget: Target = { issue: find, pid: server.pid, stop: () => server.stop() };
    if (echo !== undefined) status('echo and find: measuring in alternating slices');
    const results = await measureSlices(cfg, echo === undefined ? [findTarget] : [echo, findTarget]);
    const many = results[results.length - 1];
    if (echo !== undefined && results[0] !== undefined) ctx.add(echo.row(results[0]));
    if (many !== undefined) {
      ctx.add({
        key: 'find', label: 'find', system: 'dpns', shape: ctx.shape(cfg.inFlight, cfg.connections),
        ...ctx.measured(many), peakRssMB: server.memory().peakMB, note: firstError,
      });
    }
    const one = await rpcLoop(conns.slice(0, 1), 1, cfg, () => ['findServices', { pattern: findName(randInt(cfg.findServices)) }], server.pid);
    ctx.add({
      key: 'find.single', label: 'find, one client', system: 'dpns', shape: ctx.shape(1, 1),
      ...ctx.measured(one), peakRssMB: server.memory().peakMB, note: one.firstError,
    });
  } finally {
    await echo?.stop();
    await server.stop();
  }
}
