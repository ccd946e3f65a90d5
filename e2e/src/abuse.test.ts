// Hostile clients against the real name server: each attack is refused or bounded, and a
// legitimate client connected throughout keeps its connection and is still answered.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { DpnsClient, isDpnsError, ownerKeyFromSeed } from '@dpns/client';
import { startServerProcess, teardown, type ServerProcess } from './harness/index.js';

let ns: ServerProcess;
let legit: DpnsClient;
let legitDropped = 0;

before(async () => {
  ns = await startServerProcess({ args: ['--max-connections-per-address', '20', '--max-advertisements', '5', '--log-level', 'warn'] });
  // Connected before the attacks: the per-address limit refuses new connections, never old ones.
  legit = new DpnsClient({ servers: [ns.server], reconnect: { minDelayMs: 20, maxDelayMs: 200 } });
  legit.on('disconnect', () => legitDropped++);
  await legit.ping();
});
after(async () => {
  await legit.close();
  await teardown();
});

async function metricsText(server = ns.server): Promise<string> {
  return (await fetch(`http://${server}/metrics`)).text();
}

function openWs(localAddress?: string): Promise<{ ws: WebSocket; code?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://${ns.server}/`, localAddress === undefined ? {} : { localAddress });
    ws.on('error', () => undefined);
    ws.once('message', () => resolve({ ws }));
    ws.once('close', (code) => resolve({ ws, code }));
  });
}

test('slowloris: sockets that never finish their headers are cut, oldest first, and the monitor and clients still get in', async () => {
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < 1100; i++) {
      const s = connect({ host: '127.0.0.1', port: ns.port });
      s.on('error', () => undefined);
      s.write('GET / HTTP/1.1\r\nHost: x\r\n'); // never ends
      sockets.push(s);
    }
    // Every socket is accepted (its headers sent) before the count is read.
    await Promise.all(sockets.map((s) => new Promise((r) => (s.readyState === 'open' ? r(undefined) : s.once('connect', r)))));
    const t0 = Date.now();
    let cut = 0;
    while (cut === 0 && Date.now() - t0 < 10_000) {
      cut = Number(/^dpns_http_sockets_cut_total (\d+)$/m.exec(await metricsText())?.[1] ?? 0);
    }
    assert.ok(cut >= 1, 'the oldest pending sockets were cut');
    const page = await fetch(`http://${ns.server}/healthz`);
    assert.equal(page.status, 200);
    assert.equal(Number(await legit.ping().then(() => 1)), 1);
  } finally {
    for (const s of sockets) s.destroy();
  }
});

test('one address may hold only so many connections; another address is not affected', async () => {
  const opened: WebSocket[] = [];
  try {
    let refused: number | undefined;
    for (let i = 0; i < 25 && refused === undefined; i++) {
      const r = await openWs('127.0.0.1');
      opened.push(r.ws);
      refused = r.code;
    }
    assert.equal(refused, 1013);
    const other = await openWs('127.0.0.2');
    assert.equal(other.code, undefined, 'a connection from another address is accepted');
    opened.push(other.ws);
    assert.match(await metricsText(), /^dpns_connections_closed_by_server_total\{reason="too_many_from_address"\} [1-9]/m);
  } finally {
    await Promise.all(opened.map((ws) => new Promise((r) => {
      if (ws.readyState === WebSocket.CLOSED) return r(undefined);
      ws.once('close', r);
      ws.close();
    })));
  }
});

test('one connection may advertise only so many names', async () => {
  const c = new DpnsClient({ servers: [ns.server] });
  try {
    const ads = [];
    for (let i = 0; i < 5; i++) ads.push(await c.advertise(`/abuse/a${i}`, '127.0.0.1', 9000 + i));
    await assert.rejects(c.advertise('/abuse/a5', '127.0.0.1', 9005), (e: unknown) => isDpnsError(e, 'LIMIT_EXCEEDED') && /at most 5 names/.test(e.message));
    // Giving one back makes room.
    await ads[0]?.close();
    await c.advertise('/abuse/a5', '127.0.0.1', 9005);
  } finally {
    await c.close();
  }
  assert.equal(legitDropped, 0, 'the legitimate client kept its connection throughout');
});

test('unfinished fragmented messages cannot add up: past the total cap the largest holders are cut, the legitimate client stays', async () => {
  const senders: WebSocket[] = [];
  try {
    const chunk = Buffer.alloc(100 * 1024, 0x61);
    for (let i = 0; i < 19; i++) {
      const r = await openWs(i < 15 ? '127.0.0.1' : '127.0.0.3');
      if (r.code !== undefined) break;
      senders.push(r.ws);
      // 3.9 MiB of one text message, in fragments, never finished: under the 4 MiB per-message cap.
      for (let k = 0; k < 39; k++) r.ws.send(chunk, { binary: false, fin: false });
    }
    const t0 = Date.now();
    let cut = 0;
    while (Date.now() - t0 < 10_000) {
      cut = senders.filter((ws) => ws.readyState !== WebSocket.OPEN).length;
      if (cut > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(cut >= 1, 'some holders of unfinished input were cut (19 × 3.9 MiB is over 64 MiB)');
    assert.match(await metricsText(), /^dpns_connections_closed_by_server_total\{reason="unfinished_input"\} [1-9]/m);
    await legit.ping();
    assert.equal(legitDropped, 0);
  } finally {
    for (const ws of senders) ws.terminate();
  }
});

test('watchers that fall behind a flood of writes are cut as slow consumers before the events held for them can grow the server without bound', async () => {
  // 40 watchers of every name that stop reading, while 64 writes in flight change names: each
  // change is an event for each of them, held in the server (by the fan-out, then in the
  // socket's queue) since they take none. Before the events the server held for a connection
  // counted toward its 32 MiB and the 256 MiB total, they piled up in the server (1.7 GB after 20
  // s here, 4.8 GB with 200 watchers, until the process died). A server of its own, with pings
  // a minute apart: here only those limits may cut the watchers, not the heartbeat that would
  // otherwise notice within two seconds that they stopped answering.
  const q = await startServerProcess({ args: ['--client-heartbeat-ms', '60000', '--log-level', 'warn'] });
  const watchers: WebSocket[] = [];
  const writer = new DpnsClient({ servers: [q.server], token: q.token });
  const bystander = new DpnsClient({ servers: [q.server] });
  let bystanderDropped = 0;
  bystander.on('disconnect', () => bystanderDropped++);
  let stop = false;
  const hwm = (): number => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${q.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  const slowCut = async (): Promise<number> => Number(/^dpns_connections_closed_by_server_total\{reason="slow_consumer"\} (\d+)$/m.exec(await metricsText(q.server))?.[1] ?? 0);
  try {
    await bystander.ping();
    for (let i = 0; i < 40; i++) {
      const ws = new WebSocket(`ws://${q.server}/`);
      ws.on('error', () => undefined);
      watchers.push(ws);
      await new Promise<void>((resolve, reject) => {
        ws.once('message', () => {
          ws.once('message', (raw) => (String(raw).includes('"result"') ? resolve() : reject(new Error(String(raw)))));
          ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'watch', params: { pattern: '*' } }));
        });
        ws.once('close', (code) => reject(new Error(`watcher closed (${code})`)));
      });
      (ws as unknown as { _socket: Socket })._socket.pause();
    }
    const before = hwm();
    // Names near the longest allowed, so each event is ~500 bytes.
    const prefix = `/flood/${'x'.repeat(220)}/s`;
    let written = 0;
    const flood = Array.from({ length: 64 }, async (_, k) => {
      for (let i = k; !stop; i += 64) {
        await writer.advertiseStatic(`${prefix}${i % 2_000}`, '127.0.0.1', 1024 + (i % 60_000));
        written++;
      }
    });
    // At most 20 s; here every watcher is cut within ~15 s, and without the bound the server grew by 1.7 GB.
    const t0 = Date.now();
    let cut = 0;
    while (cut < watchers.length && Date.now() - t0 < 20_000) {
      await new Promise((r) => setTimeout(r, 500));
      cut = await slowCut();
    }
    stop = true;
    await Promise.all(flood);
    const grew = hwm() - before;
    assert.ok(cut >= 1, `watchers that fell behind were cut as slow consumers (after ${written} writes)`);
    // 40 × 32 MiB would be 1.25 GiB; the 256 MiB total, checked each second, holds it to less.
    assert.ok(grew < 2 ** 30, `the server grew by ${(grew / 2 ** 20).toFixed(0)} MiB after ${written} writes (${cut} watchers cut)`);
    await bystander.ping();
    assert.equal(bystanderDropped, 0, 'a client that reads what it is sent is not cut');
  } finally {
    stop = true;
    for (const ws of watchers) ws.terminate();
    await writer.close();
    await bystander.close();
    await q.kill('SIGKILL');
  }
});

test('lost entries nobody keeps expire; the legitimate client\'s own entries do not', async () => {
  const sweeper = await startServerProcess({ args: ['--lost-expiry-ms', '400', '--log-level', 'warn'] });
  const keeper = new DpnsClient({ servers: [sweeper.server] });
  try {
    await keeper.advertise('/keep/me', '127.0.0.1', 9200);
    // An abuser advertises names and vanishes: they go lost, then away.
    const abuser = await openRaw(sweeper.server);
    for (let i = 0; i < 20; i++) await abuser.call('advertiseService', { name: `/litter/${i}`, host: '127.0.0.1', port: 9300 + i });
    abuser.ws.terminate();
    const t0 = Date.now();
    let left = -1;
    while (left !== 0 && Date.now() - t0 < 10_000) {
      left = (await keeper.serviceState('/litter/*')).length;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(left, 0, 'the litter was swept');
    const [mine] = await keeper.serviceState('/keep/me');
    assert.equal(mine?.kind === 'service' && mine.state, 'running');
    const text = await metricsText(sweeper.server);
    assert.match(text, /^dpns_lost_entries_expired_total 20$/m);
  } finally {
    await keeper.close();
    await sweeper.kill('SIGKILL');
  }
});

test('advertisements are capped per source address and per owner key; lost litter past its cap goes at once', async () => {
  const q = await startServerProcess({ args: [
    '--max-advertisements-per-address', '6', '--max-advertisements-per-owner', '4', '--max-lost-entries', '10', '--max-watches-per-address', '5', '--log-level', 'warn',
  ] });
  const ownerKey = ownerKeyFromSeed('5'.repeat(64));
  const a = new DpnsClient({ servers: [q.server], ownerKey });
  const b = new DpnsClient({ servers: [q.server], ownerKey });
  const c = new DpnsClient({ servers: [q.server] });
  const refusedFor = (what: string) => (e: unknown): boolean => isDpnsError(e, 'LIMIT_EXCEEDED') && (e.details as { what?: string } | undefined)?.what === what;
  try {
    // One owner key over two connections: 4 names together.
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push(await a.advertise(`/quota/a${i}`, '127.0.0.1', 9400 + i));
    await b.advertise('/quota/b0', '127.0.0.1', 9410);
    await assert.rejects(b.advertise('/quota/b1', '127.0.0.1', 9411), refusedFor('advertisementsPerOwner'));
    // Another key from the same address: the address has 6 together.
    await c.advertise('/quota/c0', '127.0.0.1', 9420);
    await c.advertise('/quota/c1', '127.0.0.1', 9421);
    await assert.rejects(c.advertise('/quota/c2', '127.0.0.1', 9422), refusedFor('advertisementsPerAddress'));
    // Another address is not affected; giving a name back makes room.
    const other = await openRaw(q.server, '127.0.0.2');
    await other.call('advertiseService', { name: '/quota/other', host: '127.0.0.1', port: 9430 });
    other.ws.terminate();
    await mine[0]?.close();
    await c.advertise('/quota/c2', '127.0.0.1', 9422);

    // Watches: 5 from one address together (b has none yet; a and c take 3 and 2).
    for (let i = 0; i < 3; i++) await a.watch(`/w/a${i}/*`).ready;
    const cw = [c.watch('/w/c0/*'), c.watch('/w/c1/*')];
    await Promise.all(cw.map((w) => w.ready));
    const refused = b.watch('/w/b0/*');
    await assert.rejects(refused.ready, refusedFor('watchesPerAddress'));
    await refused.close();
    await other2Watch(q.server);
    await cw[0]?.close();
    await b.watch('/w/b0/*').ready;

    // Litter from three addresses that advertise and vanish: 18 strays, 10 kept, the oldest go.
    for (const addr of ['127.0.0.3', '127.0.0.4', '127.0.0.5']) {
      const litterer = await openRaw(q.server, addr);
      for (let i = 0; i < 6; i++) await litterer.call('advertiseService', { name: `/litter/${addr}/${i}`, host: '127.0.0.1', port: 9500 + i });
      litterer.ws.terminate();
    }
    const t0 = Date.now();
    let left = -1;
    while (Date.now() - t0 < 10_000) {
      left = (await c.serviceState('/litter/*')).length;
      if (left <= 10 && left > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(left > 0 && left <= 10, `at most 10 strays kept (${left})`);
    const names = (await c.serviceState('/litter/*')).map((e) => e.name);
    assert.ok(names.every((n) => !n.startsWith('/litter/127.0.0.3/')), `the oldest litter went first: ${names.join(' ')}`);
    const [kept] = await c.serviceState('/quota/c0');
    assert.equal(kept?.kind === 'service' && kept.state, 'running', 'names that are kept alive are never strays');
    const text = await metricsText(q.server);
    for (const what of ['advertisementsPerOwner', 'advertisementsPerAddress', 'watchesPerAddress']) {
      assert.match(text, new RegExp(`^dpns_limit_refusals_total\\{what="${what}"\\} 1$`, 'm'), `the ${what} refusal is counted`);
    }
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
    await q.kill('SIGKILL');
  }
});

/** A watch from another address is not counted with 127.0.0.1's. */
async function other2Watch(server: string): Promise<void> {
  const other = await openRaw(server, '127.0.0.2');
  try {
    await other.call('watch', { pattern: '/w/other/*' });
  } finally {
    other.ws.terminate();
  }
}

/** A bare JSON-RPC connection: calls in order, answers by id. */
async function openRaw(server: string, localAddress?: string): Promise<{ ws: WebSocket; call(method: string, params: unknown): Promise<unknown> }> {
  const ws = new WebSocket(`ws://${server}/`, localAddress === undefined ? {} : { localAddress });
  const pending = new Map<number, (m: { result?: unknown; error?: unknown }) => void>();
  await new Promise((resolve, reject) => {
    ws.once('message', resolve);
    ws.once('error', reject);
  });
  ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as { id?: number; result?: unknown; error?: unknown };
    if (typeof m.id === 'number') pending.get(m.id)?.(m);
  });
  let next = 1;
  return {
    ws,
    call: (method, params) => new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, (m) => (m.error === undefined ? resolve(m.result) : reject(new Error(JSON.stringify(m.error)))));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    }),
  };
}
