// A backup's snapshot install, in one process, alternating: as an older primary sends it (the
// registry as one JSON document: parsed, stored as format 1, loaded) and as a primary sends it now
// (a format-3 snapshot file's text: checked, stored as it is, loaded as a restart does). Prints
// the CPU time of the primary's side (making it) and of the backup's side, per way.
// Usage: node --max-old-space-size=8000 scripts/restart-probe/install-ab.mjs [NAMES] [ROUNDS]
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';

const D = new URL('../../packages/nameserver/dist', import.meta.url).pathname;
const { Registry } = await import(`${D}/registry/registry.js`);
const { registrySnapshotOf } = await import(`${D}/registry/snapshot-lines.js`);
const { decodeSnapshot } = await import(`${D}/storage/snapshot.js`);
const { Store } = await import(`${D}/storage/store.js`);
const { snapshotForBackup } = await import(`${D}/cluster/snapshot-transfer.js`);
const N = Number(process.argv[2] ?? 200000);
const reg = new Registry();
for (let i = 0; i < N; i += 1000) {
  const ops = [];
  for (let j = i; j < Math.min(N, i + 1000); j++) ops.push({ t: 'put', e: { kind: 'service', name: `/g/n${j}`, state: 'running', since: 1733000000000, host: '127.0.0.1', port: 1024 + (j % 60000), static: true } });
  reg.apply(ops, i / 1000 + 1);
}
const logger = { info() {}, warn() {}, error() {}, debug() {} };
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
async function oldWay() {
  const dir = mkdtempSync('/tmp/inst-'); mkdirSync(dir + '/wal');
  const c0 = cpu(); const t0 = Date.now();
  const json = JSON.stringify(reg.snapshot());           // primary
  const c1 = cpu();
  const state = JSON.parse(json);                       // backup
  await Store.replaceWithSnapshot(dir, state.revision, state);
  const { store } = await Store.open({ dir, logger });
  const back = new Registry(); back.load(state);
  const c2 = cpu(); await store.close(); rmSync(dir, { recursive: true });
  return { primary: c1 - c0, backup: c2 - c1, wall: Date.now() - t0, bytes: json.length };
}
async function newWay() {
  const dir = mkdtempSync('/tmp/inst-'); mkdirSync(dir + '/wal');
  const c0 = cpu(); const t0 = Date.now();
  const { index, text } = await snapshotForBackup(reg);  // primary
  const c1 = cpu();
  const contents = Buffer.from(text, 'utf8');
  const d = decodeSnapshot(contents, index); if (!d.ok) throw new Error(d.reason);
  const state = registrySnapshotOf(d.state);
  await Store.replaceWithSnapshotFile(dir, index, contents);
  const { store } = await Store.open({ dir, logger });
  const back = new Registry(); back.load(state);
  const c2 = cpu(); await store.close(); rmSync(dir, { recursive: true });
  return { primary: c1 - c0, backup: c2 - c1, wall: Date.now() - t0, bytes: text.length };
}
for (let r = 0; r < Number(process.argv[3] ?? 3); r++) {
  const o = await oldWay(); const n = await newWay();
  console.log(`N=${N} old: primary ${o.primary.toFixed(0)} ms CPU, backup ${o.backup.toFixed(0)} ms CPU, ${(o.bytes/1e6).toFixed(1)} MB | new: primary ${n.primary.toFixed(0)} ms, backup ${n.backup.toFixed(0)} ms, ${(n.bytes/1e6).toFixed(1)} MB`);
}
