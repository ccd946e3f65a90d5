// A data directory for restart measurements: SIZE static names (/grow/gN/sI, as `pnpm bench --growth` writes
// them) advertised over 8 admin connections, then REWRITES random ones advertised again, then RSS
// after 2 s idle, then kill -9 (what the directory holds is what a crash leaves).
// Usage: node scripts/restart-probe/fill.mjs DIR SIZE [REWRITES]   (after pnpm build)
import { spawn } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
const W = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const { openMany } = await import(`${W}/e2e/dist/bench/rpc-conn.js`);
const { rpcBulk } = await import(`${W}/e2e/dist/bench/shapes.js`);
const [dir, sizeS, rwS] = process.argv.slice(2);
const size = Number(sizeS), rewrites = Number(rwS ?? 0);
mkdirSync(dir, { recursive: true });
const child = spawn(process.execPath, [`${W}/packages/nameserver/bin/dpns-nameserver.js`, '--listen', '127.0.0.1:0', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
let out = '';
const url = await new Promise((res) => { const on = (d) => { out += d; const m = /listening on (ws:\/\/\S+)/.exec(out); if (m && /nameserver key/.test(out)) res(m[1]); }; child.stdout.on('data', on); child.stderr.on('data', on); });
const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
const conns = await openMany(url, 8);
await Promise.all(conns.map((c) => c.login(token)));
const name = (i) => `/grow/g${i % 1000}/s${i}`;
for (let at = 0; at < size; at += 50000) {
  const n = Math.min(50000, size - at);
  const r = await rpcBulk(conns, 256, n, (k) => ['advertiseService', { name: name(at + k), host: '127.0.0.1', port: 1024 + ((at + k) % 60000), static: true }]);
  if (r.errors) throw new Error(r.firstError);
  console.error('filled', at + n);
}
if (rewrites) {
  const r = await rpcBulk(conns, 256, rewrites, (k) => { const i = Math.floor(Math.random() * size); return ['advertiseService', { name: name(i), host: '127.0.0.1', port: 2000 + (k % 60000), static: true }]; });
  if (r.errors) throw new Error(r.firstError);
  console.error('rewrote', rewrites);
}
await new Promise((r) => setTimeout(r, 2000));
const rss = (readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/) ?? [])[1];
console.error('RSS MiB after filling, 2 s idle:', (Number(rss) / 1024).toFixed(1));
child.kill('SIGKILL');
await new Promise((r) => child.once('exit', r));
process.exit(0);
