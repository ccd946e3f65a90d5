// The `load` operation: the host's load average and CPUs and how many launched processes still
// run, admitted like every other request (a stranger's is refused), and a figure the name server
// can order hosts by.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as wire from './wire.js';
import { exchange, fixture, launchOp, readIfExists, request, signed, startTestAgent, TICKET_WRITER, until, type TestAgent } from './agent.test.helper.js';

let t: TestAgent | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function setup(): Promise<TestAgent> {
  t = await startTestAgent({ allow: (dir) => [{ name: 'writer', path: join(dir, 'writer.js') }] });
  await fixture(t.dir, 'writer.js', TICKET_WRITER);
  return t;
}

async function launchWriter(a: TestAgent, n: number): Promise<{ pid: number; launchId: string; service: string }> {
  const service = `/test/w${n}`;
  const ready = join(a.outDir, `w${n}`);
  let launchId = '';
  const ex = await exchange(a.url, (hello) => {
    const { op } = launchOp(hello, { service, program: 'writer', args: [ready] });
    launchId = op.launchId;
    return signed(a.nsKey, hello, op);
  });
  const reply = wire.parseAgentReply(ex.reply, 'launch');
  assert.ok(reply.ok, ex.reply);
  await until(async () => (await readIfExists(ready)) !== undefined, 5000, `writer ${n} ready`);
  return { pid: reply.pid, launchId, service };
}

test('load answers the load average, the CPUs and the processes it launched that still run', async () => {
  const a = await setup();
  const idle = await request(a, () => ({ op: 'load' }));
  assert.ok(idle.ok, JSON.stringify(idle));
  assert.equal(idle.children, 0);
  assert.equal(idle.cpus, availableParallelism());
  assert.ok(idle.loadavg >= 0);

  const first = await launchWriter(a, 1);
  await launchWriter(a, 2);
  const busy = await request(a, () => ({ op: 'load' }));
  assert.ok(busy.ok, JSON.stringify(busy));
  assert.equal(busy.children, 2);

  const killed = await request(a, () => ({ op: 'kill', service: first.service, launchId: first.launchId, pid: first.pid, graceMs: 2000 }));
  assert.ok(killed.ok, JSON.stringify(killed));
  const after = await request(a, () => ({ op: 'load' }));
  assert.ok(after.ok, JSON.stringify(after));
  assert.equal(after.children, 1, 'a process that was stopped no longer counts');
  const rest = a.agent.ledger?.entries() ?? [];
  for (const e of rest) await request(a, () => ({ op: 'kill', service: e.service, launchId: e.launchId, pid: e.pid, graceMs: 2000 }));
});

test('a load request signed by a key the agent does not trust is UNKNOWN_KEY', async () => {
  const a = await setup();
  const stranger = wire.newSigningKey();
  const ex = await exchange(a.url, (hello) => signed(stranger, hello, { op: 'load' }));
  const r = wire.parseAgentReply(ex.reply, 'load');
  assert.equal(r.ok, false);
  assert.equal(r.ok ? undefined : r.code, 'UNKNOWN_KEY');
});

test('a load request with a member it does not take is BAD_REQUEST', async () => {
  const a = await setup();
  const ex = await exchange(a.url, (hello) => signed(a.nsKey, hello, { op: 'load', extra: 1 } as unknown as wire.AgentOperation));
  const r = wire.parseAgentReply(ex.reply, 'load');
  assert.equal(r.ok ? undefined : r.code, 'BAD_REQUEST');
});

test('the load figure is load per CPU plus one for each launched process, so an idle service still counts', () => {
  assert.equal(wire.loadFigure({ loadavg: 1, cpus: 2, children: 0 }), 0.5);
  assert.equal(wire.loadFigure({ loadavg: 0, cpus: 4, children: 2 }), 2);
  assert.equal(wire.loadFigure({ loadavg: 3, cpus: 0, children: 1 }), 4, 'no CPUs reported counts as one');
  assert.ok(wire.loadFigure({ loadavg: 0.2, cpus: 2, children: 1 }) > wire.loadFigure({ loadavg: 1.9, cpus: 2, children: 0 }));
});
