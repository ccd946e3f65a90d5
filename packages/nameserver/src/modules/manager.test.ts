// The module manager in-process, with real worker threads and fixture module files: the change
// feed, queries, answers that are not JSON, unload of a call in flight, load timeouts, logs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDpnsError, type EntryView } from '@dpns/protocol';
import { createLogger } from '../log.js';
import { Registry } from '../registry/registry.js';
import { DEFAULT_MODULE_LIMITS } from './limits.js';
import { ModuleManager } from './manager.js';

let dir: string;
const lines: Record<string, unknown>[] = [];
const log = createLogger({ level: 'debug', format: 'json', write: (l) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
const registry = new Registry();
let manager: ModuleManager;
const caller = { admin: false, conn: 1, owner: null };

const svc = (name: string, port: number): EntryView => ({ kind: 'service', name, state: 'running', since: 1, host: '127.0.0.1', port });

/** Applies and publishes a put, as the committer does once it is durable. */
function put(e: EntryView): void {
  const revision = registry.revision + 1;
  manager.publish(registry.apply([{ t: 'put', e }], revision), revision);
}

async function fixture(name: string, source: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, source);
  return path;
}

async function call(prefix: string, method: string, params: unknown = {}): Promise<unknown> {
  return JSON.parse(await manager.call({ prefix, method }, params, caller)) as unknown;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dpns-modules-'));
  registry.load({ revision: 1, entries: [svc('/a', 1)] });
  manager = new ModuleManager({
    registry, dataDir: dir, log, now: Date.now, afterDurable: (x) => x,
    limits: { ...DEFAULT_MODULE_LIMITS, maxResultBytes: 1000, moduleLoadTimeoutMs: 1500, moduleNice: 0 },
  });
  await manager.load(await fixture('probe.mjs', `
    export const manifest = { prefix: 'probe', version: '1', methods: {
      seen: { description: '' }, where: { description: '' }, ask: { description: '' }, nothing: { description: '' },
      bigint: { description: '' }, huge: { description: '' }, hang: { description: '' }, chatty: { description: '' }, refuse: { description: '' },
    } };
    const seen = [];
    export function onChange(change) { seen.push(change.type + ' ' + change.name + ' @' + change.revision); }
    export const handlers = {
      seen: () => seen,
      where: (p, ctx) => ctx.registry.find(p.name),
      async ask(p, ctx) {
        try { return await ctx.query(p.method, p.params); } catch (err) { return { refused: err.code, message: err.message }; }
      },
      nothing: () => undefined,
      bigint: () => 1n,
      huge: () => 'x'.repeat(5000),
      hang: () => new Promise(() => {}),
      chatty: () => { console.log('hello from', 'probe'); return 'ok'; },
      refuse: (p, ctx) => { throw ctx.error('NOT_FOUND', 'no such thing', { what: p.what }); },
    };`));
});
after(async () => {
  await manager.close();
  await rm(dir, { recursive: true, force: true });
});

test('a change reaches the module before a call made after it (read your writes), with onChange in revision order', async () => {
  put(svc('/b', 2));
  assert.deepEqual(await call('probe', 'where', { name: '/b' }), [{ name: '/b', service: '/b', host: '127.0.0.1', port: 2 }]);
  put(svc('/b', 3));
  put(svc('/c', 4));
  assert.deepEqual(await call('probe', 'seen'), ['put /b @2', 'put /b @3', 'put /c @4']);
  assert.deepEqual(await call('probe', 'where', { name: '/b' }), [{ name: '/b', service: '/b', host: '127.0.0.1', port: 3 }]);
});

test('queries are answered by the name server; only reads, and find never launches', async () => {
  assert.deepEqual(await call('probe', 'ask', { method: 'listServices', params: { pattern: '/*' } }), { names: ['/a', '/b', '/c'] });
  assert.deepEqual(await call('probe', 'ask', { method: 'findServices', params: { pattern: '/a' } }), { services: [{ name: '/a', service: '/a', host: '127.0.0.1', port: 1 }] });
  assert.equal((await call('probe', 'ask', { method: 'register.add', params: {} }) as { refused: string }).refused, 'METHOD_NOT_FOUND');
  assert.equal((await call('probe', 'ask', { method: 'serviceState', params: { pattern: '[' } }) as { refused: string }).refused, 'INVALID_PATTERN');
});

test('answers: undefined is null, a refusal keeps its code and details, what is not JSON or too big is BAD_RESULT', async () => {
  assert.equal(await call('probe', 'nothing'), null);
  await assert.rejects(call('probe', 'refuse', { what: 'x' }), (e: unknown) => isDpnsError(e, 'NOT_FOUND') && e.details?.what === 'x' && e.message === 'no such thing');
  await assert.rejects(call('probe', 'bigint'), (e: unknown) => isDpnsError(e, 'MODULE_FAILED') && e.details?.cause === 'BAD_RESULT');
  await assert.rejects(call('probe', 'huge'), (e: unknown) => isDpnsError(e, 'MODULE_FAILED') && /over the limit of 1000/.test(e.message));
  await assert.rejects(call('probe', 'nosuch'), (e: unknown) => isDpnsError(e, 'METHOD_NOT_FOUND') && /offers seen, where/.test(e.message));
  await assert.rejects(call('nosuch', 'x'), (e: unknown) => isDpnsError(e, 'METHOD_NOT_FOUND'));
});

test('console output of a module goes to the name server\'s log, tagged with its prefix', async () => {
  assert.equal(await call('probe', 'chatty'), 'ok');
  const deadline = Date.now() + 2000;
  while (!lines.some((l) => l.msg === 'hello from probe') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(lines.find((l) => l.msg === 'hello from probe')?.module, 'probe');
});

test('unloading a module answers its calls in flight with UNLOADED', async () => {
  const path = await fixture('hang.mjs', `
    export const manifest = { prefix: 'hang', version: '1', methods: { wait: { description: 'never answers' } } };
    export const handlers = { wait: () => new Promise(() => {}) };`);
  await manager.load(path);
  const refused = assert.rejects(call('hang', 'wait'), (e: unknown) => isDpnsError(e, 'MODULE_FAILED') && e.details?.cause === 'UNLOADED');
  await manager.unload({ prefix: 'hang' });
  await refused;
  assert.equal(manager.list().some((m) => m.prefix === 'hang'), false);
});

test('a module that never finishes loading is stopped at the load time limit and listed as failed', async () => {
  const path = await fixture('never.mjs', `await new Promise(() => {});\nexport const manifest = {};`);
  await assert.rejects(manager.load(path), (e: unknown) => isDpnsError(e, 'MODULE_FAILED') && e.details?.cause === 'TIMEOUT');
  const m = manager.list().find((x) => x.path === path);
  assert.equal(m?.state, 'failed');
  assert.equal(m?.lastError?.cause, 'TIMEOUT');
  await manager.unload({ path });
});

test('the same file cannot be loaded twice; a bad manifest is listed as failed, and loading it again replaces that record', async () => {
  await assert.rejects(manager.load(join(dir, 'probe.mjs')), (e: unknown) => isDpnsError(e, 'ALREADY_EXISTS'));
  const path = await fixture('bad.mjs', `export const manifest = { prefix: 'bad', version: '1', methods: { a: {} } };\nexport const handlers = {};`);
  await assert.rejects(manager.load(path), (e: unknown) => isDpnsError(e, 'MODULE_FAILED') && e.details?.cause === 'BAD_MANIFEST' && /handlers\.a is not a function/.test(e.message));
  await writeFile(path, `export const manifest = { prefix: 'bad', version: '2', methods: { a: {} } };\nexport const handlers = { a: () => 'fixed' };`);
  const info = await manager.load(path);
  assert.equal(info.version, '2');
  assert.equal(manager.list().filter((m) => m.path === path).length, 1);
  assert.equal(await call('bad', 'a'), 'fixed');
  await manager.unload({ prefix: 'bad' });
});

test('the store is the name server\'s to write: writes a module started before it was unloaded reach the disk', async () => {
  const path = await fixture('writes.mjs', `
    export const manifest = { prefix: 'writes', version: '1', methods: { burst: { description: 'writes without waiting' } } };
    export const handlers = { burst(_p, ctx) { for (let i = 0; i < 50; i++) void ctx.store.set('k' + (i % 5), i); return 'started'; } };`);
  await manager.load(path);
  assert.equal(await call('writes', 'burst'), 'started');
  await manager.unload({ prefix: 'writes' });
  const stored = JSON.parse(await readFile(join(dir, 'modules', 'writes.json'), 'utf8')) as { data: Record<string, number> };
  assert.deepEqual(stored.data, { k0: 45, k1: 46, k2: 47, k3: 48, k4: 49 });
});
