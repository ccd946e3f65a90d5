// Scenario 2: `findServices` of random names among registered static services, at 64 in
// flight over 8 connections, then one client with one request in flight; and beside it, in
// alternating slices of the same run and server, DNS SRV queries of the same names over UDP.
import type { BenchContext } from '../context.js';
import { startBenchServer, type BenchServer } from '../nameserver.js';
import type { RpcConn } from '../rpc-conn.js';
import { status } from '../report.js';
import { describeError, randInt, rpcIssue, rpcLoop } from '../shapes.js';
import { measureSlices, type Target } from '../slices.js';
import { startEcho } from './echo.js';
import { findName, loadServices } from './services.js';
import { openDnsLoad } from '../dns-load.js';

/** `/bench/find/s12` as DNS: `s12.find.bench.dpns`. */
function dnsName(i: number): string {
  return findName(i).slice(1).split('/').reverse().join('.') + '.dpns';
}

/**
 * With `withEcho`, the echo ceiling (scenario 1) is measured in slices alternating with
 * `find` on the same run, so the two figures and their ratio see the same machine.
 */
export async function runFind(ctx: BenchContext, withEcho: boolean): Promise<void> {
  const { cfg } = ctx;
  status(`find: starting a name server and registering ${cfg.findServices.toLocaleString('en-US')} services`);
  const server = await startBenchServer(cfg, ['--dns-listen', '127.0.0.1:0', '--dns-queries-per-second', '1000000', '--dns-global-queries-per-second', '1000000']);
  const base = cfg.baselineBin === undefined ? undefined : await startBenchServer(cfg, [], true);
  const echo = withEcho ? await startEcho(ctx) : undefined;
  const cleanups: (() => void)[] = [];
  try {
    const errors: { first?: string; base?: string } = {};
    const findTargetOf = async (s: BenchServer, which: 'first' | 'base'): Promise<{ target: Target; conns: RpcConn[] }> => {
      await loadServices(s, cfg.findServices, findName);
      const conns = await s.connect(cfg.connections, false);
      const issue = rpcIssue(conns, () => ['findServices', { pattern: findName(randInt(cfg.findServices)) }], (msg) => {
        errors[which] ??= describeError(msg);
      });
      return { target: { issue, pid: s.pid, stop: () => s.stop() }, conns };
    };
    const mine = await findTargetOf(server, 'first');
    if (server.dnsPort === undefined) throw new Error('the name server printed no DNS port');
    const dns = await openDnsLoad(server.dnsPort, cfg.connections, () => dnsName(randInt(cfg.findServices)));
    const dnsTarget: Target = { issue: dns.issue, pid: server.pid, stop: async () => dns.close() };
    cleanups.push(() => dns.close());
    const theirs = base === undefined ? undefined : await findTargetOf(base, 'base');
    if (echo !== undefined) status('echo and find: measuring in alternating slices');
    if (theirs !== undefined) status('find and the baseline\'s find: measuring in alternating slices');
    // The targets are measured in alternating slices; their results come back in this order.
    const targets = [...(echo === undefined ? [] : [echo]), mine.target, dnsTarget, ...(theirs === undefined ? [] : [theirs.target])];
    const results = await measureSlices(cfg, targets);
    const at = (t: Target): number => targets.indexOf(t);
    const many = results[at(mine.target)];
    if (echo !== undefined && results[0] !== undefined) ctx.add(echo.row(results[0]));
    if (many !== undefined) {
      ctx.add({
        key: 'find', label: 'find', system: 'dpns', shape: ctx.shape(cfg.inFlight, cfg.connections),
        ...ctx.measured(many), peakRssMB: server.memory().peakMB, note: errors.first,
      });
    }
    const dnsMany = results[at(dnsTarget)];
    if (dnsMany !== undefined) {
      ctx.add({
        key: 'dns.srv', label: 'DNS SRV over UDP (sockets as conns)', system: 'dpns', shape: ctx.shape(cfg.inFlight, cfg.connections),
        ...ctx.measured(dnsMany), peakRssMB: server.memory().peakMB, note: dns.firstError(),
      });
    }
    const baseMany = theirs === undefined ? undefined : results[at(theirs.target)];
    if (base !== undefined && baseMany !== undefined) {
      ctx.add({
        key: 'find.baseline', label: 'find (the --baseline build)', system: 'dpns baseline', shape: ctx.shape(cfg.inFlight, cfg.connections),
        ...ctx.measured(baseMany), peakRssMB: base.memory().peakMB, note: errors.base,
      });
    }
    const one = await rpcLoop(mine.conns.slice(0, 1), 1, cfg, () => ['findServices', { pattern: findName(randInt(cfg.findServices)) }], server.pid);
    ctx.add({
      key: 'find.single', label: 'find, one client', system: 'dpns', shape: ctx.shape(1, 1),
      ...ctx.measured(one), peakRssMB: server.memory().peakMB, note: one.firstError,
    });
  } finally {
    for (const c of cleanups) c();
    await echo?.stop();
    await base?.stop();
    await server.stop();
  }
}
