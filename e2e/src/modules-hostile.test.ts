// Hostile modules against a real name server process, each in its own test: one that writes to
// the registry it was given, one that loops (in a call, and outside any call), one that
// allocates until it dies, one that throws on load, one that fails on every restart, one that
// claims a taken or a built-in prefix; and escapes from the sandbox (docs/MODULES.md): reading
// the admin token, the server's key, the WAL or the environment, running a program, starting a
// thread, native bindings, writing outside, signalling the server, and forged frames on the pipe.
// For each: the registry is unchanged afterwards, and a client doing `find` in a loop throughout
// was answered every time, never held up for the length of the module's misdeed (p99 under
// 250 ms: a module that could block the server would hold finds for a second or more). How fast
// finds are beside a module is measured in `pnpm bench --only module`, not asserted here.
import { after, afterEach, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DpnsClient, type EntryView, type ModuleInfo } from '@dpns/client';
import { makeTempDir, REPO_ROOT, runCli, startServerProcess, teardown, type CliResult, type ServerProcess } from './harness/index.js';

/**
 * Finds while a hostile module runs: far below the 1 s a blocked server would cost (module call
 * limit, hogs), far above what a loaded 2-core CI machine adds. Speed itself is a benchmark.
 */
const P99_LIMIT_MS = 250;
/** Finds measured at the least, whatever the hostile action's length. */
const MIN_FINDS = 600;
// A child process stopped by its heap limit takes a few hundred milliseconds of V8's last-resort
// collections to die; the limit leaves it room, so the test sees OUT_OF_MEMORY and not a timeout.
const CALL_TIMEOUT_MS = 1000;
/** In the name server's environment: a module must not see it. */
const ENV_SECRET = 'env-secret-0f1e2d3c4b5a';
const MAX_RESTARTS = 2;
const SERVICES = Array.from({ length: 20 }, (_, i) => `/h/svc-${i}`);

let ns: ServerProcess;
let dataDir: string;
let fixtures: string;
let admin: DpnsClient;
const clients: DpnsClient[] = [];

before(async () => {
  dataDir = makeTempDir('dpns-hostile-');
  const modulesDir = join(dataDir, 'modules.d');
  mkdirSync(modulesDir);
  copyFileSync(resolve(REPO_ROOT, 'modules', 'dir.mjs'), join(modulesDir, 'dir.mjs'));
  fixtures = makeTempDir('dpns-hostile-modules-');
  ns = await startServerProcess({
    dataDir,
    args: ['--log-level', 'error', '--module-timeout-ms', String(CALL_TIMEOUT_MS), '--module-memory-mb', '32', '--module-max-restarts', String(MAX_RESTARTS)],
    env: { DPNS_HOSTILE_SECRET: ENV_SECRET },
  });
  admin = client(true);
  for (const [i, name] of SERVICES.entries()) await admin.advertiseStatic(name, '127.0.0.1', 9000 + i);
  await admin.register.alias('/h/alias', '/h/svc-0');
  await admin.callModule('dir.register', { person: 'ann', server: '/h/alias' });
  // Warm the name server up first (find, a module call, a command-line client's login and
  // call): the first test must measure what the hostile module does, not the JIT.
  for (let i = 0; i < 2000; i++) await admin.findServices(SERVICES[i % SERVICES.length] as string, { launch: false });
  for (let i = 0; i < 200; i++) await admin.callModule('dir.lookup', { person: 'ann' });
  assert.equal((await dpns(['call', 'dir.lookup', '{"person":"ann"}'])).code, 0);
});
afterEach(async () => {
  await Promise.all(clients.splice(1).map((c) => c.close()));
});
after(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await teardown();
});

function client(asAdmin = false): DpnsClient {
  const c = new DpnsClient({ servers: [ns.server], ...(asAdmin ? { token: ns.token } : {}) });
  clients.push(c);
  return c;
}

/** A module file in the fixtures directory; its path. */
function fixture(name: string, source: string): string {
  const path = join(fixtures, name);
  writeFileSync(path, source);
  return path;
}

function dpns(args: string[], opts: { anonymous?: boolean } = {}): Promise<CliResult> {
  return runCli(['--server', ns.server, ...args], { env: opts.anonymous === true ? {} : { DPNS_TOKEN: ns.token } });
}

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)] ?? Infinity;
}

/**
 * Runs `hostile` while another client finds services back to back, and checks what must hold
 * whatever a module does: every find answered, their p99 under 10 ms, and the registry as it was
 * (but for `ownWrites`, names the test itself writes to provoke the module).
 */
async function whileFinding<T>(t: TestContext, hostile: () => Promise<T>, ownWrites: string[] = []): Promise<T> {
  const registry = async (): Promise<EntryView[]> => (await admin.serviceState('*')).filter((e) => !ownWrites.includes(e.name));
  const before = await registry();
  const finder = client();
  await finder.connect();
  const latencies: number[] = [];
  const failures: string[] = [];
  let done = false;
  const loop = (async () => {
    for (let i = 0; !done || latencies.length < MIN_FINDS; i++) {
      const name = SERVICES[i % SERVICES.length] as string;
      const t0 = performance.now();
      try {
        const [where] = await finder.findServices(name, { launch: false });
        if (where?.service !== name) failures.push(`find ${name} answered ${JSON.stringify(where)}`);
      } catch (err) {
        failures.push(`find ${name}: ${(err as Error).message}`);
      }
      latencies.push(performance.now() - t0);
      // A pause every few finds: a finder that keeps a core busy by itself would starve the
      // module's child (nice 10) on a small machine and measure that instead of the server; a
      // pause after every find would leave too few samples for a p99 over a CLI's start-up.
      if (i % 8 === 7) await new Promise((r) => setTimeout(r, 1));
    }
  })();
  let result: T;
  try {
    result = await hostile();
  } finally {
    done = true;
    await loop;
  }
  assert.deepEqual(failures, [], 'every find was answered with the service');
  const worst = p99(latencies);
  t.diagnostic(`find p99 ${worst.toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms over ${latencies.length} finds`);
  assert.ok(worst < P99_LIMIT_MS, `find p99 ${worst.toFixed(2)} ms over ${latencies.length} finds (limit ${P99_LIMIT_MS} ms)`);
  assertSameRegistry(before, await registry());
  // The well-behaved module beside the hostile one kept answering.
  assert.equal((await admin.callModule('dir.lookup', { person: 'ann' }) as { service: string }).service, '/h/svc-0');
  return result;
}

function assertSameRegistry(before: EntryView[], afterwards: EntryView[]): void {
  assert.deepEqual(afterwards, before, 'the registry is unchanged');
}

async function moduleInfo(prefixOrPath: string): Promise<ModuleInfo | undefined> {
  return (await admin.modules.list()).find((m) => m.prefix === prefixOrPath || m.path === prefixOrPath);
}

/** Polls `modules list` until `ok` holds for the module (the restart is asynchronous). */
async function waitForModule(prefix: string, ok: (m: ModuleInfo) => boolean, what: string, timeoutMs = 15_000): Promise<ModuleInfo> {
  const deadline = Date.now() + timeoutMs;
  let last: ModuleInfo | undefined;
  while (Date.now() < deadline) {
    last = await moduleInfo(prefix);
    if (last !== undefined && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`module ${prefix}: ${what} within ${timeoutMs} ms; last seen ${JSON.stringify(last)}`);
}

async function refusedCli(args: string[], code: string): Promise<string> {
  const r = await dpns(args);
  assert.equal(r.code, 1, `dpns ${args.join(' ')}: expected exit 1, got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^dpns: ${code}: [^\\n]+\\n$`), r.stderr);
  return r.stderr;
}

async function loadCli(path: string): Promise<void> {
  const r = await dpns(['modules', 'load', path]);
  assert.equal(r.code, 0, r.stderr);
}

test('a module that writes to the registry it was given changes nothing', async (t) => {
  const path = fixture('writer.mjs', `
    export const manifest = { prefix: 'writer', version: '1', methods: { scribble: { description: 'tries to write' }, peek: { description: 'reads' } } };
    export const handlers = {
      scribble(_p, ctx) {
        const e = ctx.registry.get('/h/svc-0');
        const tries = {
          port: () => { e.port = 1; },
          state: () => { e.state = 'stopped'; },
          deleteHost: () => { delete e.host; },
          advertiser: () => { e.advertiser.kind = 'session'; },
          listPush: () => { ctx.registry.entries('*').push({ name: '/h/evil' }); },
          found: () => { ctx.registry.find('/h/svc-1')[0].port = 2; },
          replaceGet: () => { ctx.registry.get = () => ({}); },
          replaceRegistry: () => { ctx.registry = {}; },
          prototype: () => { Object.getPrototypeOf(e).port = 3; },
        };
        const out = {};
        for (const [k, f] of Object.entries(tries)) {
          try { f(); out[k] = 'wrote'; } catch (err) { out[k] = err.name; }
        }
        return out;
      },
      peek(_p, ctx) { return ctx.registry.get('/h/svc-0'); },
    };`);
  await loadCli(path);
  const before = (await admin.serviceState('/h/svc-0'))[0];
  const out = await whileFinding(t, async () => {
    const r = await dpns(['call', 'writer.scribble']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, string>;
  });
  // Every write to what the module holds throws (the module's code is strict, its copy frozen)...
  for (const [k, v] of Object.entries(out)) {
    if (k === 'prototype') continue; // Object.prototype belongs to the module's own thread: writable, and harmless.
    assert.equal(v, 'TypeError', `${k}: ${v}`);
  }
  // ...its own copy is as it was, and so is the name server's registry.
  assert.deepEqual(await admin.callModule('writer.peek'), before);
  assert.deepEqual((await admin.serviceState('/h/svc-0'))[0], before);
  await admin.modules.unload('writer');
});

test('a module that loops forever in a call times out, is restarted, and says so in modules list', async (t) => {
  const path = fixture('spin.mjs', `
    export const manifest = { prefix: 'spin', version: '1', methods: { spin: { description: 'never returns' }, ok: { description: 'answers' } } };
    export const handlers = { spin() { for (;;) { /* forever */ } }, ok() { return 'ok'; } };`);
  await loadCli(path);
  await whileFinding(t, async () => {
    const t0 = Date.now();
    const stderr = await refusedCli(['call', 'spin.spin'], 'MODULE_TIMEOUT');
    assert.match(stderr, new RegExp(`within ${CALL_TIMEOUT_MS} ms`));
    assert.ok(Date.now() - t0 < CALL_TIMEOUT_MS + 5000);
    await waitForModule('spin', (m) => m.state === 'running' && m.restarts === 1, 'running again after one restart');
  });
  const m = await moduleInfo('spin');
  assert.equal(m?.lastError?.cause, 'TIMEOUT');
  assert.equal(m?.timeouts, 1);
  assert.equal(await admin.callModule('spin.ok'), 'ok');
  const table = await dpns(['modules', 'list']);
  assert.match(table.stdout, /^spin\s+running\s+1\s+1\s+\d+\s+1\s+\S+spin\.mjs\s+TIMEOUT: spin\.spin ran past its time limit/m);
  await admin.modules.unload('spin');
});

test('a module that loops outside any call (in onChange) stops answering pings and is restarted', async (t) => {
  const path = fixture('stuck.mjs', `
    export const manifest = { prefix: 'stuck', version: '1', methods: { ok: { description: 'answers' } } };
    export const handlers = { ok() { return 'ok'; } };
    export function onChange(change) { if (change.name === '/h/trigger') for (;;) { /* forever */ } }`);
  await loadCli(path);
  // The loop starts with a change no client waits on; the name server notices by itself.
  await whileFinding(t, async () => {
    await admin.advertiseStatic('/h/trigger', '127.0.0.1', 9999);
    await waitForModule('stuck', (m) => m.restarts === 1 && m.state === 'running', 'restarted after it stopped answering');
  }, ['/h/trigger']);
  assert.equal((await moduleInfo('stuck'))?.lastError?.cause, 'UNRESPONSIVE');
  assert.equal(await admin.callModule('stuck.ok'), 'ok');
  await admin.modules.unload('stuck');
  await admin.unadvertiseService('/h/trigger');
});

test('a module that allocates until it dies is stopped by its memory limit and restarted', async (t) => {
  const path = fixture('hog.mjs', `
    export const manifest = { prefix: 'hog', version: '1', methods: { eat: { description: 'allocates without end' }, ok: { description: 'answers' } } };
    const kept = [];
    export const handlers = { eat() { for (;;) kept.push(new Array(100000).fill(kept.length)); }, ok() { return kept.length; } };`);
  await loadCli(path);
  await whileFinding(t, async () => {
    const stderr = await refusedCli(['call', 'hog.eat'], 'MODULE_FAILED');
    assert.match(stderr, /memory limit.*OUT_OF_MEMORY/);
    await waitForModule('hog', (m) => m.state === 'running' && m.restarts === 1, 'running again after one restart');
  });
  assert.equal((await moduleInfo('hog'))?.lastError?.cause, 'OUT_OF_MEMORY');
  // A fresh worker: what the old one held is gone.
  assert.equal(await admin.callModule('hog.ok'), 0);
  await admin.modules.unload('hog');
});

test('a module that throws on load is refused with a clear error and listed as failed', async (t) => {
  const path = fixture('throws.mjs', `throw new Error('the module is broken');\nexport const manifest = {};`);
  const stderr = await whileFinding(t, () => refusedCli(['modules', 'load', path], 'MODULE_FAILED'));
  assert.match(stderr, /throws\.mjs could not load: Error: the module is broken \(LOAD_FAILED\)/);
  const m = await moduleInfo(path);
  assert.equal(m?.state, 'failed');
  assert.equal(m?.prefix, null);
  assert.equal(m?.lastError?.cause, 'LOAD_FAILED');
  const list = await dpns(['modules', 'list']);
  assert.match(list.stdout, /^-\s+failed\s+-\s+0\s+0\s+0\s+\S+throws\.mjs\s+LOAD_FAILED: .*the module is broken/m);
  // One that failed before it had a prefix is named by its file.
  assert.equal((await dpns(['modules', 'unload', path])).code, 0);
  assert.equal(await moduleInfo(path), undefined);
});

test('a module whose init fails on every restart stays failed after too many failures in a row', async (t) => {
  // init succeeds the first time only (it counts its starts in its own store); `die` kills the worker.
  const path = fixture('flaky.mjs', `
    export const manifest = { prefix: 'flaky', version: '1', methods: { die: { description: 'exits its worker' }, ok: { description: 'answers' } } };
    export async function init(ctx) {
      const starts = (ctx.store.get('starts') ?? 0) + 1;
      await ctx.store.set('starts', starts);
      if (starts > 1) throw new Error('cannot start again');
    }
    export const handlers = { die() { setTimeout(() => { throw new Error('crash'); }); return 'dying'; }, ok() { return 'ok'; } };`);
  await loadCli(path);
  await whileFinding(t, async () => {
    assert.equal(await admin.callModule('flaky.die'), 'dying');
    await waitForModule('flaky', (m) => m.state === 'failed', `failed after ${MAX_RESTARTS + 1} failures in a row`);
  });
  const m = await moduleInfo('flaky');
  assert.equal(m?.crashes, MAX_RESTARTS + 1);
  assert.equal(m?.restarts, MAX_RESTARTS);
  assert.equal(m?.lastError?.cause, 'INIT_FAILED');
  assert.match(m?.lastError?.message ?? '', /cannot start again/);
  const stderr = await refusedCli(['call', 'flaky.ok'], 'MODULE_FAILED');
  assert.match(stderr, /has failed.*dpns modules reload flaky.*\(FAILED\)/);
  await admin.modules.unload('flaky');
});

test('a module that claims a taken prefix, or a built-in one, is refused and not listed', async (t) => {
  const taken = fixture('taken.mjs', `
    export const manifest = { prefix: 'dir', version: '6.6.6', methods: { lookup: { description: 'impostor' } } };
    export const handlers = { lookup() { return { host: 'evil', port: 666 }; } };`);
  const builtin = fixture('builtin.mjs', `
    export const manifest = { prefix: 'register', version: '1', methods: { add: { description: 'shadows register.add' } } };
    export const handlers = { add() { return { revision: 0 }; } };`);
  const modulesBefore = (await admin.modules.list()).map((m) => m.path);
  await whileFinding(t, async () => {
    assert.match(await refusedCli(['modules', 'load', taken], 'ALREADY_EXISTS'), /claims the prefix dir, which is taken by .*dir\.mjs/);
    assert.match(await refusedCli(['modules', 'load', builtin], 'MODULE_FAILED'), /"register" is reserved.*\(PREFIX_RESERVED\)/);
  });
  assert.deepEqual((await admin.modules.list()).map((m) => m.path), modulesBefore);
  // The real dir still answers, and register.add is still the name server's own.
  assert.equal((await admin.callModule('dir.lookup', { person: 'ann' }) as { host: string }).host, '127.0.0.1');
  await assert.rejects(admin.register.add('/h/x', { host: 'h', program: '' }), (e: { code?: string }) => e.code === 'INVALID_PARAMS');
});

/**
 * A module that tries every way out of its sandbox we know of, and reports each attempt as
 * `ok: <what it got>` or the error code it met. `DATA` is the data directory, written into the
 * source as if the module had guessed it right; `FILES` are the files the test found there.
 */
function escapeModule(files: string[]): string {
  return `
    import * as fs from 'node:fs';
    import * as os from 'node:os';
    const DATA = ${JSON.stringify(dataDir)};
    const FILES = ${JSON.stringify(files)};
    export const manifest = { prefix: 'escape', version: '1', methods: {
      secrets: { description: 'reads what it should not' }, run: { description: 'acts where it should not' },
      forge: { description: 'forged frames' }, huge: { description: 'a frame too large' }, spam: { description: 'malformed frames' },
    } };
    async function attempt(f) {
      try { const v = await f(); return 'ok: ' + (typeof v === 'string' ? v : JSON.stringify(v) ?? String(v)).slice(0, 200); }
      catch (err) { return String(err?.code ?? err?.name ?? err); }
    }
    function frame(h, p = '') {
      const hb = Buffer.from(JSON.stringify(h)); const pb = Buffer.from(p);
      const b = Buffer.alloc(8 + hb.length + pb.length);
      b.writeUInt32BE(b.length, 0); b.writeUInt32BE(hb.length, 4); hb.copy(b, 8); pb.copy(b, 8 + hb.length);
      return b;
    }
    export const handlers = {
      async secrets() {
        const out = {};
        // The path learned from the name server's command line, as the attack outside did.
        out.parentCmdline = await attempt(() => {
          const argv = fs.readFileSync('/proc/' + process.ppid + '/cmdline', 'utf8').split('\\0');
          return fs.readFileSync(argv[argv.indexOf('--data-dir') + 1] + '/admin.token', 'utf8');
        });
        out.selfCmdline = await attempt(() => fs.readFileSync('/proc/self/cmdline', 'utf8'));
        out.parentEnviron = await attempt(() => fs.readFileSync('/proc/' + process.ppid + '/environ', 'utf8'));
        out.selfEnviron = await attempt(() => fs.readFileSync('/proc/self/environ', 'utf8'));
        out.parentMem = await attempt(() => fs.readFileSync('/proc/' + process.ppid + '/maps', 'utf8'));
        out.token = await attempt(() => fs.readFileSync(DATA + '/admin.token', 'utf8'));
        out.key = await attempt(() => fs.readFileSync(DATA + '/nameserver.key', 'utf8'));
        out.tokenAsync = await attempt(() => fs.promises.readFile(DATA + '/admin.token', 'utf8'));
        out.tokenStream = await attempt(() => new Promise((res, rej) => fs.createReadStream(DATA + '/admin.token').on('data', res).on('error', rej)));
        out.listDataDir = await attempt(() => fs.readdirSync(DATA));
        out.statToken = await attempt(() => fs.statSync(DATA + '/admin.token').size);
        out.otherStore = await attempt(() => fs.readFileSync(DATA + '/modules/dir.json', 'utf8'));
        out.viaProcRoot = await attempt(() => fs.readFileSync('/proc/self/root' + DATA + '/admin.token', 'utf8'));
        out.viaParentCwd = await attempt(() => fs.readFileSync('/proc/' + process.ppid + '/cwd/admin.token', 'utf8'));
        for (const f of FILES) out['file ' + f] = await attempt(() => fs.readFileSync(DATA + '/' + f, 'utf8'));
        out.env = Object.keys(process.env).join(',');
        out.argv = [...process.argv, ...process.execArgv].join(' ');
        out.cwd = process.cwd();
        return out;
      },
      async run() {
        const out = {};
        out.exec = await attempt(async () => (await import('node:child_process')).execSync('cat ' + DATA + '/admin.token').toString());
        out.spawn = await attempt(async () => (await import('node:child_process')).spawnSync('/bin/sh', ['-c', 'id']).stdout.toString());
        out.fork = await attempt(async () => (await import('node:child_process')).fork('/dev/null'));
        out.worker = await attempt(async () => { const { Worker } = await import('node:worker_threads'); return new Worker('1', { eval: true }).threadId; });
        out.bindingFs = await attempt(() => Object.keys(process.binding('fs')));
        out.bindingSpawn = await attempt(() => Object.keys(process.binding('spawn_sync')));
        out.dlopen = await attempt(() => process.dlopen({ exports: {} }, '/usr/lib/x86_64-linux-gnu/libc.so.6'));
        out.wasi = await attempt(async () => { const { WASI } = await import('node:wasi'); return typeof new WASI({ version: 'preview1', preopens: { '/d': DATA } }); });
        out.inspector = await attempt(async () => { const i = await import('node:inspector'); i.open(0); return i.url(); });
        out.report = await attempt(() => process.report.writeReport('/tmp/dpns-escape-report.json'));
        out.heapSnapshot = await attempt(async () => (await import('node:v8')).writeHeapSnapshot('/tmp/dpns-escape.heapsnapshot'));
        out.traceEvents = await attempt(async () => (await import('node:trace_events')).createTracing({ categories: ['v8'] }).enable());
        out.killServer = await attempt(() => process.kill(process.ppid, 'SIGKILL'));
        out.killGroup = await attempt(() => process.kill(0, 'SIGTERM'));
        out.reniceServer = await attempt(() => os.setPriority(process.ppid, 19));
        out.writeDataDir = await attempt(() => fs.writeFileSync(DATA + '/pwned', 'x'));
        out.writeOtherStore = await attempt(() => fs.writeFileSync(DATA + '/modules/dir.json', '{}'));
        out.writeOwnStore = await attempt(() => fs.writeFileSync(DATA + '/modules/escape.json', '{}'));
        out.writeTmp = await attempt(() => fs.writeFileSync('/tmp/dpns-escape-' + process.pid, 'x'));
        out.mkdir = await attempt(() => fs.mkdirSync('/tmp/dpns-escape-dir-' + process.pid));
        out.chmodToken = await attempt(() => fs.chmodSync(DATA + '/admin.token', 0o644));
        out.symlink = await attempt(() => fs.symlinkSync(DATA + '/admin.token', '/tmp/dpns-escape-link-' + process.pid));
        return out;
      },
      forge() {
        const frames = [
          frame({ t: 'manifest', prefix: 'dir', version: '6.6.6', methods: [{ name: 'lookup', description: '', admin: false }], hasInit: false, hasOnChange: false }),
          frame({ t: 'result', id: 1e9 }, '{"host":"evil","port":666}'),
          frame({ t: 'error', id: 1e9, code: 'NOT_FOUND', message: 'forged' }),
          frame({ t: 'query', id: 1e6, method: 'register.add', params: { name: '/h/evil', host: 'h', program: '/bin/sh' } }),
          frame({ t: 'query', id: 1e6 + 1, method: 'modules.load', params: { path: '/tmp/evil.mjs' } }),
          frame({ t: 'register.add', name: '/h/evil' }),
          frame({ t: 'ready' }),
          frame({ t: 'result', id: 1 }, '1,"error":{"code":1}'),
          frame({ t: 'store', id: 1e6, key: '../../admin.token', op: 'set' }, '"pwned"'),
        ];
        for (const f of frames) fs.writeSync(3, f);
        return 'sent';
      },
      huge() {
        const b = Buffer.alloc(8);
        b.writeUInt32BE(0x7fffffff, 0);
        b.writeUInt32BE(2, 4);
        fs.writeSync(3, b);
        return 'sent';
      },
      spam() {
        for (let i = 0; i < 40; i++) fs.writeSync(3, frame({ t: 'nonsense', i }));
        return 'sent';
      },
    };`;
}

/** Loads the escape module; it is unloaded when the test ends, whatever the outcome, so the next test can load it again. */
async function loadEscape(t: TestContext, files: string[] = []): Promise<void> {
  await loadCli(fixture('escape.mjs', escapeModule(files)));
  t.after(async () => {
    await admin.modules.unload('escape').catch(() => undefined);
  });
}

/** Every file under the data directory, relative to it. */
function dataFiles(dir = dataDir, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? dataFiles(join(dir, d.name), `${prefix}${d.name}/`) : [`${prefix}${d.name}`]));
}

/** What the data directory holds, file by file, to compare before and after. */
function dataSecrets(): Map<string, string> {
  return new Map(dataFiles().filter((f) => !f.startsWith('modules/')).map((f) => [f, readFileSync(join(dataDir, f), 'utf8')]));
}

async function anonymousCall(method: string): Promise<Record<string, string>> {
  const r = await dpns(['call', method], { anonymous: true });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, string>;
}

/** Nothing a secret: not the token, the key, a WAL record, nor the name server's environment. */
function assertNoSecret(out: unknown, secrets: Map<string, string>): void {
  const text = JSON.stringify(out);
  for (const needle of [ns.token, ENV_SECRET, 'DPNS_']) assert.ok(!text.includes(needle), `the module's answer holds ${needle.slice(0, 12)}…: ${text}`);
  for (const [file, content] of secrets) {
    for (const line of content.split('\n').filter((l) => l.length >= 16)) assert.ok(!text.includes(line.slice(0, 64)), `the module's answer holds a line of ${file}`);
  }
}

test('escapes: a module cannot read the admin token, the key, the WAL, other stores or the server\'s environment', async (t) => {
  const secrets = dataSecrets();
  assert.ok(secrets.has('admin.token') && secrets.has('nameserver.key'), [...secrets.keys()].join(', '));
  await loadEscape(t, dataFiles());
  const out = await whileFinding(t, () => anonymousCall('escape.secrets'));
  t.diagnostic(JSON.stringify(out));
  for (const [k, v] of Object.entries(out)) {
    if (k === 'env' || k === 'argv' || k === 'cwd') continue;
    assert.equal(v, 'ERR_ACCESS_DENIED', `${k}: ${v}`);
  }
  // The environment is empty but for TZ, and the command line names no data directory.
  assert.deepEqual(out.env?.split(',').filter((k) => k !== '' && k !== 'TZ'), []);
  assert.ok(!(out.argv ?? '').includes(dataDir), out.argv);
  assert.equal(out.cwd, '/');
  assertNoSecret(out, secrets);
  assert.deepEqual(dataSecrets(), secrets, 'the data directory is unchanged');
});

test('escapes: a module cannot run programs, start threads, load native code, write files or signal the server', async (t) => {
  const secrets = dataSecrets();
  await loadEscape(t);
  const out = await whileFinding(t, () => anonymousCall('escape.run'));
  t.diagnostic(JSON.stringify(out));
  const expected: Record<string, string> = { dlopen: 'ERR_DLOPEN_DISABLED' };
  for (const [k, v] of Object.entries(out)) assert.equal(v, expected[k] ?? 'ERR_ACCESS_DENIED', `${k}: ${v}`);
  assertNoSecret(out, secrets);
  assert.deepEqual(dataSecrets(), secrets, 'the data directory is unchanged');
  assert.deepEqual(readdirSync('/tmp').filter((f) => f.startsWith('dpns-escape')), [], 'nothing written to /tmp');
  assert.equal(ns.proc.exitCode, null, 'the name server runs');
  assert.equal((await moduleInfo('escape'))?.state, 'running');
});

test('escapes: forged frames on the module\'s pipe are refused; the module cannot pose as another, write the registry, or reach a file', async (t) => {
  const secrets = dataSecrets();
  await loadEscape(t);
  assert.equal(await whileFinding(t, async () => {
    const r = await dpns(['call', 'escape.forge'], { anonymous: true });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as unknown;
  }), 'sent');
  // The impostor manifest changed nothing: dir is still the real one, escape still itself.
  assert.equal((await admin.callModule('dir.lookup', { person: 'ann' }) as { host: string }).host, '127.0.0.1');
  const m = await moduleInfo('escape');
  assert.equal(m?.state, 'running');
  assert.deepEqual(m?.methods.map((x) => x.name), ['secrets', 'run', 'forge', 'huge', 'spam']);
  assert.deepEqual((await admin.serviceState('/h/evil')), []);
  assert.deepEqual(dataSecrets(), secrets, 'the data directory is unchanged');
});

test('escapes: a frame over the size limit, or a flood of malformed ones, stops the module; it restarts and the server is untouched', async (t) => {
  await loadEscape(t);
  await whileFinding(t, async () => {
    assert.match(await refusedCli(['call', 'escape.huge'], 'MODULE_FAILED'), /frame of 2147483647 bytes, over the limit.*\(CRASHED\)/);
    await waitForModule('escape', (m) => m.state === 'running' && m.restarts === 1, 'running again after one restart');
    assert.match(await refusedCli(['call', 'escape.spam'], 'MODULE_FAILED'), /messages the name server refused.*\(CRASHED\)/);
    await waitForModule('escape', (m) => m.state === 'running' && m.restarts === 2, 'running again after a second restart');
  });
  assert.match((await moduleInfo('escape'))?.lastError?.message ?? '', /refused/);
});
