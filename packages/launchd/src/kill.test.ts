// Kill: SIGTERM to the group, SIGKILL after the grace period, and never a process the agent did
// not launch.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as wire from './wire.js';
import {
  alive, exchange, fixture, launchOp, readIfExists, request, signed, startTestAgent, STUBBORN, TICKET_WRITER, until, type TestAgent,
} from './agent.test.helper.js';

let t: TestAgent | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function setup(): Promise<TestAgent> {
  t = await startTestAgent({ allow: (dir) => [{ name: 'writer', path: join(dir, 'writer.js') }, { name: 'stubborn', path: join(dir, 'stubborn.js') }] });
  await fixture(t.dir, 'writer.js', TICKET_WRITER);
  await fixture(t.dir, 'stubborn.js', STUBBORN);
  return t;
}

async function launched(a: TestAgent, program: string, ready: string): Promise<{ pid: number; launchId: string; service: string }> {
  let launchId = '';
  const service = `/test/${program}`;
  const ex = await exchange(a.url, (hello) => {
    const { op } = launchOp(hello, { service, program, args: [ready] });
    launchId = op.launchId;
    return signed(a.nsKey, hello, op);
  });
  const reply = wire.parseAgentReply(ex.reply, 'launch');
  assert.ok(reply.ok, ex.reply);
  await until(async () => (await readIfExists(ready)) !== undefined, 5000, `${program} ready`);
  return { pid: reply.pid, launchId, service };
}

function killOp(p: { pid: number; launchId: string; service: string }, graceMs?: number): wire.AgentKillOp {
  return { op: 'kill', service: p.service, launchId: p.launchId, pid: p.pid, ...(graceMs === undefined ? {} : { graceMs }) };
}

test('kill sends SIGTERM to the process group; a program that exits on it is reported killed by SIGTERM', async () => {
  const a = await setup();
  const p = await launched(a, 'writer', join(a.outDir, 'w'));
  const reply = await request(a, () => killOp(p, 5000));
  assert.deepEqual(reply, { type: 'reply', ok: true, killed: true, signal: 'SIGTERM', alreadyGone: false });
  assert.equal(await alive(p.pid), false);
  assert.equal(a.agent.ledger?.find(p.launchId), undefined, 'the entry leaves the ledger');

  const again = await request(a, () => killOp(p, 5000));
  assert.deepEqual(again, { type: 'reply', ok: true, killed: false, alreadyGone: true }, 'a second kill says it is already gone');
});

test('a program that ignores SIGTERM gets SIGKILL after the grace period', async () => {
  const a = await setup();
  const p = await launched(a, 'stubborn', join(a.outDir, 's'));
  const t0 = Date.now();
  const reply = await request(a, () => killOp(p, 300));
  assert.deepEqual(reply, { type: 'reply', ok: true, killed: true, signal: 'SIGKILL', alreadyGone: false });
  assert.ok(Date.now() - t0 >= 300, 'it waited the grace period first');
  assert.equal(await alive(p.pid), false);
});

test('kill of a pid the agent never launched (the test runner itself) is NOT_LAUNCHED and signals nothing', async () => {
  const a = await setup();
  const p = await launched(a, 'writer', join(a.outDir, 'w2'));
  const forged = await request(a, () => ({ op: 'kill', service: '/test/writer', launchId: wire.newLaunchId(), pid: process.pid, graceMs: 0 }));
  assert.equal(forged.ok, false);
  assert.equal((forged as wire.AgentErrorReply).code, 'NOT_LAUNCHED');
  assert.match((forged as wire.AgentErrorReply).message, /nothing was signalled/);
  // The right launch id with another pid is refused too.
  const swapped = await request(a, () => ({ ...killOp(p), pid: process.pid }));
  assert.equal((swapped as wire.AgentErrorReply).code, 'NOT_LAUNCHED');
  assert.equal(await alive(process.pid), true);
  assert.equal(await alive(p.pid), true, 'the launched process is untouched too');
  const line = a.logs.find((l) => l.msg === 'refused' && l.code === 'NOT_LAUNCHED');
  assert.ok(line, 'the refusal is logged');
});

test('status lists the ledger, and a process that exits on its own leaves it', async () => {
  const a = await setup();
  const p = await launched(a, 'writer', join(a.outDir, 'w3'));
  const status = await request(a, () => ({ op: 'status' }));
  assert.ok(status.ok);
  assert.deepEqual(status.entries.map((e) => [e.launchId, e.pid, e.service]), [[p.launchId, p.pid, '/test/writer']]);

  process.kill(p.pid, 'SIGKILL');
  await until(async () => !(await alive(p.pid)), 5000, 'the process gone');
  const after = await request(a, () => ({ op: 'status' }));
  assert.ok(after.ok);
  assert.deepEqual(after.entries, []);
  const kill = await request(a, () => killOp(p));
  assert.deepEqual(kill, { type: 'reply', ok: true, killed: false, alreadyGone: true });
});

test('after an agent restart, status still lists what it launched and a kill still reaches it', async () => {
  const a = await setup();
  const p = await launched(a, 'writer', join(a.outDir, 'w4'));
  const identity = a.agent.identity?.key.publicKey;
  await a.restart();
  assert.equal(a.agent.identity?.key.publicKey, identity, 'the identity is kept');
  assert.equal(await alive(p.pid), true, 'the service outlived the agent');
  const status = await request(a, () => ({ op: 'status' }));
  assert.ok(status.ok);
  assert.deepEqual(status.entries.map((e) => e.launchId), [p.launchId]);
  const reply = await request(a, () => killOp(p, 5000));
  assert.deepEqual(reply, { type: 'reply', ok: true, killed: true, signal: 'SIGTERM', alreadyGone: false });
});
