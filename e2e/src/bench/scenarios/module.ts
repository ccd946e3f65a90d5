// Scenario: a module call's round trip beside a plain `find`, on one name server running the
// shipped `dir` module. `dir.lookup` of a random person (the person's server, resolved in the
// module's copy of the registry) against `findServices` of a random name, measured in
// alternating slices at 64 in flight, then one client with one request in flight.
// The issue's target: a module call costs under 2× a find.
import { resolve } from 'node:path';
import { REPO_ROOT } from '../../harness/index.js';
import type { BenchContext } from '../context.js';
import { startBenchServer } from '../nameserver.js';
import type { Row } from '../report.js';
import { status } from '../report.js';
import { describeError, randInt, rpcBulk, rpcIssue } from '../shapes.js';
import { measureSlices, type Target } from '../slices.js';
import { findName, loadServices } from './services.js';

/** The shipped modules, as an operator would point --modules-dir at them. */
const MODULES_DIR = resolve(REPO_ROOT, 'modules');
/** People in the directory, each on one of the registered services. */
const PEOPLE = 1000;

const person = (i: number): string => `p${i}`;

export async function runModule(ctx: BenchContext): Promise<void> {
  const { cfg } = ctx;
  const services = Math.min(cfg.findServices, 10_000);
  status(`module: starting a name server with ${MODULES_DIR}, ${services.toLocaleString('en-US')} services and ${PEOPLE} people in dir`);
  const server = await startBenchServer(cfg, ['--modules-dir', MODULES_DIR]);
  try {
    await loadServices(server, services, findName);
    const admin = await server.connect(4, true);
    const reg = await rpcBulk(admin, 64, PEOPLE, (i) => ['dir.register', { person: person(i), server: findName(i % services) }]);
    await Promise.all(admin.map((c) => c.close()));
    if (reg.errors > 0) throw new Error(`registering people in dir failed: ${reg.firstError ?? ''}`);

    const conns = await server.connect(cfg.connections, false);
    let findError: string | undefined;
    let callError: string | undefined;
    const find = rpcIssue(conns, () => ['findServices', { pattern: findName(randInt(services)) }], (m) => (findError ??= describeError(m)));
    const call = rpcIssue(conns, () => ['dir.lookup', { person: person(randInt(PEOPLE)) }], (m) => (callError ??= describeError(m)));
    const targets: Target[] = [
      { issue: find, pid: server.pid, stop: () => server.stop() },
      { issue: call, pid: server.pid, stop: () => server.stop() },
    ];
    const [many0, many1] = await measureSlices(cfg, targets);
    const [one0, one1] = await measureSlices(cfg, targets, 1);
    const rows: [string, string, typeof many0, number, number, string | undefined][] = [
      ['module.find', 'find (beside module)', many0, cfg.inFlight, cfg.connections, findError],
      ['module.call', 'module call dir.lookup', many1, cfg.inFlight, cfg.connections, callError],
      ['module.find.single', 'find (beside module), one client', one0, 1, 1, findError],
      ['module.call.single', 'module call dir.lookup, one client', one1, 1, 1, callError],
    ];
    const added: Row[] = [];
    for (const [key, label, res, inFlight, nconns, note] of rows) {
      if (res === undefined) continue;
      added.push(ctx.add({
        key, label, system: 'dpns', shape: ctx.shape(inFlight, nconns), ...ctx.measured(res), peakRssMB: server.memory().peakMB, note,
      }));
    }
    const ratio = (a: string, b: string, pick: 'p50Ms' | 'opsPerSec'): string => {
      const x = added.find((r) => r.key === a)?.[pick];
      const y = added.find((r) => r.key === b)?.[pick];
      return x === undefined || y === undefined || y === 0 ? '?' : (x / y).toFixed(2);
    };
    status(`module call / find: ${ratio('module.find', 'module.call', 'opsPerSec')}× the cost at ${cfg.inFlight} in flight (ops/s ratio), ` +
      `${ratio('module.call.single', 'module.find.single', 'p50Ms')}× the latency with one client (p50); target under 2×`);
  } finally {
    await server.stop();
  }
}
