// The heartbeat judges a peer only on time the server could hear it: a server that was itself
// stopped (SIGSTOP, as a long GC pause or an overloaded host would hold it) drops nobody when it
// resumes, while a peer that really went silent is still dropped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DpnsClient } from '@dpns/client';
import { spawnFixture, startServerProcess, teardown, type ServerProcess } from './harness/index.js';

// Long enough that a peer on a loaded 2-core machine is never starved of a whole interval.
const HEARTBEAT_MS = 500;
let ns: ServerProcess;

before(async () => {
  ns = await startServerProcess({ args: ['--client-heartbeat-ms', String(HEARTBEAT_MS), '--log-level', 'info'] });
});
after(async () => {
  await teardown();
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`http://${ns.server}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

test('a server held for six heartbeats drops none of its peers when it resumes', async () => {
  const name = '/fair/held';
  const fx = spawnFixture('advertiser', [ns.server, name, '127.0.0.1', '9501']);
  await fx.stdout.waitFor(`advertised ${name}`);
  const watcher = new DpnsClient({ servers: [ns.server] });
  try {
    const w = watcher.watch(name);
    await w.ready;
    const events: string[] = [];
    w.on('event', (ev) => events.push(ev.entry?.kind === 'service' ? ev.entry.state : ev.type));

    ns.proc.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 6 * HEARTBEAT_MS));
    ns.proc.kill('SIGCONT');
    // Long enough for several judged rounds after the resume.
    await new Promise((r) => setTimeout(r, 4 * HEARTBEAT_MS));

    const [e] = await watcher.serviceState(name);
    assert.equal(e?.kind === 'service' && e.state, 'running', 'the advertiser kept its connection and its name');
    assert.deepEqual(events, [], 'no watch event: nothing changed');
    // The server really was held: its own event-loop delay says so.
    assert.ok((await metric('dpns_event_loop_delay_max_seconds')) >= 2.5, 'the server saw the stall');
    const text = await (await fetch(`http://${ns.server}/metrics`)).text();
    assert.doesNotMatch(text, /^dpns_connections_closed_by_server_total\{/m, `no connection was closed by the server: ${ns.stderrLines().filter((l) => l.includes('closed a connection') || l.includes('skipped')).join(' | ')}`);
  } finally {
    await watcher.close();
    await fx.kill('SIGKILL');
  }
});

test('a peer that stays connected but stops answering is still dropped, and the close is logged with its reason', async () => {
  const name = '/fair/frozen';
  const fx = spawnFixture('advertiser', [ns.server, name, '127.0.0.1', '9502']);
  await fx.stdout.waitFor(`advertised ${name}`);
  const c = new DpnsClient({ servers: [ns.server] });
  try {
    fx.proc.kill('SIGSTOP');
    const t0 = Date.now();
    for (;;) {
      const [e] = await c.serviceState(name);
      if (e?.kind === 'service' && e.state === 'lost') break;
      assert.ok(Date.now() - t0 < 20 * HEARTBEAT_MS, 'the frozen peer was never dropped');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(ns.stderrLines().some((l) => l.includes('"closed a connection"') && l.includes('"reason":"heartbeat"')));
    const text = await (await fetch(`http://${ns.server}/metrics`)).text();
    assert.match(text, /^dpns_connections_closed_by_server_total\{reason="heartbeat"\} [1-9]/m);
  } finally {
    await c.close();
    await fx.kill('SIGKILL');
  }
});
