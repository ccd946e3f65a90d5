// `pnpm bench --growth`: one name server grown to each size in turn (10k, 100k, 1M names by
// default), and at each size, once filled: durable advertise writes/s at that steady size,
// find p99, RSS, data-directory size, and kill -9 → answering again. A table with ratios to the
// smallest size, and a chart (docs/growth.svg) of the curves.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../../harness/paths.js';
import { tempDir } from '../lifecycle.js';
import type { BenchContext } from '../context.js';
import { growthChartSvg, type GrowthPoint } from '../growth-chart.js';
import { GrowthServer, type GrowthProc, type Program, type Recovered } from '../growth-server.js';
import { measureSlices, type Target } from '../slices.js';
import type { LoadResult } from '../loadgen.js';
import { status } from '../report.js';
import { openMany, type RpcConn } from '../rpc-conn.js';
import { describeError, randInt, rpcBulk, rpcIssue } from '../shapes.js';

/** The i-th name of the grown registry, spread over 1,000 parents. */
function growName(i: number): string {
  return `/grow/g${i % 1000}/s${i}`;
}

const FILL_CHUNK = 50_000;

export async function runGrowth(ctx: BenchContext): Promise<void> {
  const { cfg } = ctx;
  const server = new GrowthServer();
  const points: GrowthPoint[] = [];
  const notes: string[] = [];
  const bundled = await releaseBundle(notes);
  // The smallest size again, on a server of its own, measured in the same alternating slices as
  // each size: the targets are ratios to the smallest size, and on a shared VM figures taken
  // minutes apart move by ±15 % (the ratio of writes moved from 74 % to 101 % between two runs).
  const reference = cfg.growthSizes.length > 1 ? new GrowthServer() : undefined;
  const refSize = cfg.growthSizes[0] as number;
  let refLoad: SizeLoad | undefined;
  try {
    let proc = await server.start();
    if (reference !== undefined) {
      const refProc = await reference.start();
      status(`growth: a reference server of ${refSize.toLocaleString('en-US')} names, measured beside each size`);
      await fill(refProc.url, refProc.token, 0, refSize);
      refLoad = await sizeLoad(refProc, refSize, cfg);
    }
    let filled = 0;
    for (const size of cfg.growthSizes) {
      filled = await fill(proc.url, proc.token, filled, size);
      // Right after the burst, then once the server has been idle long enough for V8 to give the
      // burst's garbage back (its memory reducer waits for a quiet spell: 40–75 s after a million-name fill here).
      await sleep(2_000);
      const rssMB = proc.memory().rssMB;
      const rssRestMB = await rssAtRest(proc, size, cfg.growthRestMs);

      const load = await sizeLoad(proc, size, cfg);
      const beside = refLoad === undefined ? '' : `, in slices alternating with the ${refSize.toLocaleString('en-US')}-name reference`;
      status(`growth ${size.toLocaleString('en-US')}: durable advertise at a steady size (existing names rewritten)${beside}`);
      const [writes, refWrites] = await measureSlices(cfg, [load.writes, ...(refLoad === undefined ? [] : [refLoad.writes])]);
      status(`growth ${size.toLocaleString('en-US')}: find, one client${beside}`);
      const [finds, refFinds] = await measureSlices(cfg, [load.finds, ...(refLoad === undefined ? [] : [refLoad.finds])], 1);
      await load.close();
      const writeError = load.firstError.write;

      const dataDirMB = server.dataDirBytes() / 2 ** 20;
      status(`growth ${size.toLocaleString('en-US')}: kill -9 and restart on the same data directory, ${RESTARTS} times`);
      const restart = await restarts(server, growName(size - 1));
      let restartBundleMs = NaN;
      let bundleLine: string | undefined;
      if (bundled !== undefined) {
        // The same restarts as the release binary runs it; then back to the workspace's build for the next size.
        status(`growth ${size.toLocaleString('en-US')}: kill -9 and restart as the release bundle, ${RESTARTS} times (after a start that writes its code cache)`);
        await warmReleaseBundle(server, growName(size - 1), bundled);
        const asBundle = await restarts(server, growName(size - 1), bundled);
        restartBundleMs = asBundle.answeringMs;
        bundleLine = `${size.toLocaleString('en-US')}, release bundle: kill -9 → answering ${restartBundleMs.toFixed(0)} ms (${describeRestarts(asBundle)})`;
        await server.killAndRestart(growName(size - 1));
      }
      proc = server.proc;
      await sleep(2_000);
      const rssRestartMB = proc.memory().rssMB;

      const errors = (writes?.errors ?? 0) + (finds?.errors ?? 0) + (refWrites?.errors ?? 0) + (refFinds?.errors ?? 0);
      const point: GrowthPoint = {
        errors, names: size, writesPerSec: writes?.opsPerSec ?? NaN, cpuUsPerWrite: cpuPerOp(writes), findP99Ms: finds?.latency.quantile(0.99) ?? NaN,
        reference: { writesPerSec: refWrites?.opsPerSec ?? NaN, cpuUsPerWrite: cpuPerOp(refWrites), findP99Ms: refFinds?.latency.quantile(0.99) ?? NaN },
        rssMB, rssRestMB, rssRestartMB, dataDirMB, restartMs: restart.answeringMs, restartBundleMs,
      };
      points.push(point);
      ctx.add({
        key: `growth.${size}`, label: `growth: ${size.toLocaleString('en-US')} names`, system: 'dpns', shape: ctx.shape(cfg.inFlight, cfg.connections),
        opsPerSec: point.writesPerSec, p99Ms: point.findP99Ms, rssMB: rssRestMB, errors, serverCpuPct: writes?.serverCpuPct, clientCpuPct: writes?.clientCpuPct,
        note: `${writes === undefined ? '' : `write p99 ${writes.latency.quantile(0.99).toFixed(2)} ms, max ${writes.latency.max.toFixed(1)} ms; `}find p99 (1 client); ` +
          `${refWrites === undefined ? '' : `the ${refSize.toLocaleString('en-US')}-name reference in the same slices: ${Math.round(refWrites.opsPerSec).toLocaleString('en-US')} writes/s, find p99 ${point.reference.findP99Ms.toFixed(3)} ms; `}RSS at rest (2 s after the fill ${rssMB.toFixed(1)} MiB, after the restart ${rssRestartMB.toFixed(1)} MiB); data dir ${dataDirMB.toFixed(1)} MiB; kill -9 → answering ${restart.answeringMs.toFixed(0)} ms ` +
          `(${describeRestarts(restart)})${writeError === undefined ? '' : `; ${writeError}`}`,
      });
      notes.push(`${size.toLocaleString('en-US')}: ${describeRestarts(restart)}`, ...(bundleLine === undefined ? [] : [bundleLine]));
    }
  } finally {
    await refLoad?.close();
    await server.stop();
    await reference?.stop();
  }
  ctx.extra.push('Growth (writes, CPU and find p99: ratios to the first size measured beside each in the same slices; the rest: to the first size):', ...growthTable(points).map((l) => `  ${l}`), ...notes.map((n) => `  ${n}`), '',
    'Growth targets (issue 16):', ...growthVerdicts(points).map((l) => `  ${l}`), '');
  if (points.length > 0 && cfg.growthChart !== undefined) {
    const caption = `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, one server, ${cfg.inFlight} writers in flight over ${cfg.connections} connections, ` +
      `${cfg.durationMs / 1000} s per figure`;
    writeFileSync(cfg.growthChart, growthChartSvg(points, caption));
    status(`growth: chart written to ${cfg.growthChart}`);
  }
}

/** The writes and finds one size is measured with, over connections of their own. */
interface SizeLoad {
  writes: Target;
  finds: Target;
  firstError: { write?: string };
  close(): Promise<void>;
}

/** Writers rewriting random names among `size` (static advertisements, as the fill made them) and one reader finding them. */
async function sizeLoad(proc: GrowthProc, size: number, cfg: BenchContext['cfg']): Promise<SizeLoad> {
  const writers = await openMany(proc.url, cfg.connections);
  await Promise.all(writers.map((c) => c.login(proc.token)));
  const readers = await openMany(proc.url, 1);
  const firstError: { write?: string } = {};
  const writes = rpcIssue(writers, (seq) => {
    const i = randInt(size);
    return ['advertiseService', { name: growName(i), host: '127.0.0.1', port: 1024 + ((i + seq) % 60_000), static: true }];
  }, (msg) => {
    firstError.write ??= describeError(msg);
  });
  const finds = rpcIssue(readers, () => ['findServices', { pattern: growName(randInt(size)) }], () => {});
  const stop = async (): Promise<void> => {};
  return {
    writes: { issue: writes, pid: proc.pid, stop }, finds: { issue: finds, pid: proc.pid, stop }, firstError,
    close: async () => {
      await Promise.all([...writers, ...readers].map((c) => c.close()));
    },
  };
}

/** The server's CPU time per operation, µs. */
function cpuPerOp(r: LoadResult | undefined): number {
  return r === undefined ? NaN : (r.serverCpuPct / 100 / r.opsPerSec) * 1e6;
}

/** The release bundle, run as the binary is, with the folder its code caches go in. */
interface ReleaseBundle extends Program {
  cacheDir: string;
}

/**
 * The name server as the release binary runs it: the release package's esbuild bundles (the
 * loader and the program: what the single executable holds), run by this node as
 * `node LOADER dpns-nameserver ...`, with a cache folder of its own ($XDG_CACHE_HOME). Built
 * afresh, so it is this checkout's code; undefined (and a note) when it cannot be built.
 */
async function releaseBundle(notes: string[]): Promise<ReleaseBundle | undefined> {
  const file = join(tempDir('growth-bundle'), 'dpns.cjs');
  try {
    // By path: the release package is not a dependency of the benchmarks (it depends on everything).
    const { bundle } = await import(join(REPO_ROOT, 'packages/release/dist/build/bundle.js')) as { bundle: (out: string) => Promise<unknown> };
    await bundle(file);
    const xdg = tempDir('growth-bundle-cache');
    return { argv: [file, 'dpns-nameserver'], env: { ...process.env, XDG_CACHE_HOME: xdg }, cacheDir: join(xdg, 'dpns') };
  } catch (e) {
    notes.push(`release bundle not measured: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * An installed binary has run before it is killed: its program's code cache is written a few
 * seconds after its first start (@dpns/node-kit's code-cache.ts). So the release bundle is
 * started once, untimed, and left running until the cache is there.
 */
async function warmReleaseBundle(server: GrowthServer, name: string, b: ReleaseBundle): Promise<void> {
  await server.killAndRestart(name, b);
  const cached = (): boolean => {
    try {
      return readdirSync(b.cacheDir).some((f) => f.endsWith('.v8cache'));
    } catch {
      return false;
    }
  };
  for (const until = performance.now() + 15_000; !cached() && performance.now() < until;) await sleep(200);
}

/** Advertises names [from, to) as static services over 8 admin connections, `inFlight` at once, with a progress line per chunk. */
export async function fill(url: string, token: string, from: number, to: number, inFlight = 256): Promise<number> {
  const conns = await openMany(url, 8);
  await Promise.all(conns.map((c: RpcConn) => c.login(token)));
  const started = performance.now();
  try {
    for (let at = from; at < to; at += FILL_CHUNK) {
      const n = Math.min(FILL_CHUNK, to - at);
      const res = await rpcBulk(conns, inFlight, n, (k) => {
        const i = at + k;
        return ['advertiseService', { name: growName(i), host: '127.0.0.1', port: 1024 + (i % 60_000), static: true }];
      });
      if (res.errors > 0) throw new Error(`filling failed at ${at}: ${res.firstError ?? ''}`);
      const s = (performance.now() - started) / 1000;
      status(`growth: ${(at + n).toLocaleString('en-US')} of ${to.toLocaleString('en-US')} names (${Math.round(n / (res.elapsedMs / 1000)).toLocaleString('en-US')}/s now, ${s.toFixed(0)} s so far)`);
    }
  } finally {
    await Promise.all(conns.map((c) => c.close()));
  }
  return to;
}

/** The server's RSS after `restMs` without a request, with a status line every 15 s. */
async function rssAtRest(proc: GrowthProc, size: number, restMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const left = restMs - (performance.now() - started);
    if (left <= 0) return proc.memory().rssMB;
    status(`growth ${size.toLocaleString('en-US')}: RSS ${proc.memory().rssMB.toFixed(0)} MiB, idle ${((restMs - left) / 1000).toFixed(0)} of ${(restMs / 1000).toFixed(0)} s (until V8 has given the fill's garbage back)`);
    await sleep(Math.min(15_000, left));
  }
}

/**
 * How many times the server is killed and restarted at each size, each way it is run: the figure
 * is the median. One restart on the benchmark VM moves by ±50 ms and more from one to the next
 * (as the VM itself does: an empty `node -e 0` takes 90–150 ms there); all of them are printed.
 */
const RESTARTS = 3;

interface Restarts {
  /** The median's. */
  answeringMs: number;
  recovered: Recovered | undefined;
  all: number[];
}

async function restarts(server: GrowthServer, name: string, program?: Program): Promise<Restarts> {
  const runs: Array<{ answeringMs: number; recovered: Recovered | undefined }> = [];
  for (let k = 0; k < RESTARTS; k++) runs.push(await server.killAndRestart(name, program));
  const median = [...runs].sort((a, b) => a.answeringMs - b.answeringMs)[Math.floor(RESTARTS / 2)]!;
  return { answeringMs: median.answeringMs, recovered: median.recovered, all: runs.map((r) => r.answeringMs) };
}

function describeRestarts(r: Restarts): string {
  return `the median of ${r.all.map((ms) => ms.toFixed(0)).join(', ')} ms; in it, ${describeRecovery(r.recovered)}`;
}

function describeRecovery(r: Recovered | undefined): string {
  if (r === undefined) return 'no recovery line';
  const parts = r.storeMs === undefined ? '' : `: reading ${r.storeMs} ms, registry from the snapshot ${r.loadMs ?? '?'} ms, replay ${r.replayMs ?? '?'} ms`;
  return `${r.loaded === undefined ? '' : `from its ${r.loaded}; `}recovery inside the server ${r.ms} ms${parts}, ${r.replayed.toLocaleString('en-US')} log records replayed`;
}

/** The issue's targets, where the sizes they name were measured. */
function growthVerdicts(points: readonly GrowthPoint[]): string[] {
  const base = points[0];
  const last = points[points.length - 1];
  if (base === undefined || last === undefined) return [];
  const mark = (ok: boolean): string => (ok ? '[ MET ]' : '[ MISS]');
  if (points.some((p) => p.errors > 0)) return ['[  -  ] errors in a measured window (see the table): no verdicts'];
  const out: string[] = [];
  if (last !== base) {
    // Against the smallest size measured beside this one (the same slices); against its own earlier figure when there was none.
    const ref = Number.isFinite(last.reference.writesPerSec) ? { ...last.reference, how: `a ${base.names.toLocaleString('en-US')}-name server in the same slices` } : { ...base, how: `${base.names.toLocaleString('en-US')} measured first` };
    const w = last.writesPerSec / ref.writesPerSec;
    const c = ref.cpuUsPerWrite / last.cpuUsPerWrite;
    out.push(`${mark(w >= 0.8)} durable writes/s at ${last.names.toLocaleString('en-US')} ≥ 80% of at ${base.names.toLocaleString('en-US')}: ${(w * 100).toFixed(0)}% ` +
      `(${Math.round(last.writesPerSec).toLocaleString('en-US')} against ${Math.round(ref.writesPerSec).toLocaleString('en-US')}, ${ref.how}; ` +
      `server CPU a write: ${(c * 100).toFixed(0)}% of the throughput it allows there; against ${base.names.toLocaleString('en-US')} measured first: ${((last.writesPerSec / base.writesPerSec) * 100).toFixed(0)}%)`);
    const f = last.findP99Ms / ref.findP99Ms;
    out.push(`${mark(f <= 1.2)} find p99 at ${last.names.toLocaleString('en-US')} within 20% of at ${base.names.toLocaleString('en-US')}: ${f.toFixed(2)}× ` +
      `(${last.findP99Ms.toFixed(3)} against ${ref.findP99Ms.toFixed(3)} ms, ${ref.how}; against ${base.names.toLocaleString('en-US')} measured first: ${(last.findP99Ms / base.findP99Ms).toFixed(2)}×)`);
  }
  for (const p of points) {
    if (p.names === 1_000_000) {
      out.push(`${mark(p.restartMs < 2000)} kill -9 → answering with 1,000,000 names < 2 s: ${p.restartMs.toFixed(0)} ms${bundleNote(p, 2000)}`);
      const mb = (mib: number): string => `${(mib * 1.048576).toFixed(0)} MB`;
      out.push(`${mark(p.rssRestMB * 1.048576 < 500)} RSS with 1,000,000 names < 500 MB, at rest: ${mb(p.rssRestMB)} ` +
        `(2 s after the fill ${mb(p.rssMB)}; 2 s after a restart on the same data ${mb(p.rssRestartMB)})`);
    }
    if (p.names === 100_000) out.push(`${mark(p.restartMs < 500)} kill -9 → answering with 100,000 names < 0.5 s: ${p.restartMs.toFixed(0)} ms${bundleNote(p, 500)}`);
  }
  return out;
}

/** The release bundle's restart beside the workspace build's, with its own verdict. */
function bundleNote(p: GrowthPoint, targetMs: number): string {
  if (!Number.isFinite(p.restartBundleMs)) return '';
  return `; as the release bundle ${p.restartBundleMs.toFixed(0)} ms (${p.restartBundleMs < targetMs ? 'met' : 'missed'})`;
}

/** The growth figures as Markdown rows with each figure's ratio to the first size's. */
export function growthTable(points: readonly GrowthPoint[]): string[] {
  const base = points[0];
  if (base === undefined) return [];
  const r = (v: number, b: number): string => (b > 0 && Number.isFinite(v) ? ` (${(v / b).toFixed(2)}×)` : '');
  const lines = [
    `| names | durable writes/s | … the first size beside it | server CPU µs a write | … beside it | find p99 ms | … beside it | RSS MiB at rest | … 2 s after the fill | … after a restart | data dir MiB | kill -9 → answering ms | … release bundle ms | errors |`,
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  // Writes, CPU and find p99 as ratios to the first size measured in the same slices (when it was); the rest to the first size's own figures.
  const beside = (v: number, ref: number, first: number): string => (Number.isFinite(ref) ? r(v, ref) : r(v, first));
  const num = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');
  for (const p of points) {
    const ref = p.reference;
    lines.push(`| ${p.names.toLocaleString('en-US')} | ${Math.round(p.writesPerSec).toLocaleString('en-US')}${beside(p.writesPerSec, ref.writesPerSec, base.writesPerSec)} | ` +
      `${Number.isFinite(ref.writesPerSec) ? Math.round(ref.writesPerSec).toLocaleString('en-US') : '-'} | ` +
      `${p.cpuUsPerWrite.toFixed(1)}${beside(p.cpuUsPerWrite, ref.cpuUsPerWrite, base.cpuUsPerWrite)} | ${num(ref.cpuUsPerWrite, 1)} | ` +
      `${p.findP99Ms.toFixed(3)}${beside(p.findP99Ms, ref.findP99Ms, base.findP99Ms)} | ${num(ref.findP99Ms, 3)} | ${p.rssRestMB.toFixed(1)}${r(p.rssRestMB, base.rssRestMB)} | ` +
      `${p.rssMB.toFixed(1)} | ${p.rssRestartMB.toFixed(1)} | ` +
      `${p.dataDirMB.toFixed(1)}${r(p.dataDirMB, base.dataDirMB)} | ${p.restartMs.toFixed(0)}${r(p.restartMs, base.restartMs)} | ` +
      `${Number.isFinite(p.restartBundleMs) ? `${p.restartBundleMs.toFixed(0)}${r(p.restartBundleMs, base.restartBundleMs)}` : '-'} | ` +
      `${p.errors === 0 ? '0' : `**${p.errors}**: figures of that size not valid`} |`);
  }
  return lines;
}
