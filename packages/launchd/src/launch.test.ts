// Launching real fixture programs: the ticket line on stdin, the process group, the environment,
// the log file, the user, and the precise refusals.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as wire from './wire.js';
import { parsePasswd } from './run-as.js';
import { procStat } from './proc.js';
import {
  exchange, fixture, launchOp, MARKER, readIfExists, signed, startTestAgent, TICKET_WRITER, until, type TestAgent, type TestAgentOptions,
} from './agent.test.helper.js';

const isRoot = process.getuid?.() === 0;

let t: TestAgent | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function setup(opts: TestAgentOptions = {}): Promise<TestAgent> {
  t = await startTestAgent({
    allow: (dir) => [{ name: 'writer', path: join(dir, 'writer.js') }, { path: join(dir, 'marker.js') }, { path: join(dir, 'envdump.js') }, { path: join(dir, 'badinterp.js') }],
    ...opts,
  });
  await fixture(t.dir, 'writer.js', TICKET_WRITER);
  await fixture(t.dir, 'marker.js', MARKER);
  await fixture(t.dir, 'envdump.js', `
require('node:fs').writeFileSync(process.argv[2], JSON.stringify({ env: process.env, cwd: process.cwd(), uid: process.getuid(), gid: process.getgid(), groups: process.getgroups() }));
setInterval(() => {}, 1 << 30);`);
  await writeFile(join(t.dir, 'badinterp.js'), '#!/nonexistent/interpreter\n', { mode: 0o755 });
  return t;
}

async function launchWith(a: TestAgent, f: Parameters<typeof launchOp>[1]): Promise<{ reply: wire.AgentReplyFor<'launch'>; line: string; launchId: string }> {
  let line = '';
  let launchId = '';
  const ex = await exchange(a.url, (hello) => {
    const l = launchOp(hello, f);
    line = l.line;
    launchId = l.op.launchId;
    return signed(a.nsKey, hello, l.op);
  });
  return { reply: wire.parseAgentReply(ex.reply, 'launch'), line, launchId };
}

test('a launched program reads exactly the decrypted ticket line on stdin, runs in its own process group, and is in the ledger', async () => {
  const a = await setup();
  const out = join(a.outDir, 'ticket');
  const { reply, line, launchId } = await launchWith(a, { service: '/demo/echo', program: 'writer', args: [out] });
  assert.ok(reply.ok, JSON.stringify(reply));
  await until(async () => (await readIfExists(out)) !== undefined, 5000, 'the ticket file');
  assert.equal(await readFile(out, 'utf8'), `${line}\n`, 'exactly the ticket line and a newline');
  assert.deepEqual(wire.parseTicketLine(await readFile(out, 'utf8')).service, '/demo/echo');

  const st = await procStat(reply.pid);
  assert.ok(st, 'the child runs');
  assert.equal(st.pgrp, reply.pid, 'it leads its own process group');
  assert.notEqual(st.pgrp, (await procStat(process.pid))?.pgrp);
  assert.equal(st.startTime, reply.startTime);

  const entry = a.agent.ledger?.find(launchId);
  assert.ok(entry);
  assert.equal(entry.pid, reply.pid);
  assert.equal(entry.pgid, reply.pid);
  assert.equal(entry.program, join(a.dir, 'writer.js'));
  const onDisk = JSON.parse(await readFile(join(a.stateDir, 'ledger.json'), 'utf8')) as { entries: wire.AgentLedgerEntry[] };
  assert.deepEqual(onDisk.entries.map((e) => e.launchId), [launchId], 'the ledger is on disk before the reply');
});

test('the child gets a minimal environment with the spec\'s env, DPNS_SERVICE and DPNS_SERVERS, and its output goes to the log file', async () => {
  const a = await setup();
  process.env.DPNS_LAUNCHD_TEST_SECRET = 'must-not-leak';
  const out = join(a.outDir, 'env');
  const { reply } = await launchWith(a, { service: '/demo/env', program: join(a.dir, 'envdump.js'), args: [out], env: { GREETING: 'hi', DPNS_SERVICE: '/forged', DPNS_HOST: 'forged.example' }, cwd: a.outDir });
  delete process.env.DPNS_LAUNCHD_TEST_SECRET;
  assert.ok(reply.ok, JSON.stringify(reply));
  await until(async () => (await readIfExists(out)) !== undefined, 5000, 'the env file');
  const got = JSON.parse(await readFile(out, 'utf8')) as { env: Record<string, string>; cwd: string };
  assert.equal(got.env.GREETING, 'hi');
  assert.equal(got.env.DPNS_SERVICE, '/demo/env', 'the agent\'s DPNS_SERVICE wins over the spec\'s');
  assert.equal(got.env.DPNS_SERVERS, '127.0.0.1:7700');
  assert.equal(got.env.DPNS_HOST, '127.0.0.1', 'DPNS_HOST is the host the request was meant for');
  assert.equal(got.env.DPNS_LAUNCHD_TEST_SECRET, undefined, 'the agent\'s own environment is not passed on');
  assert.equal(got.cwd, a.outDir);
  assert.ok(got.env.LANG);
});

test('stdout and stderr are appended to <logsDir>/<service with / as _>.log', async () => {
  const a = await setup({ allow: (dir) => [{ path: join(dir, 'talk.js') }] });
  await fixture(a.dir, 'talk.js', `console.log('to stdout'); console.error('to stderr'); setInterval(() => {}, 1 << 30);`);
  const { reply } = await launchWith(a, { service: '/demo/talk', program: join(a.dir, 'talk.js') });
  assert.ok(reply.ok, JSON.stringify(reply));
  const log = join(a.stateDir, 'logs', '_demo_talk.log');
  await until(async () => /to stderr/.test((await readIfExists(log)) ?? ''), 5000, 'the log file');
  assert.match(await readFile(log, 'utf8'), /to stdout/);
});

test('refusals before anything starts: NOT_ALLOWED, NOT_FOUND (program and cwd), SPAWN_FAILED with the OS error', async () => {
  const a = await setup({ allow: (dir) => [{ path: join(dir, 'missing.js') }, { path: join(dir, 'badinterp.js') }, { path: join(dir, 'marker.js') }] });
  await fixture(a.dir, 'marker.js', MARKER);
  await writeFile(join(a.dir, 'badinterp.js'), '#!/nonexistent/interpreter\n', { mode: 0o755 });
  const cases: [Parameters<typeof launchOp>[1], string, RegExp][] = [
    [{ program: 'rm', args: ['-rf', '/'] }, 'NOT_ALLOWED', /not a short name in this agent's allow map/],
    [{ program: join(a.dir, 'missing.js') }, 'NOT_FOUND', /does not exist on this host/],
    [{ program: join(a.dir, 'marker.js'), cwd: join(a.dir, 'no-such-dir'), args: [join(a.outDir, 'm')] }, 'NOT_FOUND', /working directory/],
    [{ program: join(a.dir, 'badinterp.js') }, 'SPAWN_FAILED', /ENOENT.*interpreter/],
  ];
  for (const [f, code, message] of cases) {
    const { reply } = await launchWith(a, f);
    assert.equal(reply.ok, false, `${f.program}: ${JSON.stringify(reply)}`);
    assert.equal((reply as wire.AgentErrorReply).code, code, `${f.program}: ${JSON.stringify(reply)}`);
    assert.match((reply as wire.AgentErrorReply).message, message);
  }
  assert.deepEqual(a.agent.ledger?.entries(), []);
  assert.equal(await readIfExists(join(a.outDir, 'm')), undefined);
});

test('as root, a launch runs as the default user (nobody) with no supplementary groups, never as root unless allowed', { skip: isRoot ? false : 'needs root to switch users' }, async () => {
  const a = await setup({ users: ['daemon'] });
  const nobody = parsePasswd(await readFile('/etc/passwd', 'utf8'), 'nobody');
  assert.ok(nobody, 'this host has a nobody user');

  const out = join(a.outDir, 'ids');
  const { reply } = await launchWith(a, { program: join(a.dir, 'envdump.js'), args: [out] });
  assert.ok(reply.ok, JSON.stringify(reply));
  await until(async () => (await readIfExists(out)) !== undefined, 5000, 'the ids file');
  const got = JSON.parse(await readFile(out, 'utf8')) as { uid: number; gid: number; groups: number[]; env: Record<string, string> };
  assert.equal(got.uid, nobody.uid);
  assert.equal(got.gid, nobody.gid);
  assert.deepEqual(got.groups.filter((g) => g !== nobody.gid), [], 'root\'s groups are not kept');
  assert.equal(got.env.USER, 'nobody');
  assert.equal(a.agent.ledger?.entries()[0]?.user, 'nobody');

  for (const [user, why] of [['root', /needs "root" in the agent's "users"/], ['mail', /not in this agent's "users"/]] as const) {
    const r = await launchWith(a, { program: join(a.dir, 'marker.js'), args: [join(a.outDir, `as-${user}`)], user });
    assert.equal(r.reply.ok, false);
    assert.equal((r.reply as wire.AgentErrorReply).code, 'NOT_ALLOWED');
    assert.match((r.reply as wire.AgentErrorReply).message, why);
    assert.equal(await readIfExists(join(a.outDir, `as-${user}`)), undefined);
  }
  const asDaemon = await launchWith(a, { program: join(a.dir, 'envdump.js'), args: [join(a.outDir, 'daemon')], user: 'daemon' });
  assert.ok(asDaemon.reply.ok, JSON.stringify(asDaemon.reply));
});

test('as root, a program the run-as user may not execute is SPAWN_FAILED with EACCES, named precisely', { skip: isRoot ? false : 'needs root to switch users' }, async () => {
  const a = await setup({ allow: (dir) => [{ path: join(dir, 'private', 'tool.js') }] });
  await mkdir(join(a.dir, 'private'), { mode: 0o700 });
  await fixture(join(a.dir, 'private'), 'tool.js', MARKER);
  const { reply } = await launchWith(a, { program: join(a.dir, 'private', 'tool.js'), args: [join(a.outDir, 'private-ran')] });
  assert.equal(reply.ok, false, JSON.stringify(reply));
  assert.equal((reply as wire.AgentErrorReply).code, 'SPAWN_FAILED');
  assert.match((reply as wire.AgentErrorReply).message, /as nobody: .*EACCES.*permission denied/);
  assert.deepEqual(a.agent.ledger?.entries(), []);
});

test('as root with "root" in users, a launch may run as root', { skip: isRoot ? false : 'needs root' }, async () => {
  const a = await setup({ users: ['root'] });
  const out = join(a.outDir, 'root-ids');
  const { reply } = await launchWith(a, { program: join(a.dir, 'envdump.js'), args: [out], user: 'root' });
  assert.ok(reply.ok, JSON.stringify(reply));
  await until(async () => (await readIfExists(out)) !== undefined, 5000, 'the ids file');
  assert.equal((JSON.parse(await readFile(out, 'utf8')) as { uid: number }).uid, 0);
});
