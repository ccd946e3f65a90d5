// Scenario: hostile clients against one name server with default settings, while a legitimate
// client measures `find` (one in flight), keeps a watch open and counts what it loses. Each
// attack runs for one shape's duration after a quiet baseline; its row gives the legitimate
// client's find latency during it, the legitimate connections the server dropped, the watch
// events the legitimate watcher missed, and the server's peak RSS.
// The target: find p99 < 20 ms and no legitimate connection dropped under every attack.
import { connect, type Socket } from 'node:net';
import type { BenchContext } from '../context.js';
import { Histogram } from '../histogram.js';
import { startBenchServer, type BenchServer } from '../nameserver.js';
import { status } from '../report.js';
import { RpcConn } from '../rpc-conn.js';
import { rpcBulk } from '../shapes.js';

/** Long names, as the attacker of the issue registered: 255 characters each. */
const LONG_NAMES = 20_000;
const longName = (i: number): string => `/l/${String(i).padStart(8, '0')}${'a'.repeat(244)}`;
/** A pattern of sets and stars that made the old matcher try every start of every name. */
const HOSTILE_PATTERN = `*${'[a-z]'.repeat(60)}b*`;

interface Legit {
  finds: Histogram;
  dropped: number;
  missed: number;
  stop(): Promise<void>;
}

/** The legitimate side: a finder, a watcher, and a writer whose writes the watcher must all see. */
async function startLegit(server: BenchServer): Promise<{ legit: Legit; reset(): void }> {
  const [finder, watcher] = await server.connect(2, false);
  const [writer] = await server.connect(1, true);
  if (finder === undefined || watcher === undefined || writer === undefined) throw new Error('abuse: cannot connect the legitimate clients');
  const legit: Legit = { finds: new Histogram(), dropped: 0, missed: 0, stop: async () => undefined };
  for (const c of [finder, watcher, writer]) c.ws.on('close', () => legit.dropped++);
  await new Promise<void>((resolve) => writer.request('advertiseService', { name: '/legit/a', host: '127.0.0.1', port: 1, static: true }, () => resolve()));
  let seen = 0;
  watcher.onOther = (msg) => {
    if ((msg as { method?: string }).method === 'watch.event') seen++;
  };
  await new Promise<void>((resolve) => watcher.request('watch', { pattern: '/legit/*' }, () => resolve()));
  let running = true;
  const findLoop = (): void => {
    if (!running) return;
    const t0 = performance.now();
    finder.request('findServices', { pattern: '/legit/a' }, () => {
      legit.finds.record(performance.now() - t0);
      findLoop();
    });
  };
  findLoop();
  // One write every 20 ms; each must reach the watcher.
  let written = 0;
  const writes = setInterval(() => {
    written++;
    writer.request('advertiseService', { name: '/legit/a', host: '127.0.0.1', port: 1 + (written % 1000), static: true }, () => undefined);
  }, 20);
  legit.stop = async () => {
    running = false;
    clearInterval(writes);
    await new Promise((r) => setTimeout(r, 500));
    legit.missed = written - seen;
  };
  return {
    legit,
    reset: () => {
      legit.finds = new Histogram();
    },
  };
}

type Attack = { key: string; label: string; run(server: BenchServer, ms: number): Promise<string> };

const attacks: Attack[] = [
  {
    key: 'abuse.none', label: 'no attack (baseline)',
    run: async (_s, ms) => {
      await sleep(ms);
      return '';
    },
  },
  {
    key: 'abuse.patterns', label: `listServices of a 300-character set pattern over ${LONG_NAMES.toLocaleString('en-US')} long names`,
    run: async (server, ms) => {
      const [a] = await server.connect(1, false);
      if (a === undefined) throw new Error('abuse: no connection');
      let n = 0;
      const until = performance.now() + ms;
      const worst = new Histogram();
      while (performance.now() < until) {
        const t0 = performance.now();
        await new Promise((r) => a.request('listServices', { pattern: HOSTILE_PATTERN }, r));
        worst.record(performance.now() - t0);
        n++;
      }
      await a.close();
      return `${n} scans, each p50 ${worst.quantile(0.5).toFixed(1)} ms`;
    },
  },
  {
    key: 'abuse.watches', label: '5 connections ask for 1,000 distinct scanned watch patterns each, then long names are written',
    run: async (server, ms) => {
      const conns = await server.connect(5, false);
      let granted = 0;
      let refused = 0;
      await Promise.all(conns.map((c, k) => rpcBulk([c], 64, 1000, (i) => ['watch', { pattern: `/l/${k}${i}?*a` }]).then(() => undefined)));
      for (const c of conns) {
        await new Promise<void>((resolve) => c.request('ping', {}, () => resolve()));
      }
      const [w] = await server.connect(1, true);
      if (w === undefined) throw new Error('abuse: no connection');
      const until = performance.now() + ms;
      let i = 0;
      while (performance.now() < until) await new Promise((r) => w.request('advertiseService', { name: longName(i++ % 1000), host: '127.0.0.1', port: 1, static: true }, r));
      const text = await (await fetch(`${server.url.replace('ws:', 'http:')}/metrics`)).text();
      granted = Number(/^dpns_watch_patterns_scanned (\d+)/m.exec(text)?.[1] ?? NaN);
      refused = 5000 - granted;
      await Promise.all([...conns, w].map((c) => c.close()));
      return `${granted} scanned patterns granted, the rest refused (LIMIT_EXCEEDED, ~${refused}); ${i} long-name writes`;
    },
  },
  {
    key: 'abuse.slowloris', label: '3,000 sockets that never finish their headers',
    run: async (server, ms) => {
      const { hostname, port } = new URL(server.url);
      const sockets: Socket[] = [];
      for (let i = 0; i < 3000; i++) {
        const s = connect({ host: hostname, port: Number(port) });
        s.on('error', () => undefined);
        s.write('GET / HTTP/1.1\r\nHost: x\r\n');
        sockets.push(s);
      }
      await sleep(ms);
      const open = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
      for (const s of sockets) s.destroy();
      return `${open} of 3,000 still open at the end (the server keeps at most 1,024 pending)`;
    },
  },
  {
    key: 'abuse.logins', label: 'wrong admin proofs as fast as connections allow',
    run: async (server, ms) => {
      const until = performance.now() + ms;
      let tries = 0;
      let closedByServer = 0;
      while (performance.now() < until) {
        const c = await RpcConn.open(server.url);
        await new Promise<void>((resolve) => {
          c.ws.once('close', (code) => {
            if (code === 4003) closedByServer++;
            resolve();
          });
          for (let i = 0; i < 5; i++) {
            tries++;
            c.request('login', { proof: '0'.repeat(64) }, () => undefined);
          }
        });
      }
      return `${tries} wrong proofs on ${closedByServer} connections, each closed (4003) at its fifth`;
    },
  },
  {
    key: 'abuse.nonreaders', label: '8 watchers of /* that never read, while 4 KiB entries are written',
    run: async (server, ms) => {
      const conns = await server.connect(8, false);
      for (const c of conns) {
        await new Promise<void>((resolve) => c.request('watch', { pattern: '/*' }, () => resolve()));
        (c.ws as unknown as { _socket: Socket })._socket.pause();
      }
      const [w] = await server.connect(1, true);
      if (w === undefined) throw new Error('abuse: no connection');
      const until = performance.now() + ms;
      let i = 0;
      const big = 'x'.repeat(4000);
      while (performance.now() < until) {
        await new Promise((r) => w.request('register.add', { name: `/big/${i++}`, spec: { host: 'h', program: 'p', args: [big] } }, r));
      }
      const cut = conns.filter((c) => c.ws.readyState !== c.ws.OPEN).length;
      await Promise.all([...conns, w].map((c) => c.close()));
      return `${i} writes; ${cut} of 8 non-readers cut by the server`;
    },
  },
  {
    key: 'abuse.litter', label: 'anonymous connections that advertise 1,000 names each and vanish, over and over',
    run: async (server, ms) => {
      const until = performance.now() + ms;
      let advertised = 0;
      let refused = 0;
      let rounds = 0;
      while (performance.now() < until) {
        const [c] = await server.connect(1, false);
        if (c === undefined) throw new Error('abuse: no connection');
        const r = await rpcBulk([c], 64, 1000, (i) => ['advertiseService', { name: `/litter/${rounds}/${i}`, host: '127.0.0.1', port: 1 }]);
        advertised += 1000 - r.errors;
        refused += r.errors;
        rounds++;
        c.ws.terminate();
      }
      // Let the last lost markings and the sweep of what is past the cap finish.
      await sleep(1000);
      const text = await (await fetch(`${server.url.replace('ws:', 'http:')}/metrics`)).text();
      const expired = Number(/^dpns_lost_entries_expired_total (\d+)/m.exec(text)?.[1] ?? 0);
      const entries = /^dpns_registry_entries\{kind="service"\} (\d+)/m.exec(text)?.[1] ?? '?';
      return `${advertised} names advertised on ${rounds} connections (${refused} refused); ${expired} lost ones deleted past the 100,000 cap; ${entries} services left`;
    },
  },
];

export async function runAbuse(ctx: BenchContext): Promise<void> {
  const { cfg } = ctx;
  status(`abuse: a name server with default settings, ${LONG_NAMES.toLocaleString('en-US')} long names; a legitimate finder, watcher and writer throughout`);
  const server = await startBenchServer(cfg);
  try {
    const admins = await server.connect(8, true);
    const filled = await rpcBulk(admins, 64, LONG_NAMES, (i) => ['advertiseService', { name: longName(i), host: '127.0.0.1', port: 1, static: true }]);
    await Promise.all(admins.map((c) => c.close()));
    if (filled.errors > 0) throw new Error(`abuse: filling the registry failed: ${filled.firstError ?? ''}`);
    const { legit, reset } = await startLegit(server);
    const ms = cfg.durationMs;
    for (const attack of attacks) {
      reset();
      const droppedBefore = legit.dropped;
      const note = await attack.run(server, ms);
      const mem = server.memory();
      ctx.add({
        key: attack.key, label: `legit find during: ${attack.label}`, system: 'dpns', shape: '1 in flight / 1 conn',
        p50Ms: legit.finds.quantile(0.5), p99Ms: legit.finds.quantile(0.99), peakRssMB: mem.peakMB,
        errors: legit.dropped - droppedBefore, verified: legit.dropped === droppedBefore, note,
      });
    }
    await legit.stop();
    status(`abuse: the legitimate watcher missed ${legit.missed} of its writes over all attacks; ${legit.dropped} legitimate connections were dropped`);
    const row = ctx.get('abuse.none');
    if (row !== undefined) row.note = `watcher missed ${legit.missed} writes over the whole run`;
  } finally {
    await server.stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
