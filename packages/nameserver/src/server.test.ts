import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { adminProof, newOwnerKey, identifySignature, type HelloParams, type ServiceView } from '@dpns/protocol';
import { startNameServer, type RunningNameServer } from './start.js';
import { createLogger } from './log.js';
import { corruptOnePortDigit } from './storage/testing.js';

/** A raw JSON-RPC peer: exactly what a client in another language would do. */
class Peer {
  hello!: HelloParams;
  private next = 1;
  private readonly pending = new Map<number, (m: Record<string, unknown>) => void>();
  readonly notes: Record<string, unknown>[] = [];
  private constructor(readonly ws: WebSocket) {}

  static async open(url: string): Promise<Peer> {
    const ws = new WebSocket(url);
    const p = new Peer(ws);
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as Record<string, unknown>;
        if (m.method === 'hello') {
          p.hello = m.params as HelloParams;
          resolve();
        } else if (typeof m.id === 'number') p.pending.get(m.id)?.(m);
        else p.notes.push(m);
      });
      ws.once('close', () => reject(new Error('closed before hello')));
    });
    return p;
  }

  call(method: string, params?: unknown): Promise<Record<string, unknown>> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  async ok(method: string, params?: unknown): Promise<Record<string, unknown>> {
    const r = await this.call(method, params);
    assert.ok('result' in r, `${method}: ${JSON.stringify(r.error)}`);
    return r.result as Record<string, unknown>;
  }

  async err(method: string, params?: unknown): Promise<string> {
    const r = await this.call(method, params);
    assert.ok('error' in r, `${method} should fail`);
    return ((r.error as { data: { code: string } }).data).code;
  }
}

interface ServerTestOptions {
  clientHeartbeatMs?: number;
  graceMs?: number;
  dir?: string;
  snapshotEvery?: number;
  /** Every log line (info and up), parsed. */
  logs?: Record<string, unknown>[];
}

async function withServer(fn: (ns: RunningNameServer, dir: string) => Promise<void>, opts: ServerTestOptions = {}): Promise<void> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'dpns-server-')));
  const logs = opts.logs;
  const ns = await startNameServer({
    listen: '127.0.0.1:0', dataDir: dir, clientHeartbeatMs: opts.clientHeartbeatMs ?? 1000, graceMs: opts.graceMs ?? 5000,
    ...(opts.snapshotEvery === undefined ? {} : { snapshotEvery: opts.snapshotEvery }),
    ...(logs === undefined ? { log: 'silent' as const } : { logger: createLogger({ level: 'info', format: 'json', write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) }) }),
  });
  try {
    await fn(ns, dir);
  } finally {
    await ns.close();
    if (opts.dir === undefined) await rm(dir, { recursive: true, force: true });
  }
}

async function until(check: () => Promise<boolean>, ms: number): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

test('the admin token is made at first start with mode 0600, and login proves it without sending it', async () => {
  await withServer(async (ns, dir) => {
    const st = await stat(join(dir, 'admin.token'));
    assert.equal(st.mode & 0o777, 0o600);
    const p = await Peer.open(ns.url);
    assert.equal(await p.err('register.add', { name: '/a', spec: { host: 'h', program: '/bin/true' } }), 'UNAUTHORIZED');
    assert.equal(await p.err('login', { proof: adminProof('0'.repeat(64), p.hello.nonce) }), 'UNAUTHORIZED');
    // A proof made for another connection's nonce is refused: a captured login cannot be replayed.
    const q = await Peer.open(ns.url);
    assert.equal(await q.err('login', { proof: adminProof(ns.adminToken, p.hello.nonce) }), 'UNAUTHORIZED');
    await p.ok('login', { proof: adminProof(ns.adminToken, p.hello.nonce) });
    await p.ok('register.add', { name: '/a', spec: { host: 'h', program: '/bin/true' } });
    p.ws.close();
    q.ws.close();
  });
});

/** How many heartbeat rounds judged nobody because the server itself was late (§2.6). */
async function lateRounds(ns: RunningNameServer): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${ns.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('dpns_heartbeat_late_rounds_total '));
  return Number(line?.split(' ')[1] ?? NaN);
}

test('a peer that stops answering pings leaves running at the second beat after its last pong, not a beat later', async () => {
  // Long enough that one beat stands well clear of the timer noise of a loaded machine.
  const HB = 1000;
  await withServer(async (ns) => {
    const watcher = await Peer.open(ns.url);
    await watcher.ok('watch', { pattern: '/hb/*' });
    // A round in which the server itself was late judges nobody (§2.6) and so may add a beat:
    // such an attempt measures nothing, and is made again.
    for (let attempt = 1; ; attempt++) {
      const name = `/hb/a${attempt}`;
      const svc = await Peer.open(ns.url);
      await svc.ok('advertiseService', { name, host: 'h', port: 1 });
      const lateBefore = await lateRounds(ns);
      // Like a host that vanished right after answering a ping (ws pongs before it emits 'ping'):
      // the socket stays open but nothing more is read or answered. Its last sign of life is
      // that pong, at a beat, so §2.6 drops it at the second beat after: 2 × HB later.
      const quietAt = await new Promise<number>((resolve) => svc.ws.once('ping', () => {
        (svc.ws as unknown as { _socket: { pause(): void } })._socket.pause();
        resolve(performance.now());
      }));
      const isLost = (n: Record<string, unknown>): boolean => {
        const e = (n.params as { entry?: ServiceView }).entry;
        return e?.name === name && e.state === 'lost';
      };
      await until(async () => watcher.notes.some(isLost), 4 * HB);
      const took = performance.now() - quietAt;
      svc.ws.terminate();
      if ((await lateRounds(ns)) > lateBefore && attempt < 3) continue;
      // One beat later (three missed pongs' worth) would be 3 × HB.
      assert.ok(took > 1.5 * HB && took <= 2.5 * HB, `lost ${took.toFixed(0)} ms after its last pong, with a ${HB} ms heartbeat`);
      const e = ((await watcher.ok('serviceState', { pattern: name })).entries as ServiceView[])[0];
      assert.equal(e?.reason, 'its advertiser went away: it stopped answering heartbeats');
      break;
    }
    watcher.ws.close();
  }, { clientHeartbeatMs: HB });
});

test('a closed connection takes its advertisements out of running at once, and watchers see it', async () => {
  await withServer(async (ns) => {
    const watcher = await Peer.open(ns.url);
    const w = await watcher.ok('watch', { pattern: '/c/*' });
    const svc = await Peer.open(ns.url);
    await svc.ok('advertiseService', { name: '/c/a', host: 'h', port: 1 });
    svc.ws.terminate();
    await until(async () => watcher.notes.some((n) => (n.params as { entry?: ServiceView }).entry?.state === 'lost'), 2000);
    const types = watcher.notes.map((n) => (n.params as { watchIds: string[]; entry?: ServiceView }));
    assert.ok(types.every((t) => t.watchIds.length === 1 && t.watchIds[0] === w.watchId));
    assert.deepEqual(types.map((t) => t.entry?.state), ['running', 'lost']);
    watcher.ws.close();
  });
});

test('after a restart an identified advertiser gets its grace period and may re-advertise; others become lost', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dpns-grace-'));
  const key = newOwnerKey();
  try {
    await withServer(async (ns) => {
      const a = await Peer.open(ns.url);
      await a.ok('identify', { publicKey: key.publicKey, signature: identifySignature(key, a.hello.nonce) });
      await a.ok('advertiseService', { name: '/g/back', host: 'h', port: 1 });
      const b = await Peer.open(ns.url);
      await b.ok('advertiseService', { name: '/g/gone', host: 'h', port: 2 });
    }, { dir });
    await withServer(async (ns) => {
      const c = await Peer.open(ns.url);
      const state = async (n: string) => ((await c.ok('serviceState', { pattern: n })).entries as ServiceView[])[0]?.state;
      assert.equal(await state('/g/back'), 'running', 'still running during the grace period');
      // Someone else cannot take it during the grace period.
      assert.equal(await c.err('advertiseService', { name: '/g/back', host: 'evil', port: 9 }), 'FORBIDDEN');
      const a = await Peer.open(ns.url);
      await a.ok('identify', { publicKey: key.publicKey, signature: identifySignature(key, a.hello.nonce) });
      await a.ok('advertiseService', { name: '/g/back', host: 'h', port: 1 });
      await until(async () => (await state('/g/gone')) === 'lost', 3000);
      assert.equal(await state('/g/back'), 'running');
      a.ws.close();
      c.ws.close();
    }, { dir, graceMs: 500 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad frames get JSON-RPC errors with stable codes and the connection carries on', async () => {
  await withServer(async (ns) => {
    const p = await Peer.open(ns.url);
    const answers: Record<string, unknown>[] = [];
    p.ws.on('message', (d) => answers.push(JSON.parse(String(d)) as Record<string, unknown>));
    const frames: [string | Buffer, string][] = [
      ['{not json', 'PARSE_ERROR'],
      [Buffer.from([1, 2, 3]), 'INVALID_REQUEST'],
      ['[]', 'INVALID_REQUEST'],
      ['"hi"', 'INVALID_REQUEST'],
      [JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'nope' }), 'METHOD_NOT_FOUND'],
      [JSON.stringify({ jsonrpc: '1.0', id: 2, method: 'ping' }), 'INVALID_REQUEST'],
      [JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'findServices', params: { pattern: '/a/../b' } }), 'INVALID_NAME'],
      [JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'advertiseService', params: { name: '/a', host: 'h', port: 'x' } }), 'INVALID_PARAMS'],
      [JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'listServices', params: { pattern: '/a[' } }), 'INVALID_PATTERN'],
      [JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'ping', params: { pad: 'x'.repeat(1024 * 1024 + 10) } }), 'FRAME_TOO_LARGE'],
    ];
    for (const [f] of frames) p.ws.send(f);
    await until(async () => answers.length >= frames.length, 3000);
    assert.deepEqual(answers.map((a) => (a.error as { data: { code: string } }).data.code), frames.map(([, c]) => c));
    assert.ok('result' in (await p.call('ping')), 'the connection still answers');
    p.ws.close();
  });
});

test('a frame past the hard cap closes that connection with 1009; the server carries on', async () => {
  await withServer(async (ns) => {
    const p = await Peer.open(ns.url);
    const code = await new Promise<number>((resolve) => {
      p.ws.once('close', (c) => resolve(c));
      p.ws.send('x'.repeat(5 * 1024 * 1024));
    });
    assert.equal(code, 1009);
    const q = await Peer.open(ns.url);
    await q.ok('ping');
    q.ws.close();
  });
});

test('watches per connection are limited, and the limit is a clear error', async () => {
  await withServer(async (ns) => {
    const p = await Peer.open(ns.url);
    const codes = await Promise.all(Array.from({ length: 1100 }, () => p.call('watch', { pattern: '/*' })));
    const refused = codes.filter((r) => 'error' in r);
    assert.equal(refused.length, 100);
    assert.equal((refused[0]?.error as { data: { code: string } }).data.code, 'LIMIT_EXCEEDED');
    p.ws.close();
  });
});

test('a read never reports a change before that change is durable and acknowledged', async () => {
  await withServer(async (ns) => {
    const p = await Peer.open(ns.url);
    const order: string[] = [];
    const write = p.call('advertiseService', { name: '/rw/a', host: 'h', port: 1 }).then(() => order.push('write-ack'));
    const read = p.call('findServices', { pattern: '/rw/a' }).then((r) => {
      order.push('read');
      assert.ok('result' in r, 'the read sees the write');
    });
    await Promise.all([write, read]);
    assert.deepEqual(order, ['write-ack', 'read']);
    p.ws.close();
  });
});

test('a connection with several matching watches gets one frame per change naming them all', async () => {
  await withServer(async (ns) => {
    const p = await Peer.open(ns.url);
    const a = await p.ok('watch', { pattern: '/m/*' });
    const b = await p.ok('watch', { pattern: '*' });
    await p.ok('watch', { pattern: '/other/*' });
    const w = await Peer.open(ns.url);
    await w.ok('advertiseService', { name: '/m/x', host: 'h', port: 1 });
    await until(async () => p.notes.length > 0, 2000);
    // A frame for the same change would have left with the first, ahead of this answer.
    await p.ok('ping');
    assert.equal(p.notes.length, 1);
    assert.deepEqual(((p.notes[0]?.params as { watchIds: string[] }).watchIds).sort(), [a.watchId, b.watchId].sort());
    p.ws.close();
    w.ws.close();
  });
});

test('wrong admin proofs: two answered at once, then slower, and the fifth closes the connection (4003)', async () => {
  await withServer(async (ns) => {
    const p = await Peer.open(ns.url);
    const closed = new Promise<number>((resolve) => p.ws.once('close', (code) => resolve(code)));
    const wrong = { proof: '0'.repeat(64) };
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      assert.equal(await p.err('login', wrong), 'UNAUTHORIZED');
      times.push(performance.now() - t0);
    }
    assert.equal(await closed, 4003);
    assert.ok((times[0] ?? 0) < 400 && (times[1] ?? 0) < 400, `the first two at once: ${times.join(', ')}`);
    assert.ok((times[2] ?? 0) >= 450 && (times[3] ?? 0) >= 950 && (times[4] ?? 0) >= 1950, `then 0.5, 1 and 2 s: ${times.join(', ')}`);
    // The right token still works on a new connection: the guard is per connection.
    const q = await Peer.open(ns.url);
    await q.ok('login', { proof: adminProof(ns.adminToken, q.hello.nonce) });
    const text = await (await fetch(`http://127.0.0.1:${ns.port}/metrics`)).text();
    assert.match(text, /^dpns_login_failures_total 5$/m);
    assert.match(text, /^dpns_connections_closed_by_server_total\{reason="login_failures"\} 1$/m);
    q.ws.close();
  });
});

test('an invalid Request without an id is answered INVALID_REQUEST with id null; a valid notification is not answered', async () => {
  await withServer(async (ns) => {
    const p = await Peer.open(ns.url);
    for (const bad of ['{}', '{"method":1}', '{"jsonrpc":"2.0"}', '{"jsonrpc":"1.0","method":"ping"}']) p.ws.send(bad);
    p.ws.send('{"jsonrpc":"2.0","method":"ping"}');
    await p.ok('ping');
    const answers = p.notes.filter((m) => m.id === null);
    assert.equal(answers.length, 4, JSON.stringify(p.notes));
    for (const a of answers) assert.equal((a.error as { data: { code: string } }).data.code, 'INVALID_REQUEST');
    assert.equal(p.notes.length, 4, 'the valid notification got no answer');
    p.ws.close();
  });
});

test('a snapshot comes once snapshotEvery records and an eighth of the registry have been logged since the last, not sooner', async () => {
  const logs: Record<string, unknown>[] = [];
  // The newest snapshot this server has written, by the revision it holds.
  const newest = (): number => Math.max(0, ...logs.filter((l) => l.msg === 'snapshot written' && 'entries' in l).map((l) => l.revision as number));
  await withServer(async (ns) => {
    const p = await Peer.open(ns.url);
    await p.ok('login', { proof: adminProof(ns.adminToken, p.hello.nonce) });
    let port = 1000;
    const write = async (i: number): Promise<number> => ((await p.ok('advertiseService', { name: `/cadence/s${i % 320}`, host: 'h', port: port++, static: true })) as { revision: number }).revision;
    let revision = 0;
    for (let i = 0; i < 320; i++) revision = await write(i);
    // 320 entries: an eighth is 40, over the floor of 10. Once the newest snapshot is fewer than
    // 40 records behind, none can be under way (one starts only 40 after the newest), and the next
    // comes with the write 40 after it.
    let at = newest();
    while (revision - at >= 40) {
      revision = await write(revision);
      await until(async () => newest() > at, 5000);
      at = newest();
    }
    while (revision < at + 40) revision = await write(revision);
    await until(async () => newest() > at, 5000);
    assert.equal(newest(), at + 40, `the snapshot after the one at ${at} holds the 40th record after it, not an earlier or later one`);
    p.ws.close();
  }, { snapshotEvery: 10, logs });
});

test('a snapshot is made from the one before, after a restart too; one that does not check out is not copied, and the next is written whole', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dpns-snapchain-'));
  const written = (logs: Record<string, unknown>[]) => logs.filter((l) => l.msg === 'snapshot written' && 'entries' in l);
  const ports = new Map<string, number>();
  const writeSome = async (ns: RunningNameServer, n: number, round: number): Promise<void> => {
    const p = await Peer.open(ns.url);
    await p.ok('login', { proof: adminProof(ns.adminToken, p.hello.nonce) });
    for (let i = 0; i < n; i++) {
      // New names and rewrites of earlier ones, so a snapshot both adds lines and replaces them.
      const name = `/chain/s${(i * 7 + round * 3) % 60}`;
      const port = 1000 + round * 100 + i;
      await p.ok('advertiseService', { name, host: 'h', port, static: true });
      ports.set(name, port);
    }
    p.ws.close();
  };
  try {
    const first: Record<string, unknown>[] = [];
    let rounds = 0;
    await withServer(async (ns) => {
      // All 60 names first. Each snapshot made from the one before gets a thread of its own,
      // started ~60 ms before it can run; none starts while one is being made, so 60 writes in a
      // row make more than half the entries change between two, and some of these are written whole.
      await writeSome(ns, 60, 0);
      // Until the one being made is written: no new snapshot for half a second.
      let count = -1;
      let since = Date.now();
      await until(async () => {
        if (written(first).length !== count) [count, since] = [written(first).length, Date.now()];
        return Date.now() - since >= 500;
      }, 10_000);
      // Then rounds of ten writes (one snapshot's worth), each waiting for its snapshot. The first
      // of these holds the fill's last writes too (up to 40 changes): it may be written whole.
      rounds = written(first).length + 1;
      for (let round = 10; written(first).length < rounds + 5; round++) {
        const before = written(first).length;
        // Rounds from 10: ports no later round below writes again (a write that changes nothing is not logged).
        await writeSome(ns, 10, round);
        await until(async () => written(first).length > before, 5000);
      }
    }, { dir, snapshotEvery: 10, logs: first });
    const snaps = written(first);
    assert.equal(snaps[0]?.from, undefined, 'the first snapshot is written whole');
    // Made from the one before: at most 10 of 60 entries changed since it.
    for (const [k, s] of snaps.entries()) if (k >= rounds) assert.equal(s.from, snaps[k - 1]?.revision, `made from the one before: ${JSON.stringify(s)}`);

    const second: Record<string, unknown>[] = [];
    await withServer(async (ns) => {
      const recovered = second.find((l) => l.msg === 'registry recovered');
      await writeSome(ns, 12, 1);
      await until(async () => written(second).length >= 1, 5000);
      assert.equal(written(second)[0]?.from, recovered?.snapshot, 'the first snapshot after a restart is made from the one recovered');

      // The newest file changed on disk (one digit of a port): the next snapshot must not copy it.
      const newest = (await readdir(dir)).filter((n) => /^snap-\d+\.json$/.test(n)).sort().at(-1) as string;
      await corruptOnePortDigit(join(dir, newest));
      await writeSome(ns, 12, 2);
      const isFailed = (l: Record<string, unknown>): boolean => l.msg === 'snapshot failed; the log keeps growing until one succeeds';
      await until(async () => second.some(isFailed), 5000);
      assert.match(JSON.stringify(second.find(isFailed)), /CRC-32 mismatch/);
      // The next snapshot is due with the next write.
      await writeSome(ns, 2, 3);
      await until(async () => written(second).length >= 2, 5000);
      assert.equal(written(second)[1]?.from, undefined, 'the snapshot after the refused one is written whole');
    }, { dir, snapshotEvery: 10, logs: second });

    await withServer(async (ns) => {
      const p = await Peer.open(ns.url);
      const entries = (await p.ok('serviceState', { pattern: '/chain/*' })).entries as ServiceView[];
      assert.deepEqual(new Map(entries.map((e) => [e.name, e.port])), ports);
      p.ws.close();
    }, { dir });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
