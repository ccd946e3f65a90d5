// kill -9 → answering, from the server's side: copies SRCDIR (a directory fill.mjs left), starts the name
// server on the copy and times spawn → the first findServices answered with the name (NAME, default
// the 100,000th), with the process's CPU time then (all its threads, from /proc) and its own
// `registry recovered` line; RUNS times, medians at the end. BIN: `tsc` (the workspace's
// bin/dpns-nameserver.js, default), another checkout's bin, or a release bundle (*.cjs, run as
// `node BUNDLE dpns-nameserver`). MEM=1 also prints RSS and the heap 2 s after answering.
// Usage: node scripts/restart-probe/restart.mjs SRCDIR [RUNS] [BIN] [-- NODE_ARGS...]
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
const W = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const { RpcConn } = await import(`${W}/e2e/dist/bench/rpc-conn.js`);
const argv = process.argv.slice(2);
const dd = argv.indexOf('--');
const nodeArgs = dd >= 0 ? argv.slice(dd + 1) : [];
const [src, runsS, binArg] = dd >= 0 ? argv.slice(0, dd) : argv;
const runs = Number(runsS ?? 3);
const bin = binArg && binArg !== 'tsc' ? binArg : `${W}/packages/nameserver/bin/dpns-nameserver.js`;
const times = []; const cpus = [];
for (let r = 0; r < runs; r++) {
  const dir = `${src.replace(/\/$/, '')}.run-${process.pid}`;
  execFileSync('rm', ['-rf', dir]); execFileSync('cp', ['-a', src, dir]);
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, bin, ...(bin.endsWith('.cjs') ? ['dpns-nameserver'] : []), '--listen', '127.0.0.1:0', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise((res, rej) => { const on = (d) => { out += d; const m = /listening on (ws:\/\/\S+)/.exec(out); if (m) res(m[1]); }; child.stdout.on('data', on); child.stderr.on('data', on); child.once('exit', () => rej(new Error(out))); });
  const c = await RpcConn.open(url);
  const res = await c.ok('findServices', { pattern: process.env.NAME ?? '/grow/g999/s99999' });
  const ms = performance.now() - t0;
  const st = (await import('node:fs')).readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const cpu = (Number(st[11]) + Number(st[12])) * 10;
  cpus.push(cpu);
  if (res.services.length !== 1) throw new Error('not found');
  await c.close();
  if (process.env.MEM) {
    await new Promise((r) => setTimeout(r, 2000));
    const rss = Number((readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/) ?? [])[1]) / 1024;
    const metrics = await (await fetch(url.replace('ws:', 'http:') + '/metrics')).text();
    const g = (k) => Number((metrics.match(new RegExp(`^${k}(?:\\{[^}]*\\})? (\\S+)`, 'm')) ?? [])[1]) / 2 ** 20;
    console.log(`  2 s after answering: RSS ${rss.toFixed(1)} MiB, heap used ${g('nodejs_heap_size_used_bytes').toFixed(1)} MiB of ${g('nodejs_heap_size_total_bytes').toFixed(1)}, external ${g('nodejs_external_memory_bytes').toFixed(1)}`);
  }
  const rec = out.split("\n").find((l) => l.includes("registry recovered"));
  times.push(ms);
  console.log(`${ms.toFixed(0)} ms wall, ${cpu} ms cpu  ${(rec ?? '').replace(/^.*"entries"/, '').replace(/,"msg.*$/, '')}`);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  execFileSync('rm', ['-rf', dir]);
}
times.sort((a, b) => a - b);
cpus.sort((a, b) => a - b);
console.log('cpu median', cpus[Math.floor(cpus.length / 2)], 'min', cpus[0]);
console.log('median', times[Math.floor(times.length / 2)].toFixed(0), 'min', times[0].toFixed(0));
