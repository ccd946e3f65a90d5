// DNS in backup mode: every member of a cluster of three answers DNS from its own copy of the
// registry, and only the primary launches: a backup answers a query for a stopped auto-start
// service SERVFAIL without starting anything, where the primary tries.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dig, startCluster, teardown, type TestCluster } from './harness/index.js';

let c: TestCluster;
const dnsPorts: number[] = [];

before(async () => {
  c = await startCluster({ n: 3, extraArgs: ['--dns-listen', '127.0.0.1:0', '--log-level', 'warn'] });
  for (const m of c.members) {
    const line = await c.proc(m.sid).waitForStdout(/^dns: listening on 127\.0\.0\.1:\d+ /);
    dnsPorts.push(Number(/:(\d+) /.exec(line)?.[1]));
  }
});

after(async () => {
  await c.close();
  await teardown();
});

/** Asks `port` until `pred` holds of the answer (a backup applies a write a moment after the primary). */
async function digUntil(port: number, args: string[], pred: (a: Awaited<ReturnType<typeof dig>>) => boolean): Promise<Awaited<ReturnType<typeof dig>>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const a = await dig(port, args);
    if (pred(a) || Date.now() > deadline) return a;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('every member answers from its own copy; a backup does not launch', async () => {
  const primary = await c.primary();
  const w = await c.call(primary.sid, 'advertiseService', { name: '/vods/qs', host: '127.0.0.1', port: 7007, static: true });
  assert.ok(w.ok, JSON.stringify(w));
  const add = await c.call(primary.sid, 'register.add', { name: '/demo/auto', spec: { host: '127.0.0.1', program: '/bin/true' } });
  assert.ok(add.ok, JSON.stringify(add));
  for (const port of dnsPorts) {
    const a = await digUntil(port, ['qs.vods.dpns', 'SRV'], (x) => x.answer.length > 0);
    assert.deepEqual(a.answer, ['qs.vods.dpns. 5 IN SRV 0 0 7007 qs.vods.dpns.'], a.text);
    assert.ok(a.flags.includes('aa'), a.text);
  }
  for (const m of c.members) {
    if (m.sid === primary.sid) continue;
    const port = dnsPorts[m.sid] as number;
    await digUntil(port, ['auto.demo.dpns', 'TXT'], (x) => x.status === 'NOERROR');
    const a = await dig(port, ['auto.demo.dpns', 'SRV']);
    assert.equal(a.status, 'SERVFAIL', a.text);
    // Not even tried there (a try would be counted, whatever became of it).
    const metrics = await (await fetch(`http://${m.server}/metrics`)).text();
    assert.doesNotMatch(metrics, /^dpns_launches_total\{[^}]*\} [1-9]/m, `member ${m.sid} tried a launch`);
  }
  // No launch was tried: a launch through a host with no enrolled agent would have left it failed.
  const st = await c.call(primary.sid, 'serviceState', { pattern: '/demo/auto' });
  assert.ok(st.ok, JSON.stringify(st));
  assert.equal((st.result as { entries: { state: string }[] }).entries[0]?.state, 'registered');
  // The primary does try: no agent is enrolled for the host, so the launch fails, SERVFAIL, and the entry says so.
  const p = await dig(dnsPorts[primary.sid] as number, ['auto.demo.dpns', 'SRV']);
  assert.equal(p.status, 'SERVFAIL', p.text);
  const after_ = await c.call(primary.sid, 'serviceState', { pattern: '/demo/auto' });
  assert.ok(after_.ok, JSON.stringify(after_));
  assert.equal((after_.result as { entries: { state: string }[] }).entries[0]?.state, 'failed');
});
