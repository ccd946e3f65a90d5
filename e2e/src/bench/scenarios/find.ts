// Scenario 2: `findServices` of random names among registered static services, at 64 in
// flight over 8 connections, then one client with one request in flight.
import type { BenchContext } from '../context.js';
import { startBenchServer } from '../nameserver.js';
import { status } from '../report.js';
import { describeError, randInt, rpcIssue, rpcLoop } from '../shapes.js';
import { measureSlices, type Target } from '../slices.js';
import { startEcho } from './echo.js';
import { findName, loadServices } from './services.js';

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
