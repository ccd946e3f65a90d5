// External modules in a real name server process, called through the real `dpns` command line:
// the shipped `dir` and `lb` modules loaded from a modules directory at start, and the admin's
// `dpns modules list|load|unload|reload`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { identifySignature, newOwnerKey, type ModuleInfo } from '@dpns/protocol';
import { makeTempDir, REPO_ROOT, RpcSession, runCli, startServerProcess, teardown, type CliResult, type ServerProcess } from './harness/index.js';

const SHIPPED = resolve(REPO_ROOT, 'modules');

let ns: ServerProcess;
let modulesDir: string;
before(async () => {
  // As an operator would: the shipped files copied into the data directory's modules.d.
  const dataDir = makeTempDir('dpns-mod-');
  modulesDir = join(dataDir, 'modules.d');
  mkdirSync(modulesDir);
  for (const f of ['dir.mjs', 'lb.mjs']) copyFileSync(join(SHIPPED, f), join(modulesDir, f));
  ns = await startServerProcess({ dataDir, args: ['--log-level', 'warn'] });
});
after(async () => {
  await teardown();
});

function dpns(args: string[], opts: { token?: boolean } = {}): Promise<CliResult> {
  return runCli(['--server', ns.server, ...args], { env: opts.token === false ? {} : { DPNS_TOKEN: ns.token } });
}

async function ok(args: string[], opts?: { token?: boolean }): Promise<string> {
  const r = await dpns(args, opts);
  assert.equal(r.code, 0, `dpns ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  assert.equal(r.stderr, '', `dpns ${args.join(' ')} wrote to stderr`);
  return r.stdout;
}

async function okJson<T>(args: string[], opts?: { token?: boolean }): Promise<T> {
  return JSON.parse(await ok(args, opts)) as T;
}

/** Exit 1 with exactly one line "dpns: CODE: ..." on stderr. */
async function refused(args: string[], code: string, opts?: { token?: boolean }): Promise<string> {
  const r = await dpns(args, opts);
  assert.equal(r.code, 1, `dpns ${args.join(' ')}: expected exit 1, got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^dpns: ${code}: [^\\n]+\\n$`), r.stderr);
  return r.stderr;
}

async function usage(args: string[]): Promise<void> {
  const r = await dpns(args);
  assert.equal(r.code, 2, `dpns ${args.join(' ')}: expected exit 2, got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /^dpns: [A-Z_]+: /);
}

test('the modules directory is loaded at start: dir and lb are running', async () => {
  const { modules } = await okJson<{ modules: ModuleInfo[] }>(['modules', 'list', '--json']);
  assert.deepEqual(modules.map((m) => [m.prefix, m.state, m.path]), [
    ['dir', 'running', join(modulesDir, 'dir.mjs')],
    ['lb', 'running', join(modulesDir, 'lb.mjs')],
  ]);
  assert.deepEqual(modules[0]?.methods.map((m) => m.name), ['register', 'unregister', 'lookup', 'list']);
  const table = (await ok(['modules', 'list'])).split('\n');
  assert.match(table[0] ?? '', /^PREFIX\s+STATE\s+VERSION\s+RESTARTS\s+CALLS\s+ERRORS\s+PATH\s+LAST-ERROR$/);
  assert.match(table[1] ?? '', /^dir\s+running\s+1\.1\.0\s+0\s+/);
  // Managing modules is for admins; calling them is for anyone.
  await refused(['modules', 'list'], 'UNAUTHORIZED', { token: false });
});

test('dir: a person\'s conferencing server, resolved from the registry in one call', async () => {
  await ok(['advertise', '/conf/room-1', '127.0.0.1', '7010']);
  await ok(['alias', '/conf/ann-room', '/conf/room-1']);
  // Anyone may look up; changing the directory needs an identity (see the owner test below).
  await refused(['call', 'dir.register', '{"person":"ann","server":"/conf/ann-room"}'], 'UNAUTHORIZED', { token: false });
  assert.deepEqual(await okJson(['call', 'dir.register', '{"person":"ann","server":"/conf/ann-room"}']), { person: 'ann', server: '/conf/ann-room' });
  // The alias is followed to the running service: the address comes from the registry, as find would give it.
  assert.deepEqual(await okJson(['call', 'dir.lookup', '{"person":"ann"}'], { token: false }), {
    person: 'ann', server: '/conf/ann-room', service: '/conf/room-1', host: '127.0.0.1', port: 7010,
  });
  // A change made after the module loaded reaches its copy of the registry.
  await ok(['advertise', '/conf/room-1', '127.0.0.2', '7011']);
  assert.equal((await okJson<{ host: string }>(['call', 'dir.lookup', '{"person":"ann"}'])).host, '127.0.0.2');

  await refused(['call', 'dir.lookup', '{"person":"bob"}'], 'NOT_FOUND');
  await ok(['call', 'dir.register', '{"person":"bob","server":"/conf/room-9"}']);
  assert.match(await refused(['call', 'dir.lookup', '{"person":"bob"}'], 'NOT_FOUND'), /room-9/);
  await ok(['add', '/conf/room-9', '--host', '127.0.0.1', '--program', '/bin/true']);
  assert.match(await refused(['call', 'dir.lookup', '{"person":"bob"}'], 'NOT_RUNNING'), /registered/);
  await refused(['call', 'dir.lookup', '{"who":"ann"}'], 'INVALID_PARAMS');
  await refused(['call', 'dir.register', '{"person":"carl","server":"no-slash"}'], 'INVALID_PARAMS');

  const { people } = await okJson<{ people: { person: string; server: string }[] }>(['call', 'dir.list']);
  assert.deepEqual(people.map((p) => [p.person, p.server]), [['ann', '/conf/ann-room'], ['bob', '/conf/room-9']]);
  assert.deepEqual(await okJson(['call', 'dir.unregister', '{"person":"bob"}']), { person: 'bob' });
  await refused(['call', 'dir.unregister', '{"person":"bob"}'], 'NOT_FOUND');
  // The directory is the module's own data, in its own file under the data directory.
  const stored = JSON.parse(readFileSync(join(ns.dataDir, 'modules', 'dir.json'), 'utf8')) as { data: Record<string, { server: string }> };
  assert.deepEqual(Object.keys(stored.data), ['person:ann']);
});

/** A raw connection that proved a fresh owner key with `identify`. */
async function identified(): Promise<{ session: RpcSession; owner: string }> {
  const session = await RpcSession.open(ns.url);
  const key = newOwnerKey();
  const a = await session.call('identify', { publicKey: key.publicKey, signature: identifySignature(key, session.hello.nonce) });
  assert.ok(a.ok, JSON.stringify(a));
  return { session, owner: key.publicKey };
}

test('dir: only the admin or the entry\'s owner changes an entry; an anonymous caller cannot overwrite or delete it', async () => {
  await ok(['advertise', '/conf/eve-room', '127.0.0.1', '7020']);
  await ok(['advertise', '/conf/mallory-room', '127.0.0.1', '7666']);
  const eve = await identified();
  const mallory = await identified();
  try {
    const reg = { person: 'eve', server: '/conf/eve-room' };
    assert.deepEqual(await eve.session.call('dir.register', reg), { ok: true, result: reg });
    const evil = '{"person":"eve","server":"/conf/mallory-room"}';
    // Anonymous, through the real command line: refused, whatever the method.
    await refused(['call', 'dir.register', evil], 'UNAUTHORIZED', { token: false });
    await refused(['call', 'dir.unregister', '{"person":"eve"}'], 'UNAUTHORIZED', { token: false });
    // Another owner: refused too.
    assert.equal((await mallory.session.call('dir.register', { person: 'eve', server: '/conf/mallory-room' })).ok, false);
    const del = await mallory.session.call('dir.unregister', { person: 'eve' });
    assert.ok(!del.ok && del.code === 'FORBIDDEN', JSON.stringify(del));
    // Eve's entry is as she left it.
    assert.equal((await okJson<{ port: number }>(['call', 'dir.lookup', '{"person":"eve"}'], { token: false })).port, 7020);
    const { people } = await okJson<{ people: { person: string; owner: string | null }[] }>(['call', 'dir.list'], { token: false });
    assert.equal(people.find((p) => p.person === 'eve')?.owner, eve.owner);
    // A new entry of another owner's is that owner's; the owner itself changes its own.
    assert.equal((await mallory.session.call('dir.register', { person: 'mallory', server: '/conf/mallory-room' })).ok, true);
    assert.equal((await eve.session.call('dir.register', { person: 'eve', server: '/conf/ann-room' })).ok, true);
    assert.equal((await eve.session.call('dir.unregister', { person: 'mallory' })).ok, false);
    // The admin may change anyone's, and keeps the owner.
    await ok(['call', 'dir.register', '{"person":"eve","server":"/conf/eve-room"}']);
    assert.equal((await eve.session.call('dir.unregister', { person: 'eve' })).ok, true);
    await ok(['call', 'dir.unregister', '{"person":"mallory"}']);
  } finally {
    eve.session.close();
    mallory.session.close();
  }
});

test('dir: the directory survives a restart of the name server', async () => {
  await ok(['call', 'dir.register', '{"person":"dana","server":"/conf/room-1"}']);
  ns = await ns.restart();
  const { people } = await okJson<{ people: { person: string }[] }>(['call', 'dir.list']);
  assert.ok(people.some((p) => p.person === 'dana'), JSON.stringify(people));
});

test('lb: takes turns among the running services that match, and refuses when none runs', async () => {
  for (const i of [1, 2, 3]) await ok(['advertise', `/lb/s${i}`, '127.0.0.1', String(7100 + i)]);
  await ok(['add', '/lb/s4', '--host', '127.0.0.1', '--program', '/bin/true']);
  const picks: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await okJson<{ service: string; port: number; how: string }>(['call', 'lb.pick', '{"pattern":"/lb/*"}'], { token: false });
    assert.equal(r.how, 'round-robin');
    picks.push(r.service);
  }
  assert.deepEqual([...picks].sort(), ['/lb/s1', '/lb/s1', '/lb/s2', '/lb/s2', '/lb/s3', '/lb/s3']);
  await refused(['call', 'lb.pick', '{"pattern":"/nothing/*"}'], 'NOT_RUNNING');
  await refused(['call', 'lb.pick', '{"pattern":"/lb/["}'], 'INVALID_PATTERN');
});

test('lb: the least-loaded service when entries report a load (the module file, with a registry that has loads)', async () => {
  const lb = (await import(pathToFileURL(join(SHIPPED, 'lb.mjs')).href)) as {
    handlers: { pick(params: unknown, ctx: unknown): { service: string; load?: number; how: string } };
  };
  const entries: Record<string, { load?: number }> = { '/w/a': { load: 3 }, '/w/b': { load: 1 }, '/w/c': { load: 1 }, '/w/d': {} };
  const ctx = {
    registry: {
      find: () => Object.keys(entries).map((name) => ({ name, service: name, host: 'h', port: 1 })),
      get: (name: string) => entries[name],
    },
    error: (code: string, message: string) => Object.assign(new Error(message), { code }),
  };
  const picks = [0, 1, 2, 3].map(() => lb.handlers.pick({ pattern: '/w/*' }, ctx));
  assert.deepEqual(picks.map((p) => [p.service, p.load, p.how]), [
    ['/w/b', 1, 'load'], ['/w/c', 1, 'load'], ['/w/b', 1, 'load'], ['/w/c', 1, 'load'],
  ]);
  assert.throws(() => lb.handlers.pick({}, ctx), (e: { code?: string }) => e.code === 'INVALID_PARAMS');
});

test('dpns modules load, reload and unload at run time; calls follow', async () => {
  const dir = makeTempDir('dpns-mod-extra-');
  const file = join(dir, 'greet.mjs');
  const write = (version: string, greeting: string): void => writeFileSync(file, [
    `export const manifest = { prefix: 'greet', version: '${version}', methods: { hi: { description: 'greets' }, secret: { description: 'admins only', admin: true } } };`,
    `export const handlers = { hi: (p) => ({ greeting: '${greeting}', to: p.name ?? 'you' }), secret: () => 42 };`,
  ].join('\n'));
  write('1.0.0', 'hello');
  assert.match(await ok(['modules', 'load', file]), /^loaded greet 1\.0\.0 from .*greet\.mjs \(methods: hi, secret\)\n$/);
  assert.deepEqual(await okJson(['call', 'greet.hi', '{"name":"ann"}'], { token: false }), { greeting: 'hello', to: 'ann' });
  assert.deepEqual(await okJson(['call', 'greet.hi'], { token: false }), { greeting: 'hello', to: 'you' });
  await refused(['call', 'greet.secret'], 'UNAUTHORIZED', { token: false });
  assert.equal(await okJson(['call', 'greet.secret']), 42);
  await refused(['modules', 'load', file], 'ALREADY_EXISTS');

  write('2.0.0', 'hi there');
  const reloaded = await okJson<{ module: ModuleInfo }>(['modules', 'reload', 'greet', '--json']);
  assert.equal(reloaded.module.version, '2.0.0');
  assert.equal(reloaded.module.state, 'running');
  assert.deepEqual(await okJson(['call', 'greet.hi']), { greeting: 'hi there', to: 'you' });

  assert.equal(await ok(['modules', 'unload', 'greet']), 'unloaded greet\n');
  await refused(['call', 'greet.hi'], 'METHOD_NOT_FOUND');
  await refused(['modules', 'unload', 'greet'], 'NOT_FOUND');
  await refused(['modules', 'load', join(dir, 'missing.mjs')], 'NOT_FOUND');
  await refused(['call', 'dir.nosuch'], 'METHOD_NOT_FOUND');
  await refused(['call', 'nosuch.x'], 'METHOD_NOT_FOUND');
});

test('dpns call and dpns modules: bad usage exits 2 before anything is sent', async () => {
  for (const args of [
    ['call'], ['call', 'dir'], ['call', 'Dir.lookup'], ['call', 'register.add', '{}'], ['call', 'dir.lookup', 'not json'],
    ['call', 'dir.lookup', '"ann"'], ['modules'], ['modules', 'frob'], ['modules', 'load'], ['modules', 'unload'], ['modules', 'list', 'extra'],
  ]) {
    await usage(args);
  }
  const help = await dpns(['call', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /PREFIX\.METHOD/);
  const json = await dpns(['call', 'dir.lookup', 'nope', '--json']);
  assert.equal(json.code, 2);
  assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'USAGE');
});
