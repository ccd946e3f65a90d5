// Scenario 7: the same shapes against a single-member etcd through its v3 JSON gateway:
// range (get) at 64 in flight and from one client, durable put at 64 in flight, and a
// writer under 10,000 watchers.
import type { BenchContext } from '../context.js';
import { EtcdHttp } from '../etcd-http.js';
import { etcdVersion, startEtcd, type EtcdProcess } from '../etcd-process.js';
import { closedLoop, type LoadResult } from '../loadgen.js';
import { pacedWrites } from '../paced-writer.js';
import { status, type Row } from '../report.js';
import { randInt } from '../shapes.js';
import type { WatchWorkerData } from '../watch-protocol.js';
import { startWatchers } from '../watchers.js';
import { findName } from './services.js';

const WORKER = new URL('../etcd-watch-worker.js', import.meta.url);
const b64 = EtcdHttp.b64;

/** A closed loop of gateway POSTs over `connections` keep-alive sockets. */
function httpLoop(ctx: BenchContext, etcd: EtcdProcess, connections: number, inFlight: number, path: string, body: (seq: number) => unknown): Promise<LoadResult> {
  const http = new EtcdHttp(etcd.url, connections);
  return closedLoop({
    inFlight, warmupMs: ctx.cfg.warmupMs, durationMs: ctx.cfg.durationMs, serverPid: etcd.pid,
    issue: (_slot, seq, done) => http.post(path, body(seq), (res) => done(res !== undefined)),
  }).finally(() => http.close());
}

function row(ctx: BenchContext, etcd: EtcdProcess, key: string, label: string, shape: string, res: LoadResult): Row {
  return {
    key, label, system: 'etcd', shape, ...ctx.measured(res), peakRssMB: etcd.memory().peakMB,
  };
}

/** Puts `count` keys, `inFlight` at a time. */
function bulkPut(etcd: EtcdProcess, count: number, inFlight: number, key: (i: number) => string): Promise<number> {
  const http = new EtcdHttp(etcd.url, 8);
  return new Promise<number>((resolve) => {
    let next = 0;
    let answered = 0;
    let errors = 0;
    const send = (): void => {
      if (next >= count) return;
      const i = next++;
      http.post('/v3/kv/put', { key: b64(key(i)), value: b64(`127.0.0.1:${1024 + (i % 60_000)}`) }, (res) => {
        if (res === undefined) errors++;
        if (++answered === count) resolve(errors);
        else send();
      });
    };
    for (let s = 0; s < Math.min(inFlight, count); s++) send();
  }).finally(() => http.close());
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
    const get = (): unknown => ({ key: b64(findName(randInt(cfg.findServices))) });
    const many = await httpLoop(ctx, etcd, cfg.connections, cfg.inFlight, '/v3/kv/range', get);
    ctx.add(row(ctx, etcd, 'etcd.get', 'get (range)', ctx.shape(cfg.inFlight, cfg.connections), many));
    const one = await httpLoop(ctx, etcd, 1, 1, '/v3/kv/range', get);
    ctx.add(row(ctx, etcd, 'etcd.get.single', 'get, one client', ctx.shape(1, 1), one));
    const run = Math.random().toString(36).slice(2, 8);
    const put = await httpLoop(ctx, etcd, cfg.connections, cfg.inFlight, '/v3/kv/put', (seq) => ({
      key: b64(`/bench/adv/${run}/g${seq % 997}/s${seq}`), value: b64(`127.0.0.1:${1024 + (seq % 60_000)}`),
    }));
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
  const http = new EtcdHttp(etcd.url, 1);
  try {
    status(`etcd: ${watchers.ready.watches.toLocaleString('en-US')} watchers open in ${(watchers.ready.setupMs / 1000).toFixed(1)} s`);
    const res = await pacedWrites((seq) => new Promise<boolean>((resolve) => {
      http.post('/v3/kv/put', { key: b64(`/bench/watch/s${seq}`), value: b64(`127.0.0.1:${1024 + seq}`) }, (r) => resolve(r !== undefined));
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
    http.close();
    await watchers.close();
  }
}
