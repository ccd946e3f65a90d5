// Scenario: read-backups. The same reads as `find` (findServices of a random registered name,
// launch:false, 64 in flight over 8 connections) against one stand-alone server and against a
// three-server cluster with --read-from-backups whose readers are spread over all three servers,
// measured in alternating slices so both see the same machine. The issue's target is 2× one
// server; with every process sharing the same few CPUs (the generator too) the ratio says as
// much about the machine as about the servers, so the CPU count is printed beside it.
import { cpus } from 'node:os';
import type { ResponseMessage } from '@dpns/protocol';
import { startCluster } from '../../harness/index.js';
import type { BenchContext } from '../context.js';
import { onCleanup, trackChild } from '../lifecycle.js';
import { startBenchServer } from '../nameserver.js';
import { status } from '../report.js';
import { RpcConn, openMany } from '../rpc-conn.js';
import { describeError, randInt, rpcBulk, rpcIssue } from '../shapes.js';
import { measureSlices, type Target } from '../slices.js';
import { findName, loadServices } from './find.js';

export async function runReadBackups(ctx: BenchContext): Promise<void> {
  const { cfg } = ctx;
  status(`read-backups: one server and a 3-server cluster with --read-from-backups, ${cfg.findServices.toLocaleString('en-US')} services each`);
  const single = await startBenchServer(cfg, ['--log-level', 'warn']);
  const cluster = await startCluster({ n: 3, readFromBackups: true, extraArgs: ['--log-level', 'warn'], onProcess: (p) => trackChild(p.proc) });
  const conns: RpcConn[] = [];
  const forget = onCleanup(async () => {
    await Promise.allSettled(conns.map((c) => c.close()));
    await cluster.close();
  });
  try {
    await loadServices(single, cfg.findServices, findName);
    const primary = await cluster.primary();
    const writers = await openMany(primary.url, 8);
    conns.push(...writers);
    await Promise.all(writers.map((c) => c.login(cluster.adminToken)));
    const load = await rpcBulk(writers, 256, cfg.findServices, (i) => ['advertiseService', { name: findName(i), host: '127.0.0.1', port: 1024 + (i % 60_000), static: true }]);
    if (load.errors > 0) throw new Error(`loading the cluster failed: ${load.firstError ?? ''}`);
    // Every backup holds every name before a read is measured.
    await cluster.waitStatus(primary.sid, (s) => s.servers.every((r) => r.connected && r.lag === 0 && r.role === (r.self ? 'primary' : 'backup')), 30_000);
    status(`read-backups: cluster loaded through SID ${primary.sid}, backups caught up`);

    let firstError: string | undefined;
    const onError = (msg: ResponseMessage): void => {
      firstError ??= describeError(msg);
    };
    const read = (): [string, unknown] => ['findServices', { pattern: findName(randInt(cfg.findServices)), launch: false }];
    const singleConns = await single.connect(cfg.connections, false);
    // Connection k goes to member k % 3: the readers are spread evenly over primary and backups.
    const spread = await Promise.all(Array.from({ length: cfg.connections }, (_, k) => RpcConn.open(cluster.urls[k % cluster.urls.length] as string)));
    conns.push(...spread);
    const targets: Target[] = [
      { issue: rpcIssue(singleConns, read, onError), pid: single.pid, stop: () => single.stop() },
      { issue: rpcIssue(spread, read, onError), pid: cluster.proc(primary.sid).pid, stop: () => cluster.close() },
    ];
    const [one, three] = await measureSlices(cfg, targets);
    if (one === undefined || three === undefined) return;
    const ratio = three.opsPerSec / one.opsPerSec;
    const shape = ctx.shape(cfg.inFlight, cfg.connections);
    ctx.add({ key: 'read.single', label: 'find (launch:false), one server', system: 'dpns', shape, ...ctx.measured(one), peakRssMB: single.memory().peakMB, note: firstError });
    ctx.add({
      key: 'read.backups', label: 'find (launch:false), 3 servers --read-from-backups', system: 'dpns', shape: `${shape}, spread over 3`,
      ...ctx.measured(three),
      note: `${ratio.toFixed(2)}× one server (target ≥ 2×); ${cpus().length} CPUs shared by 3 servers and the generator; server CPU is the primary's` +
        (firstError === undefined ? '' : `; ${firstError}`),
    });
  } finally {
    forget();
    await Promise.allSettled(conns.map((c) => c.close()));
    await cluster.close();
    await single.stop();
  }
}
