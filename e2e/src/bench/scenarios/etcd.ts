// Scenario 7: the same shapes against a single-member etcd through its own gRPC API (etcd-grpc.ts):
// serializable get at 64 in flight over 8 connections and from one client, durable put at 64 in
// flight, a linearizable get at 64 in flight for reference, and a writer under 10,000 watchers
// (watching through the JSON gateway).
import type { BenchContext } from '../context.js';
import { EtcdGrpc, type EtcdRead } from '../etcd-grpc.js';
import { etcdVersion, startEtcd, type EtcdProcess } from '../etcd-process.js';
import { closedLoop, type Issue, type LoadResult } from '../loadgen.js';
import { pacedWrites } from '../paced-writer.js';
import { status, type Row } from '../report.js';
import { randInt } from '../shapes.js';
import type { WatchWorkerData } from '../watch-protocol.js';
import { startWatchers } from '../watchers.js';
import { findName } from './services.js';

const WORKER = new URL('../etcd-watch-worker.js', import.meta.url);

/** A closed loop of gRPC calls over `connections` channels, `inFlight` at a time. */
function grpcLoop(ctx: BenchContext, etcd: EtcdProcess, connections: number, inFlight: number, issue: (grpc: EtcdGrpc) => Issue): Promise<LoadResult> {
  const grpc = new EtcdGrpc(etcd.url, connections);
  return closedLoop({
    inFlight, warmupMs: ctx.cfg.warmupMs, durationMs: ctx.cfg.durationMs, serverPid: etcd.pid, issue: issue(grpc),
  }).finally(() => grpc.close());
}

/** Gets of random keys among the `find` names, of one kind. */
function gets(ctx: BenchContext, read: EtcdRead): (grpc: EtcdGrpc) => Issue {
  return (grpc) => (slot, _seq, done) => grpc.get(slot, findName(randInt(ctx.cfg.findServices)), read, done);
}

function row(ctx: BenchContext, etcd: EtcdProcess, key: string, label: string, shape: string, res: LoadResult): Row {
  return {
    key, label, system: 'etcd', shape, ...ctx.measured(res), peakRssMB: etcd.memory().peakMB,
  };
}

/** Puts `count` keys, `inFlight` at a time over 8 connections. */
function bulkPut(etcd: EtcdProcess, count: number, inFlight: number, key: (i: number) => string): Promise<number> {
  const grpc = new EtcdGrpc(etcd.url, 8);
  return new Promise<number>((resolve) => {
    let next = 0;
    let answered = 0;
    let errors = 0;
    const send = (slot: number): void => {
      if (next >= count) return;
      const i = next++;
      grpc.put(slot, key(i), `127.0.0.1:${1024 + (i % 60_000)}`, (ok) => {
        if (!ok) errors++;
        if (++answered === count) resolve(errors);
        else send(slot);
      });
    };
    for (let s = 0; s < Math.min(inFlight, count); s++) send(s);
  }).finally(() => grpc.close());
}

export async function runEtcd(ctx: BenchContext): Promise<void> {
  const { cfg } = ctx;
  if (etcdVersion() === undefined) {
    status('etcd: not on the PATH, skipped (apt-get install etcd-server)');
    return;
  }
  status(`etcd: starting etcd ${etcdVersion() ?? ''} and putting ${cfg.findServices.toLocaleString('en-US')} keys`);
  const etcd = await startEtcd();
  try {
    const loadErrors = await bulkPut(etcd, cfg.findServices, 256, findName);
    if (loadErrors > 0) throw new Error(`etcd: ${loadErrors} puts failed while loading`);
    const many = await grpcLoop(ctx, etcd, cfg.connections, cfg.inFlight, gets(ctx, 'serializable'));
    ctx.add(row(ctx, etcd, 'etcd.get', 'get (serializable)', ctx.shape(cfg.inFlight, cfg.connections), many));
    const one = await grpcLoop(ctx, etcd, 1, 1, gets(ctx, 'serializable'));
    ctx.add(row(ctx, etcd, 'etcd.get.single', 'get (serializable), one client', ctx.shape(1, 1), one));
    const linear = await grpcLoop(ctx, etcd, cfg.connections, cfg.inFlight, gets(ctx, 'linearizable'));
    ctx.add(row(ctx, etcd, 'etcd.get.linearizable', 'get (linearizable)', ctx.shape(cfg.inFlight, cfg.connections), linear));
    const run = Math.random().toString(36).slice(2, 8);
    const put = await grpcLoop(ctx, etcd, cfg.connections, cfg.inFlight, (grpc) => (slot, seq, done) => {
      grpc.put(slot, `/bench/adv/${run}/g${seq % 997}/s${seq}`, `127.0.0.1:${1024 + (seq % 60_000)}`, done);
    });
    ctx.add(row(ctx, etcd, 'etcd.put', 'put (durable)', ctx.shape(cfg.inFlight, cfg.connections), put));
    await runEtcdWatch(ctx, etcd);
  } finally {
    await etcd.stop();
  }
}

async function runEtcdWatch(ctx: BenchContext, etcd: EtcdProcess): Promise<void> {
  const { cfg } = ctx;
  const want = cfg.watchConnections * cfg.watchesPerConnection;
  status(`etcd: ${want.toLocaleString('en-US')} watchers on the prefix /bench/watch/ (${cfg.watchConnections} streams × ${cfg.watchesPerConnection})`);
  const data: WatchWorkerData = { url: etcd.url, connections: cfg.watchConnections, watchesPerConnection: cfg.watchesPerConnection, pattern: '/bench/watch/*' };
  let watchers;
  try {
    watchers = await startWatchers(WORKER, data);
  } catch (e) {
    status(`etcd: watchers could not be set up, skipped: ${(e as Error).message}`);
    return;
  }
  const grpc = new EtcdGrpc(etcd.url, 1);
  try {
    status(`etcd: ${watchers.ready.watches.toLocaleString('en-US')} watchers open in ${(watchers.ready.setupMs / 1000).toFixed(1)} s`);
    const res = await pacedWrites((seq) => new Promise<boolean>((resolve) => {
      grpc.put(0, `/bench/watch/s${seq}`, `127.0.0.1:${1024 + seq}`, resolve);
    }), { ratePerSec: cfg.watchWritesPerSec, warmupMs: cfg.warmupMs, durationMs: cfg.durationMs, serverPid: etcd.pid });
    const seen = await watchers.expect(res.acked, 30_000);
    ctx.add({
      key: 'etcd.watch', label: `put with ${want.toLocaleString('en-US')} watchers`, system: 'etcd',
      shape: `1 writer, ~${cfg.watchWritesPerSec}/s random`, opsPerSec: res.writesPerSec,
      p50Ms: res.latency.quantile(0.5), p99Ms: res.latency.quantile(0.99), peakRssMB: etcd.memory().peakMB,
      serverCpuPct: res.serverCpuPct, clientCpuPct: res.clientCpuPct,
      errors: res.errors + (want - watchers.ready.watches), verified: seen.complete === want,
      note: `${seen.complete.toLocaleString('en-US')}/${want.toLocaleString('en-US')} watchers saw all ${res.acked} puts` +
        (seen.complete === want ? '' : ` (events per watcher: min ${seen.min}, max ${seen.max})`),
    });
  } finally {
    grpc.close();
    await watchers.close();
  }
}
