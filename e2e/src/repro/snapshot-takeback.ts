// Reproduces a lost acknowledged write (and a refused write that comes back) when a snapshot is
// serialised across a storage fault and its recovery. Not a test (the runner does not pick it
// up): it needs root (a tmpfs), takes about a minute per attempt and hits a race, so it tries a
// few times. Exit code 1 when the race was hit, 0 when it never was.
//
//   node e2e/dist/repro/snapshot-takeback.js
//
// How: the registry is filled to one record short of --snapshot-every; a heavy read load (from
// another process) makes each turn of the server's event loop take seconds. Write A fits on the
// nearly full tmpfs and triggers the snapshot; write B, sent a moment later, is applied in memory
// while A is being fsynced, so the snapshot's state (taken when A settles) includes B. B does
// not fit: ENOSPC, B is taken back and refused STORAGE_UNAVAILABLE. The disk is freed, a probe
// succeeds, and write C is acknowledged at B's old index. The slow snapshot then finishes and is
// written at that index, with B's entry and without C's. After a restart, C is gone and B is back.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { adminProof } from '@dpns/protocol';
import { DpnsClient } from '@dpns/client';
import { REPO_ROOT, startServerProcess, teardown, trackChild, type ServerProcess } from '../harness/index.js';

const SNAPSHOT_EVERY = 30_000;
const READERS = 20;

type Answer = { result?: unknown; error?: { code: number; data?: { code?: string } } };

class Raw {
  private readonly pending = new Map<number, (a: Answer) => void>();
  private id = 1;

  private constructor(private readonly ws: WebSocket) {
    ws.on('close', () => {
      for (const done of this.pending.values()) done({ error: { code: 0, data: { code: 'CLOSED' } } });
      this.pending.clear();
    });
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { id?: unknown } & Answer;
      if (typeof m.id !== 'number') return;
      this.pending.get(m.id)?.(m);
      this.pending.delete(m.id);
    });
  }

  static async open(ns: ServerProcess): Promise<Raw> {
    const ws = new WebSocket(`ws://${ns.server}/`, { perMessageDeflate: false });
    const hello = await new Promise<{ params: { nonce: string } }>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(String(d)) as { params: { nonce: string } }));
      ws.once('error', reject);
    });
    ws.on('error', () => undefined);
    const raw = new Raw(ws);
    const login = await raw.call('login', { proof: adminProof(ns.token, hello.params.nonce) });
    if (login.error !== undefined) throw new Error(`login refused: ${JSON.stringify(login.error)}`);
    return raw;
  }

  call(method: string, params: unknown): Promise<Answer> {
    const id = this.id++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

function spec(args: string[] = []): Record<string, unknown> {
  return { host: '127.0.0.1', program: '/bin/true', args, env: {}, startTimeoutMs: 10_000 };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (s: string): void => void process.stdout.write(`${s}\n`);

/** One attempt; true when the restarted server disagrees with what was acknowledged and refused. */
async function attempt(delayMs: number): Promise<boolean> {
  const mnt = mkdtempSync(join(tmpdir(), 'dpns-sf-repro-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', mnt]);
  const dataDir = join(mnt, 'data');
  let ns: ServerProcess | undefined;
  const raws: Raw[] = [];
  try {
    ns = await startServerProcess({ dataDir, args: ['--snapshot-every', String(SNAPSHOT_EVERY)] });
    raws.push(...(await Promise.all(Array.from({ length: 8 }, () => Raw.open(ns as ServerProcess)))));
    const admin = new DpnsClient({ servers: [ns.server], token: ns.token });
    let rev = (await admin.ping()).revision;
    for (let k = 0; rev < SNAPSHOT_EVERY - 1;) {
      const n = Math.min(SNAPSHOT_EVERY - 1 - rev, 1600);
      await Promise.all(Array.from({ length: n }, (_, i) => (raws[i % 8] as Raw).call('register.add', { name: `/race/p${k++}`, spec: spec() })));
      rev = (await admin.ping()).revision;
    }
    await admin.close();
    for (const r of raws.splice(0)) r.close();
    const s = statfsSync(mnt);
    writeFileSync(join(mnt, 'filler'), Buffer.alloc(s.bavail * s.bsize - 32 * 1024));
    const readerScript = `
      import WebSocket from 'ws';
      for (let i = 0; i < Number(process.argv[1]); i++) {
        const ws = new WebSocket(process.argv[2], { perMessageDeflate: false });
        let id = 1;
        ws.on('message', () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'serviceState', params: { pattern: '*' } })));
        ws.on('error', () => {});
      }`;
    const readers = spawn(process.execPath, ['--input-type=module', '-e', readerScript, String(READERS), ns.url], { cwd: join(REPO_ROOT, 'e2e'), stdio: 'ignore' });
    void trackChild(readers);
    await sleep(3000);
    raws.push(...(await Promise.all([0, 1, 2].map(() => Raw.open(ns as ServerProcess)))));
    const aP = (raws[0] as Raw).call('register.add', { name: '/race/A', spec: spec() });
    await sleep(delayMs);
    const big = Array.from({ length: 30 }, (_, i) => `b${i}`.padEnd(4000, 'b'));
    const [a, b] = await Promise.all([aP, (raws[1] as Raw).call('register.add', { name: '/race/B', spec: spec(big) })]);
    say(`  A: ${a.error?.data?.code ?? 'ok'}, B: ${b.error?.data?.code ?? 'ok'}`);
    unlinkSync(join(mnt, 'filler'));
    if (a.error !== undefined || b.error?.data?.code !== 'STORAGE_UNAVAILABLE') return false;
    let c: string | undefined;
    for (let i = 0; c === undefined && i < 300; i++) {
      const r = await (raws[2] as Raw).call('register.add', { name: `/race/C${i}`, spec: spec() });
      if (r.error === undefined) c = `/race/C${i}`;
      else await sleep(100);
    }
    if (c === undefined) throw new Error('writes never came back');
    say(`  ${c} acknowledged`);
    // The slow snapshot ends written (at some index) or, with the fix, dropped.
    const end = await ns.stderr.waitFor((l) => (l.includes('"snapshot written"') && l.includes('"index"')) || l.includes('snapshot dropped'), 150_000).catch(() => 'no snapshot line');
    say(`  ${end.includes('snapshot dropped') ? 'the snapshot serialised across the take-back was dropped' : end.slice(0, 200)}`);
    readers.kill('SIGKILL');
    for (const r of raws.splice(0)) r.close();
    const port = ns.port;
    const lines = ns.stderrLines().filter((l) => /snapshot (written|dropped)|took back|storage (unavailable|writable)/.test(l));
    await ns.kill('SIGTERM');
    ns = await startServerProcess({ dataDir, port });
    const check = new DpnsClient({ servers: [ns.server] });
    const present = await check.listServices('/race/[ABC]*');
    await check.close();
    const lost = !present.includes(c);
    const back = present.includes('/race/B');
    say(`  after the restart: ${present.join(' ')}`);
    if (lost || back) {
      say(`REPRODUCED: ${lost ? `acknowledged ${c} is lost` : ''}${lost && back ? '; ' : ''}${back ? 'refused /race/B is present' : ''}`);
      say(lines.map((l) => `  ${l}`).join('\n'));
      return true;
    }
    return false;
  } finally {
    for (const r of raws) r.close();
    await ns?.kill('SIGKILL');
    execFileSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    say('needs root (mounts a tmpfs)');
    return 2;
  }
  try {
    for (const delayMs of [1000, 1500, 1250, 1000, 1500, 1750]) {
      say(`attempt: B sent ${delayMs} ms after A`);
      if (await attempt(delayMs)) return 1;
    }
    say('not reproduced');
    return 0;
  } finally {
    await teardown();
  }
}

process.exitCode = await main();
