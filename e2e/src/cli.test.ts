// The real `dpns` command line against the real name server, both as child processes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { makeTempDir, runCli, spawnCli, startServerProcess, teardown, type CliResult, type ServerProcess } from './harness/index.js';

let ns: ServerProcess;
before(async () => {
  ns = await startServerProcess({ args: ['--log-level', 'warn'] });
});
after(async () => {
  await teardown();
});

/** `dpns --server <ns> ...args`, as admin unless `token: false`. */
function dpns(args: string[], opts: { token?: boolean; env?: Record<string, string> } = {}): Promise<CliResult> {
  const env = { ...(opts.token === false ? {} : { DPNS_TOKEN: ns.token }), ...opts.env };
  return runCli(['--server', ns.server, ...args], { env });
}

/** Asserts exit 0 and returns stdout's lines. */
async function ok(args: string[], opts?: { token?: boolean; env?: Record<string, string> }): Promise<string[]> {
  const r = await dpns(args, opts);
  assert.equal(r.code, 0, `dpns ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  assert.equal(r.stderr, '', `dpns ${args.join(' ')} wrote to stderr`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Asserts a refusal: exit 1 and exactly one line "dpns: CODE: ..." on stderr. */
async function refused(args: string[], code: string, opts?: { token?: boolean; env?: Record<string, string> }): Promise<CliResult> {
  const r = await dpns(args, opts);
  assert.equal(r.code, 1, `dpns ${args.join(' ')}: expected exit 1, got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^dpns: ${code}: [^\\n]+\\n$`), r.stderr);
  return r;
}

function json<T>(r: CliResult | string[]): T {
  return JSON.parse(Array.isArray(r) ? r.join('\n') : r.stdout) as T;
}

test('add, info, state, edit, delete of an auto-start service', async () => {
  assert.deepEqual(await ok(['add', '/cli/svc', '--host', 'node1', '--program', '/opt/svc', '--arg=-v', '--arg', 'two words',
    '--env', 'A=1', '--env', 'B=x=y', '--cwd', '/srv', '--user', 'svc-demo', '--start-timeout', '2000']), ['added /cli/svc']);
  const info = json<{ entry: { kind: string; state: string; spec: Record<string, unknown> }; aliases: string[] }>(await ok(['info', '/cli/svc', '--json']));
  assert.equal(info.entry.state, 'registered');
  assert.deepEqual(info.entry.spec, {
    host: 'node1', program: '/opt/svc', args: ['-v', 'two words'], env: { A: '1', B: 'x=y' }, cwd: '/srv', user: 'svc-demo', startTimeoutMs: 2000,
  });
  const human = await ok(['info', '/cli/svc']);
  assert.ok(human.includes('state:         registered'), human.join('\n'));
  assert.ok(human.some((l) => /^args:\s+"-v" "two words"$/.test(l)), human.join('\n'));

  await ok(['edit', '/cli/svc', '--program', '/opt/svc2', '--unset-cwd', '--unset-user']);
  const edited = json<{ entry: { spec: Record<string, unknown> } }>(await ok(['info', '/cli/svc', '--json'])).entry.spec;
  assert.equal(edited.program, '/opt/svc2');
  assert.equal(edited.cwd, undefined);
  assert.equal(edited.user, undefined);
  assert.deepEqual(edited.args, ['-v', 'two words']);

  await refused(['add', '/cli/svc', '--host', 'h', '--program', '/p'], 'ALREADY_EXISTS');
  assert.deepEqual(await ok(['delete', '/cli/svc']), ['deleted /cli/svc']);
  await refused(['info', '/cli/svc'], 'NOT_FOUND');
  await refused(['delete', '/cli/svc'], 'NOT_FOUND');
});

test('aliases: find follows chains, info shows where they lead, cycles are refused', async () => {
  await ok(['advertise', '/al/real', '127.0.0.1', '9100']);
  await ok(['alias', '/al/one', '/al/real']);
  await ok(['alias', '/al/two', '/al/one']);
  assert.deepEqual(await ok(['find', '/al/two']), ['/al/two 127.0.0.1 9100']);
  assert.deepEqual(await ok(['find', '/al/one']), ['/al/one 127.0.0.1 9100']);
  const info = json<{ resolved: string; entry: { target: string } }>(await ok(['info', '/al/two', '--json']));
  assert.equal(info.entry.target, '/al/one');
  assert.equal(info.resolved, '/al/real');
  assert.deepEqual(json<{ aliases: string[] }>(await ok(['info', '/al/real', '--json'])).aliases, ['/al/one']);
  await refused(['alias', '/al/one', '/al/two'], 'ALIAS_CYCLE');
  await refused(['alias', '/al/self', '/al/self'], 'ALIAS_CYCLE');
  await refused(['alias', '/al/x', '/al/missing'], 'NOT_FOUND');
  await refused(['delete', '/al/real'], 'IN_USE');
});

test('find and list with names and patterns', async () => {
  for (const [n, port] of [['/demo/a', 1], ['/demo/b', 2], ['/demo/bc', 3], ['/demo/x/deep', 4], ['/other/a', 5]] as const) {
    await ok(['advertise', n, '127.0.0.1', String(9200 + port)]);
  }
  assert.deepEqual(await ok(['list', '/demo/*']), ['/demo/a', '/demo/b', '/demo/bc', '/demo/x/deep']);
  assert.deepEqual(await ok(['list', '/demo/?']), ['/demo/a', '/demo/b']);
  assert.deepEqual(await ok(['list', '/demo/[a-b]*']), ['/demo/a', '/demo/b', '/demo/bc']);
  assert.deepEqual(await ok(['list', '/nothing/*']), []);
  assert.deepEqual(await ok(['find', '/demo/b']), ['/demo/b 127.0.0.1 9202']);
  assert.deepEqual(await ok(['find', '/demo/b*']), ['/demo/b 127.0.0.1 9202', '/demo/bc 127.0.0.1 9203']);
  const found = json<{ services: { name: string; service: string; host: string; port: number }[] }>(await ok(['find', '/other/*', '--json']));
  assert.deepEqual(found.services, [{ name: '/other/a', service: '/other/a', host: '127.0.0.1', port: 9205 }]);
  assert.deepEqual(json<{ names: string[] }>(await ok(['list', '/demo/?', '--json'])).names, ['/demo/a', '/demo/b']);
  await refused(['find', '/demo/none'], 'NOT_FOUND');
});

test('state prints an aligned table, and --json the entries', async () => {
  await ok(['add', '/st/auto', '--host', 'node1', '--program', '/opt/auto']);
  await ok(['advertise', '/st/web', '127.0.0.1', '8080']);
  await ok(['alias', '/st/www', '/st/web']);
  const lines = await ok(['state', '/st/*']);
  assert.equal(lines.length, 4);
  const header = lines[0] ?? '';
  assert.match(header, /^NAME\s+KIND\s+STATE\s+HOST\s+PORT\s+LOAD\s+SINCE\s+REASON\/TARGET$/);
  // Every column starts at the same offset on every line.
  for (const col of ['KIND', 'STATE', 'HOST', 'PORT', 'LOAD', 'SINCE']) {
    const at = header.indexOf(col);
    for (const l of lines.slice(1)) assert.notEqual(l[at - 1], undefined);
    for (const l of lines.slice(1)) assert.equal(l[at - 1], ' ', `column ${col} misaligned in ${JSON.stringify(l)}`);
  }
  assert.match(lines[1] ?? '', /^\/st\/auto\s+service\s+registered\s+-\s+-\s+-\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+-$/);
  assert.match(lines[2] ?? '', /^\/st\/web\s+service\s+running\s+127\.0\.0\.1\s+8080\s+-\s+\S+Z\s+-$/);
  assert.match(lines[3] ?? '', /^\/st\/www\s+alias\s+-\s+-\s+-\s+-\s+\S+Z\s+-> \/st\/web$/);
  const entries = json<{ entries: { name: string; kind: string }[] }>(await ok(['state', '/st/*', '--json'])).entries;
  assert.deepEqual(entries.map((e) => `${e.kind} ${e.name}`), ['service /st/auto', 'service /st/web', 'alias /st/www']);
});

test('static advertise and unadvertise', async () => {
  assert.deepEqual(await ok(['advertise', '/adv/printer', '10.0.0.7', '9100']), ['advertised /adv/printer at 10.0.0.7:9100 (static)']);
  assert.deepEqual(await ok(['find', '/adv/printer'], { token: false }), ['/adv/printer 10.0.0.7 9100']);
  const st = json<{ entries: { advertiser?: { kind: string } }[] }>(await ok(['state', '/adv/printer', '--json']));
  assert.equal(st.entries[0]?.advertiser?.kind, 'static');
  assert.deepEqual(await ok(['unadvertise', '/adv/printer']), ['unadvertised /adv/printer']);
  assert.deepEqual(await ok(['list', '/adv/*']), []);
  await refused(['unadvertise', '/adv/printer'], 'NOT_FOUND');
});

test('admin operations without the token are refused: exit 1, UNAUTHORIZED, no usage text', async () => {
  for (const args of [
    ['add', '/na/x', '--host', 'h', '--program', '/p'], ['delete', '/na/x'], ['edit', '/na/x', '--program', '/q'],
    ['alias', '/na/y', '/na/x'], ['info', '/na/x'], ['advertise', '/na/x', '127.0.0.1', '1'],
  ]) {
    const r = await refused(args, 'UNAUTHORIZED', { token: false });
    assert.equal(r.stdout, '');
  }
  const r = await refused(['info', '/na/x', '--json'], 'UNAUTHORIZED', { token: false });
  assert.equal(json<{ error: { code: string } }>(r).error.code, 'UNAUTHORIZED');
  // A wrong token is refused too, and says the login failed.
  const wrong = await refused(['info', '/na/x'], 'UNAUTHORIZED', { token: false, env: { DPNS_TOKEN: 'wrong' } });
  assert.match(wrong.stderr, /login with the given token was refused/);
});

test('the token from --token-file, DPNS_TOKEN_FILE and the deprecated --token (which warns)', async () => {
  const dir = makeTempDir();
  const file = join(dir, 'token');
  writeFileSync(file, `${ns.token}\n`);
  const flag = await dpns(['--token', ns.token, 'add', '/tok/a', '--host', 'h', '--program', '/p'], { token: false });
  assert.equal(flag.code, 0, flag.stderr);
  assert.match(flag.stderr, /^dpns: warning: --token puts the admin token on the command line, where every user of this host can read it/);
  await ok(['--token-file', file, 'add', '/tok/b', '--host', 'h', '--program', '/p'], { token: false });
  await ok(['add', '/tok/c', '--host', 'h', '--program', '/p'], { token: false, env: { DPNS_TOKEN_FILE: ns.tokenPath } });
  assert.deepEqual(await ok(['list', '/tok/*']), ['/tok/a', '/tok/b', '/tok/c']);
  const missing = await dpns(['--token-file', join(dir, 'nope'), 'info', '/tok/a'], { token: false });
  assert.equal(missing.code, 2);
});

test('bad usage exits 2 with one line and no connection attempt', async () => {
  for (const args of [
    [], ['frobnicate'], ['list', '--frobnicate'], ['find'], ['alias', '/a'], ['advertise', '/a', 'h'], ['advertise', '/a', 'h', '0'],
    ['add', '/a', '--program', '/p'], ['add', '/a', '--host', 'h', '--program', '/p', '--env', 'NOEQUALS'],
    ['add', '/a', '--host', 'h', '--program', '/p', '--start-timeout', 'soon'], ['edit', '/a'], ['list', '--timeout', '-5'],
  ]) {
    const r = await runCli(['--server', '127.0.0.1:1', ...args]);
    assert.equal(r.code, 2, `dpns ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^dpns: [^\n]+\n$/, `dpns ${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /CONNECTION_LOST/);
  }
});

test('bad names and patterns exit 2 before connecting', async () => {
  for (const [args, code] of [
    [['find', 'no-slash'], 'INVALID_NAME'], [['info', '/a//b'], 'INVALID_NAME'], [['delete', '/a/../b'], 'INVALID_NAME'],
    [['alias', '/ok', '/bad name'], 'INVALID_NAME'], [['advertise', '/trailing/', 'h', '1'], 'INVALID_NAME'],
    [['list', '/a/[b'], 'INVALID_PATTERN'], [['state', '/x\\'], 'INVALID_PATTERN'], [['watch', '[z'], 'INVALID_PATTERN'],
  ] as const) {
    // Port 1 refuses connections: exit 2 (not 1, CONNECTION_LOST) proves nothing was dialled.
    const r = await runCli(['--server', '127.0.0.1:1', ...args, '--json']);
    assert.equal(r.code, 2, `dpns ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^dpns: ${code}: [^\\n]+\\n$`));
    assert.equal(json<{ error: { code: string } }>(r).error.code, code);
  }
});

test('--json output is one parseable document', async () => {
  await ok(['advertise', '/js/a', '127.0.0.1', '7000']);
  for (const args of [['list', '/js/*'], ['find', '/js/a'], ['state', '/js/*'], ['info', '/js/a'], ['ping']]) {
    const out = await ok([...args, '--json']);
    assert.doesNotThrow(() => json(out), `dpns ${args.join(' ')} --json`);
  }
  const ping = json<{ server: string; revision: number }>(await ok(['ping', '--json']));
  assert.equal(ping.server, ns.server);
  assert.equal(typeof ping.revision, 'number');
  const err = await refused(['find', '/js/missing', '--json'], 'NOT_FOUND');
  assert.deepEqual(Object.keys(json<{ error: { code: string; message: string } }>(err).error), ['code', 'message']);
});

test('watch prints a change made by another command, and exits 0 on SIGINT and SIGTERM', async () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const w = spawnCli(['--server', ns.server, 'watch', '/watched/*']);
    await w.stderr.waitFor(/^dpns: watching \/watched\/\* from revision \d+/);
    await ok(['advertise', `/watched/${signal}`, '127.0.0.1', '7100']);
    const line = await w.stdout.waitFor(`/watched/${signal}`);
    assert.match(line, new RegExp(`^\\d+ put /watched/${signal} service running 127\\.0\\.0\\.1 7100$`));
    await ok(['unadvertise', `/watched/${signal}`]);
    assert.match(await w.stdout.waitFor(/ delete /), new RegExp(`^\\d+ delete /watched/${signal}$`));
    const r = await w.stop(signal);
    assert.equal(r.code, 0, r.stderr);
  }
});

test('watch --initial --json: current entries first, one JSON object per line', async () => {
  await ok(['advertise', '/wj/a', '127.0.0.1', '7200']);
  const w = spawnCli(['--server', ns.server, 'watch', '/wj/*', '--initial', '--json']);
  const first = JSON.parse(await w.stdout.waitFor('/wj/a')) as { source: string; type: string; name: string };
  assert.deepEqual([first.source, first.type, first.name], ['initial', 'put', '/wj/a']);
  await w.stderr.waitFor('watching');
  await ok(['advertise', '/wj/b', '127.0.0.1', '7201']);
  const second = JSON.parse(await w.stdout.waitFor('/wj/b')) as { source: string; entry: { port: number } };
  assert.equal(second.source, 'change');
  assert.equal(second.entry.port, 7201);
  const r = await w.stop('SIGINT');
  assert.equal(r.code, 0);
});

test('DPNS_SERVERS with the first endpoint dead still works', async () => {
  await ok(['advertise', '/ds/a', '127.0.0.1', '7300']);
  const r = await runCli(['list', '/ds/*'], { env: { DPNS_SERVERS: `127.0.0.1:1,${ns.server}` } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '/ds/a\n');
  // --server wins over DPNS_SERVERS.
  const r2 = await runCli(['--server', ns.server, 'list', '/ds/*'], { env: { DPNS_SERVERS: '127.0.0.1:1' } });
  assert.equal(r2.stdout, '/ds/a\n');
});

test('no reachable server: exit 1 with the servers tried', async () => {
  // A port that was free a moment ago, not the default 7700, which a developer may be using.
  const dead = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
  const r = await runCli(['list'], { env: { DPNS_SERVERS: `127.0.0.1:${dead}` } });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `dpns: CONNECTION_LOST: cannot reach any name server (tried 127.0.0.1:${dead}: ECONNREFUSED)\n`);
  const r2 = await runCli(['--server', '127.0.0.1:1', '--server', '127.0.0.1:2', 'ping', '--json']);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /\(tried 127\.0\.0\.1:1: ECONNREFUSED, 127\.0\.0\.1:2: ECONNREFUSED\)\n$/);
  assert.equal(json<{ error: { code: string } }>(r2).error.code, 'CONNECTION_LOST');
});

test('--help on every command, with examples; --version', async () => {
  const commands = ['list', 'find', 'state', 'watch', 'advertise', 'unadvertise', 'add', 'delete', 'edit', 'alias', 'info', 'ping'];
  const results = await Promise.all([[], ...commands.map((c) => [c])].map((c) => runCli([...c, '--help'])));
  results.forEach((r, i) => {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Examples:/, `help for ${commands[i - 1] ?? 'dpns'}`);
  });
  // Wrapped at word boundaries, never inside a word (yargs 17 under ESM broke "kil/l").
  const top = results[0]?.stdout.replace(/\n\s*/g, ' ') ?? '';
  assert.match(top, /launch, kill and reset them/);
  const words = new Set((results[0]?.stdout ?? '').split(/[^A-Za-z]+/));
  for (const broken of ['kil', 'ru', 'WebSocke', 'POR']) assert.ok(!words.has(broken), `no word broken at a line end: ${broken}`);
  const v = await runCli(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
});
