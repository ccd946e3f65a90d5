// Storage faults degrade the name server instead of crashing it. Real faults only: a tmpfs that
// fills up (ENOSPC), and a process fd limit (prlimit) used up by idle client connections
// (EMFILE). In both, the write in flight is refused STORAGE_UNAVAILABLE and not applied, later
// writes are refused the same way, reads, watches, heartbeats and connections carry on, the
// server recovers by itself once the fault is gone, and after a restart on the same data
// directory every acknowledged write is there and no refused one is.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { adminProof, type WireError } from '@dpns/protocol';
import { DpnsClient, isDpnsError, type WatchEvent } from '@dpns/client';
import { RpcSession, startServerProcess, teardown, type ServerProcess } from './harness/index.js';

const CODE = 'STORAGE_UNAVAILABLE';
const CODE_NUMBER = -32016;
/** The server retries its probe write about once a second; recovery is allowed this long. */
const RECOVERY_MS = 15_000;
const MOUNT_PREFIX = 'dpns-sf-';

const why = unavailable();
const clients: DpnsClient[] = [];

after(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await teardown();
});

/** Why this machine cannot run these tests, or undefined when it can. */
function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs and lowering a process fd limit need root (CI runs as root)';
  for (const cmd of ['mount', 'umount', 'prlimit']) {
    try {
      execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    } catch {
      return `the ${cmd} command (util-linux) is missing`;
    }
  }
  return undefined;
}

function client(ns: ServerProcess, opts: { admin?: boolean } = {}): DpnsClient {
  const c = new DpnsClient({ servers: [ns.server], ...(opts.admin === true ? { token: ns.token } : {}), requestTimeoutMs: 10_000 });
  clients.push(c);
  return c;
}

async function closeClient(c: DpnsClient): Promise<void> {
  const i = clients.indexOf(c);
  if (i >= 0) clients.splice(i, 1);
  await c.close();
}

type Outcome = { ok: true } | { ok: false; code: string; cause: unknown; message: string };

/** Runs one write; a DpnsError becomes its code and data.cause, anything else is thrown. */
async function attempt(write: () => Promise<unknown>): Promise<Outcome> {
  try {
    await write();
    return { ok: true };
  } catch (err) {
    if (!isDpnsError(err)) throw err;
    return { ok: false, code: String(err.code), cause: err.details?.cause, message: err.message };
  }
}

function describe(o: Outcome): string {
  return o.ok ? 'ok' : `${o.code} (cause ${String(o.cause)}): ${o.message}`;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Tries a small write every 200 ms until one is accepted (each refusal must be STORAGE_UNAVAILABLE
 * and is recorded in `refused`), then waits for the watch to hear of it; returns its name.
 */
async function firstWriteAfterRecovery(o: {
  admin: DpnsClient; ns: ServerProcess; prefix: string; refused: string[]; events: WatchEvent[]; t: TestContext; what: string;
}): Promise<string> {
  const freedAt = Date.now();
  let k = 0;
  const first = await until(`a write accepted after the ${o.what} freed`, RECOVERY_MS, async () => {
    const name = `${o.prefix}/after${k++}`;
    const r = await attempt(() => o.admin.register.add(name, { host: '127.0.0.1', program: '/bin/true' }));
    if (r.ok) return name;
    assert.equal(r.code, CODE, `a write while recovering: ${describe(r)}\n${story(o.ns)}`);
    o.refused.push(name);
    return undefined;
  }, 200);
  o.t.diagnostic(`writes accepted again ${Date.now() - freedAt} ms after the ${o.what} freed`);
  await until('the watch event for the first write after recovery', 5000, () => o.events.find((e) => e.name === first && e.type === 'put'));
  return first;
}

async function metrics(ns: ServerProcess): Promise<string> {
  const res = await fetch(`http://${ns.server}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

/** /healthz: its status code and its `storage` field. */
async function health(ns: ServerProcess): Promise<{ status: number; storage: unknown }> {
  const res = await fetch(`http://${ns.server}/healthz`);
  const body = (await res.json()) as { storage?: unknown };
  return { status: res.status, storage: body.storage };
}

function sample(page: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(page);
  return m === null ? undefined : Number(m[1]);
}

async function stateOf(c: DpnsClient, name: string): Promise<string | undefined> {
  const e = (await c.serviceState(name)).find((x) => x.name === name);
  return e?.kind === 'service' ? e.state : e?.kind;
}

function alive(ns: ServerProcess): boolean {
  if (ns.proc.exitCode !== null || ns.proc.signalCode !== null) return false;
  try {
    process.kill(ns.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** For failure messages: whether the server still runs, and the end of its log. */
function story(ns: ServerProcess): string {
  const state = alive(ns) ? 'the server is running' : `the server EXITED (code ${ns.proc.exitCode}, signal ${ns.proc.signalCode})`;
  return `${state}; its last log lines:\n${ns.stderrLines().slice(-12).join('\n')}`;
}

/** A JSON log line of `level` whose msg contains `text` (any case). */
function logLine(level: string, text: string): (line: string) => boolean {
  return (line) => {
    try {
      const o = JSON.parse(line) as { level?: unknown; msg?: unknown };
      return o.level === level && String(o.msg).toLowerCase().includes(text);
    } catch {
      return false;
    }
  };
}

type WireAnswer = { result?: unknown; error?: WireError };

/** An admin connection on a bare WebSocket, to see the wire itself (error number, data.code, data.cause) and send request ids. */
class RawAdmin {
  private readonly pending = new Map<number, (a: WireAnswer) => void>();
  private nextId = 1;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { id?: unknown } & WireAnswer;
      if (typeof m.id !== 'number') return;
      const done = this.pending.get(m.id);
      this.pending.delete(m.id);
      done?.({ ...(m.result === undefined ? {} : { result: m.result }), ...(m.error === undefined ? {} : { error: m.error }) });
    });
    ws.on('close', () => {
      for (const done of this.pending.values()) done({ error: { code: 0, message: 'connection closed' } });
      this.pending.clear();
    });
  }

  static async open(ns: ServerProcess): Promise<RawAdmin> {
    const ws = new WebSocket(`ws://${ns.server}/`, { perMessageDeflate: false });
    const hello = await new Promise<{ params?: { nonce?: string } }>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(String(d)) as { params?: { nonce?: string } }));
      ws.once('error', reject);
    });
    ws.on('error', () => undefined);
    const raw = new RawAdmin(ws);
    const login = await raw.call('login', { proof: adminProof(ns.token, hello.params?.nonce ?? '') });
    assert.equal(login.error, undefined, `login: ${JSON.stringify(login.error)}`);
    return raw;
  }

  call(method: string, params: unknown, timeoutMs = 10_000): Promise<WireAnswer> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ error: { code: 0, message: `no answer to ${method} within ${timeoutMs} ms` } });
      }, timeoutMs);
      this.pending.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** register.add params as they go on the wire, with a request id for the retry. */
function addParams(name: string, spec: { host: string; program: string; args?: string[] }): Record<string, unknown> {
  return { name, spec: { args: [], env: {}, startTimeoutMs: 10_000, ...spec }, requestId: `sf-${process.pid}-${name.replace(/[^a-z0-9]/gi, '-')}` };
}

/** Names present after a restart: what the registry recovered from the data directory. */
async function namesAfterRestart(ns: ServerProcess, pattern: string): Promise<Set<string>> {
  const c = client(ns);
  try {
    return new Set(await c.listServices(pattern));
  } finally {
    await closeClient(c);
  }
}

// ---------------------------------------------------------------------------------------------
// A tmpfs of our own, unmounted however the test ends; one left by a killed run is swept first.

function mountedAt(dir: string): boolean {
  return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === dir);
}

function unmount(dir: string): void {
  for (let i = 0; i < 20 && mountedAt(dir); i++) {
    try {
      execFileSync('umount', [dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch {
      // Busy for a moment (a process that just died); tried again, then lazily.
      execFileSync('sleep', ['0.1']);
    }
  }
  if (mountedAt(dir)) execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}

function sweepStaleMounts(): void {
  const re = new RegExp(`^${tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/${MOUNT_PREFIX}(\\d+)-`);
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const dir = line.split(' ')[1] ?? '';
    const m = re.exec(dir);
    if (m === null) continue;
    try {
      process.kill(Number(m[1]), 0);
      continue; // Its test is still running.
    } catch {
      unmount(dir);
    }
  }
  for (const name of readdirSync(tmpdir())) {
    const m = new RegExp(`^${MOUNT_PREFIX}(\\d+)-`).exec(name);
    if (m === null) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      if (!mountedAt(join(tmpdir(), name))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

function mountTmpfs(size: string): string {
  sweepStaleMounts();
  const dir = mkdtempSync(join(tmpdir(), `${MOUNT_PREFIX}${process.pid}-`));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** A launch spec of about 16 KB, different for each name, so a few of them fill what is left. */
function bigSpec(tag: string): { host: string; program: string; args: string[] } {
  const args = Array.from({ length: 4 }, (_, i) => `${tag}-${i}-`.padEnd(4000, String.fromCharCode(97 + ((tag.length + i) % 26))));
  return { host: '127.0.0.1', program: '/bin/true', args };
}

test('a full disk: writes are refused STORAGE_UNAVAILABLE, reads, watches and connections carry on, writes come back by themselves, nothing acknowledged is lost', { skip: why, timeout: 180_000 }, async (t) => {
  const mnt = mountTmpfs('2m');
  const dataDir = join(mnt, 'data');
  const filler = join(mnt, 'filler');
  let ns: ServerProcess | undefined;
  try {
    ns = await startServerProcess({ dataDir });
    const admin = client(ns, { admin: true });
    const legit = client(ns);
    const legitDrops: string[] = [];
    legit.on('disconnect', (e) => legitDrops.push(`${e.code}: ${e.message}`));
    const events: WatchEvent[] = [];
    const ad = await legit.advertise('/sf/legit', '127.0.0.1', 40001);
    // Another advertiser, that goes away while the disk is full: its `lost` cannot be written then.
    const leaver = client(ns);
    await leaver.advertise('/sf/leaver', '127.0.0.1', 40003);
    const watch = legit.watch('/sf/*', { onEvent: (e) => events.push(e) });
    await watch.ready;
    const acked: string[] = ['/sf/legit', '/sf/leaver'];
    const refused: string[] = [];

    // Fill the disk: a filler file leaves ~64 KiB, then ~16 KB writes until one is refused.
    const free = freeBytes(mnt);
    writeFileSync(filler, Buffer.alloc(free - 64 * 1024));
    t.diagnostic(`tmpfs: ${free} bytes free before the filler, ${freeBytes(mnt)} after`);
    // Three writes at a time, each with a request id, so the batch the fault hits may hold several.
    const raw = await RawAdmin.open(ns);
    const inFlight: Record<string, unknown>[] = [];
    for (let i = 0; i < 200 && inFlight.length === 0; i += 3) {
      const step = [i, i + 1, i + 2].map((k) => addParams(`/sf/disk/n${k}`, bigSpec(`/sf/disk/n${k}`)));
      const answers = await Promise.all(step.map((p) => raw.call('register.add', p)));
      answers.forEach((a, j) => {
        const p = step[j] as Record<string, unknown>;
        const name = p.name as string;
        if (a.error === undefined) return void acked.push(name);
        assert.equal(a.error.code, CODE_NUMBER, `write ${name} while filling the disk: ${JSON.stringify(a.error)}\n${story(ns as ServerProcess)}`);
        assert.equal(a.error.data?.code, CODE);
        assert.equal(a.error.data?.cause, 'ENOSPC', `the refusal names its cause: ${JSON.stringify(a.error)}`);
        refused.push(name);
        inFlight.push(p);
      });
    }
    const faultAt = Date.now();
    assert.ok(inFlight.length > 0, 'a write was refused once the disk was full');
    const filled = acked.filter((n) => n.startsWith('/sf/disk/')).length;
    assert.ok(filled >= 1, 'writes were acknowledged before the disk filled up');
    t.diagnostic(`${filled} writes acknowledged before the first refusal; refused in flight: ${inFlight.map((p) => p.name as string).join(' ')}`);

    // Refused from now on, the same way: through the library, and on the wire.
    for (let i = 0; i < 3; i++) {
      const name = `/sf/disk/more${i}`;
      const o = await attempt(() => admin.register.add(name, { host: '127.0.0.1', program: '/bin/true' }));
      assert.equal(o.ok ? 'ok' : o.code, CODE, `a further write is refused: ${describe(o)}\n${story(ns)}`);
      assert.equal(o.ok ? undefined : o.cause, 'ENOSPC', `the library's error carries the cause: ${describe(o)}`);
      refused.push(name);
    }
    const o = await attempt(() => admin.advertiseStatic('/sf/disk/static', '127.0.0.1', 4242));
    assert.equal(o.ok ? 'ok' : o.code, CODE, `a static advertisement is refused: ${describe(o)}`);
    refused.push('/sf/disk/static');
    const wire = await raw.call('register.add', addParams('/sf/disk/wire', { host: '127.0.0.1', program: '/bin/true' }));
    refused.push('/sf/disk/wire');
    assert.equal(wire.error?.code, CODE_NUMBER, `wire answer: ${JSON.stringify(wire)}`);
    assert.equal(wire.error?.data?.code, CODE);
    assert.equal(wire.error?.data?.cause, 'ENOSPC');
    // A client's own advertisement (not admin) is refused the same way, on a connection that stays open.
    const ad2 = await attempt(() => legit.advertise('/sf/legit2', '127.0.0.1', 40002));
    assert.equal(ad2.ok ? 'ok' : ad2.code, CODE, `a client's advertisement is refused: ${describe(ad2)}`);
    // The leaver goes: the server cannot write that its name is lost, and must not fall over trying.
    await closeClient(leaver);

    // Reads, the legit client's connection and its advertisement carry on; refused writes were not applied.
    assert.deepEqual((await admin.findServices('/sf/legit', { launch: false })).map((l) => l.port), [40001]);
    await legit.ping();
    await admin.ping();
    const listed = new Set(await legit.listServices('/sf/*'));
    for (const n of acked) assert.ok(listed.has(n), `${n} (acknowledged) is listed during the outage`);
    for (const n of refused) assert.ok(!listed.has(n), `${n} was refused yet is in the registry`);
    assert.ok(!listed.has('/sf/legit2'), '/sf/legit2 was refused yet is in the registry');
    const page = await metrics(ns);
    assert.equal(sample(page, 'dpns_storage_writable'), 0, 'metrics say the storage is not writable');
    assert.ok((sample(page, 'dpns_storage_faults_total') ?? 0) >= 1, 'metrics count the fault');
    assert.deepEqual(await health(ns), { status: 200, storage: 'unavailable' }, '/healthz: still serving, storage unavailable');
    await ns.stderr.waitFor(logLine('error', 'storage unavailable'), 5000);
    // Heartbeats keep the advertisement meanwhile: a few rounds (one a second) pass before the disk is freed.
    await until('three seconds of outage', 6000, () => (Date.now() - faultAt >= 3000 ? true : undefined), 50);
    assert.equal(await stateOf(legit, '/sf/legit'), 'running', 'the legit advertisement is still running');
    assert.equal(ad.state, 'advertised');
    assert.deepEqual(legitDrops, [], `the legit client was never disconnected\n${story(ns)}`);
    assert.equal(legit.state, 'open');
    assert.ok(alive(ns), 'the name server is still running');
    assert.equal(sample(await metrics(ns), 'dpns_storage_writable'), 0, 'still not writable while the disk is full');

    const heardDuringOutage = events.map((e) => e.name).filter((n) => refused.includes(n) || n === '/sf/legit2');
    assert.deepEqual(heardDuringOutage, [], 'the watch heard of refused writes');

    // Free the disk: writes come back by themselves, and the watch hears of the first one.
    unlinkSync(filler);
    const first = await firstWriteAfterRecovery({ admin, ns, prefix: '/sf/disk', refused, events, t, what: 'disk was' });
    acked.push(first);
    for (let i = 0; i < 5; i++) {
      const name = `/sf/disk/later${i}`;
      await admin.register.add(name, bigSpec(name));
      acked.push(name);
    }
    // The writes refused in flight, sent again with their request ids: applied now, not answered
    // from a memory of the attempt that was taken back.
    for (const p of inFlight) {
      const name = p.name as string;
      const again = await raw.call('register.add', p);
      assert.equal(again.error, undefined, `the retry of ${name} (request id ${String(p.requestId)}) is applied: ${JSON.stringify(again)}`);
      refused.splice(refused.indexOf(name), 1);
      acked.push(name);
    }
    const retried = new Set(await admin.listServices('/sf/disk/*'));
    for (const p of inFlight) assert.ok(retried.has(p.name as string), `${String(p.name)} is in the registry after its retry`);
    // The refused advertisement can be made now, and the leaver's name is marked lost after all.
    await legit.advertise('/sf/legit2', '127.0.0.1', 40002);
    acked.push('/sf/legit2');
    await until('the leaver marked lost once writes work again', 10_000, async () => ((await stateOf(admin, '/sf/leaver')) === 'lost' ? true : undefined), 200);
    await until('the watch events of the later writes', 5000, () => (events.some((e) => e.name === '/sf/disk/later4') && events.some((e) => e.name === '/sf/legit2') ? true : undefined));
    const heard = new Set(events.map((e) => e.name));
    for (const n of refused) assert.ok(!heard.has(n), `the watch heard of ${n}, which was refused`);
    const recovered = await metrics(ns);
    assert.equal(sample(recovered, 'dpns_storage_writable'), 1, 'metrics say writable again');
    assert.ok((sample(recovered, 'dpns_storage_faults_total') ?? 0) >= 1);
    assert.deepEqual(await health(ns), { status: 200, storage: 'writable' });
    await ns.stderr.waitFor(logLine('info', 'storage writable again'), 5000);
    assert.deepEqual(legitDrops, [], `the legit client was never disconnected\n${story(ns)}`);
    assert.equal(await stateOf(legit, '/sf/legit'), 'running');

    // Restart on the same data directory: every acknowledged write is there, no refused one.
    raw.close();
    await closeClient(admin);
    await closeClient(legit);
    const port = ns.port;
    const exit = await ns.kill('SIGTERM');
    assert.equal(exit.code, 0, `the server stops cleanly on SIGTERM:\n${ns.stderrLines().slice(-20).join('\n')}`);
    ns = await startServerProcess({ dataDir, port });
    const present = await namesAfterRestart(ns, '/sf/*');
    const lost = acked.filter((n) => !present.has(n));
    assert.deepEqual(lost, [], 'acknowledged writes missing after the restart');
    const resurrected = refused.filter((n) => present.has(n));
    assert.deepEqual(resurrected, [], 'refused writes present after the restart');
    const check = client(ns, { admin: true });
    assert.equal(await stateOf(check, '/sf/leaver'), 'lost', 'the leaver is still lost after the restart');
    const before = acked.find((n) => n.startsWith('/sf/disk/n')) as string;
    const info = await check.register.info(before);
    assert.deepEqual(info.entry.kind === 'service' ? info.entry.spec?.args : undefined, bigSpec(before).args, 'an entry written before the fault is whole');
    const last = await check.register.info('/sf/disk/later4');
    assert.deepEqual(last.entry.kind === 'service' ? last.entry.spec?.args : undefined, bigSpec('/sf/disk/later4').args, 'an entry written after recovery is whole');
    await closeClient(check);
    t.diagnostic(`after the restart: ${acked.length} acknowledged present, ${refused.length} refused absent`);
  } finally {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    if (ns !== undefined) await ns.kill('SIGKILL');
    unmount(mnt);
  }
});

// ---------------------------------------------------------------------------------------------

const FD_LIMIT = 256;

function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

/** Opens idle client connections until the server can accept no more (its fds are used up). */
async function exhaustFds(ns: ServerProcess, held: RpcSession[]): Promise<number> {
  for (let i = 0; i < 2 * FD_LIMIT; i++) {
    let s: RpcSession;
    try {
      s = await RpcSession.open(ns.url, 5000);
    } catch {
      return held.length;
    }
    held.push(s);
  }
  throw new Error(`the server accepted ${held.length} connections under a limit of ${FD_LIMIT} fds`);
}

test('file descriptors used up: a WAL segment that cannot be opened refuses writes, the server lives on and recovers once fds are free', { skip: why, timeout: 180_000 }, async (t) => {
  const held: RpcSession[] = [];
  // A snapshot every 10 records makes the WAL start a new segment file soon after it; under the
  // fd limit that open fails.
  const args = ['--snapshot-every', '10'];
  let ns = await startServerProcess({ args, wrap: ['prlimit', `--nofile=${FD_LIMIT}:${FD_LIMIT}`, '--'] });
  try {
    const limits = readFileSync(`/proc/${ns.pid}/limits`, 'utf8');
    assert.match(limits, new RegExp(`^Max open files\\s+${FD_LIMIT}\\s+${FD_LIMIT}\\s`, 'm'), 'the server runs under the fd limit');
    const admin = client(ns, { admin: true });
    const legit = client(ns);
    const legitDrops: string[] = [];
    legit.on('disconnect', (e) => legitDrops.push(`${e.code}: ${e.message}`));
    const events: WatchEvent[] = [];
    await legit.advertise('/sf/fd/legit', '127.0.0.1', 40002);
    const watch = legit.watch('/sf/fd/*', { onEvent: (e) => events.push(e) });
    await watch.ready;
    await admin.ping();
    const acked: string[] = ['/sf/fd/legit'];
    const refused: string[] = [];

    const opened = await exhaustFds(ns, held);
    t.diagnostic(`${opened} idle connections held; the server has ${openFds(ns.pid)} fds open`);
    assert.ok(alive(ns), 'the server survives running out of fds for new connections');

    let fault: Outcome | undefined;
    for (let i = 0; i < 100 && fault === undefined; i++) {
      const name = `/sf/fd/n${i}`;
      const o = await attempt(() => admin.register.add(name, { host: '127.0.0.1', program: '/bin/true', args: [name] }));
      if (o.ok) acked.push(name);
      else {
        assert.equal(o.code, CODE, `write ${name} with the fds used up: ${describe(o)}\n${story(ns)}`);
        refused.push(name);
        fault = o;
      }
    }
    assert.ok(fault !== undefined && !fault.ok, `a write was refused once the WAL had to open a new segment (${acked.length - 1} acknowledged)`);
    assert.ok(fault.cause === 'EMFILE' || fault.cause === 'ENFILE', `the refusal names its cause: ${describe(fault)}`);
    t.diagnostic(`${acked.length - 1} writes acknowledged before the first refusal (${refused[0]})`);

    // A failed open may have given an fd back; take it, so the fault stays.
    await exhaustFds(ns, held);
    for (let i = 0; i < 3; i++) {
      const name = `/sf/fd/more${i}`;
      const o = await attempt(() => admin.register.add(name, { host: '127.0.0.1', program: '/bin/true' }));
      assert.equal(o.ok ? 'ok' : o.code, CODE, `a further write is refused: ${describe(o)}\n${story(ns)}`);
      refused.push(name);
    }
    assert.deepEqual((await legit.findServices('/sf/fd/legit', { launch: false })).map((l) => l.port), [40002]);
    await legit.ping();
    const listed = new Set(await admin.listServices('/sf/fd/*'));
    for (const n of acked) assert.ok(listed.has(n), `${n} (acknowledged) is listed during the outage`);
    for (const n of refused) assert.ok(!listed.has(n), `${n} was refused yet is in the registry`);
    await ns.stderr.waitFor(logLine('error', 'storage unavailable'), 5000);
    assert.equal(await stateOf(legit, '/sf/fd/legit'), 'running');
    assert.deepEqual(legitDrops, [], `the legit client was never disconnected\n${story(ns)}`);
    assert.ok(alive(ns), 'the name server is still running');

    // Give the fds back: writes come back by themselves.
    for (const s of held.splice(0)) s.close();
    const first = await firstWriteAfterRecovery({ admin, ns, prefix: '/sf/fd', refused, events, t, what: 'fds were' });
    acked.push(first);
    // Past the next snapshot and segment roll, which now succeed.
    for (let i = 0; i < 25; i++) {
      const name = `/sf/fd/later${i}`;
      await admin.register.add(name, { host: '127.0.0.1', program: '/bin/true', args: [name] });
      acked.push(name);
    }
    await until('the watch events of the later writes', 5000, () => (events.some((e) => e.name === '/sf/fd/later24') ? true : undefined));
    const heard = new Set(events.map((e) => e.name));
    for (const n of refused) assert.ok(!heard.has(n), `the watch heard of ${n}, which was refused`);
    const page = await metrics(ns);
    assert.equal(sample(page, 'dpns_storage_writable'), 1, 'metrics say writable again');
    assert.ok((sample(page, 'dpns_storage_faults_total') ?? 0) >= 1, 'metrics count the fault');
    assert.deepEqual(await health(ns), { status: 200, storage: 'writable' });
    await ns.stderr.waitFor(logLine('info', 'storage writable again'), 5000);
    assert.deepEqual(legitDrops, [], `the legit client was never disconnected\n${story(ns)}`);

    // Restart (without the limit) on the same data directory.
    await closeClient(admin);
    await closeClient(legit);
    const { port, dataDir } = ns;
    const exit = await ns.kill('SIGTERM');
    assert.equal(exit.code, 0, `the server stops cleanly on SIGTERM:\n${ns.stderrLines().slice(-20).join('\n')}`);
    ns = await startServerProcess({ dataDir, port, args });
    const present = await namesAfterRestart(ns, '/sf/fd/*');
    assert.deepEqual(acked.filter((n) => !present.has(n)), [], 'acknowledged writes missing after the restart');
    assert.deepEqual(refused.filter((n) => present.has(n)), [], 'refused writes present after the restart');
    t.diagnostic(`after the restart: ${acked.length} acknowledged present, ${refused.length} refused absent`);
  } finally {
    for (const s of held.splice(0)) s.close();
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await ns.kill('SIGKILL');
  }
});
