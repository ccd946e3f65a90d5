// The registry's load from a snapshot (registrySnapshotOf + Registry.load), in one process, RUNS times
// alternating: with the head's name lists, and without them (a format-3 file written before them:
// every entry held as text is searched). Run with --expose-gc.
// Usage: node --expose-gc scripts/restart-probe/load-ab.mjs SRCDIR [RUNS]
import { execFileSync } from 'node:child_process';
const [src, runsS] = process.argv.slice(2);
const D = new URL('../../packages/nameserver/dist', import.meta.url).pathname;
const { Store } = await import(`${D}/storage/store.js`);
const { Registry } = await import(`${D}/registry/registry.js`);
const { registrySnapshotOf } = await import(`${D}/registry/snapshot-lines.js`);
const { SnapshotLines } = await import(`${D}/storage/snapshot-stream.js`);
const logger = { info() {}, warn() {}, error() {}, debug() {} };
const dir = `${src.replace(/\/$/, '')}.ab-${process.pid}`;
execFileSync('rm', ['-rf', dir]); execFileSync('cp', ['-a', src, dir]);
const { store, recovered } = await Store.open({ dir, logger });
const lines = recovered.snapshot.state.lines;
const head = JSON.parse(lines[0]); const { checked, unhealthy, idle, sessions, ...older } = head;
const withLists = new SnapshotLines(lines);
const without = new SnapshotLines([JSON.stringify(older), ...lines.slice(1)]);
const res = { lists: [], scan: [] };
for (let r = 0; r < Number(runsS ?? 10); r++) {
  for (const [k, s] of [['scan', without], ['lists', withLists]]) {
    globalThis.gc?.();
    const t0 = performance.now();
    const reg = new Registry();
    reg.load(registrySnapshotOf(s));
    res[k].push(performance.now() - t0);
  }
}
for (const k of ['scan', 'lists']) { const a = res[k].sort((x, y) => x - y); console.log(k, 'median', a[a.length >> 1].toFixed(1), 'min', a[0].toFixed(1), 'max', a[a.length - 1].toFixed(1)); }
execFileSync('rm', ['-rf', dir]);
process.exit(0);
