// --idle-stop on add and edit, and --unset-idle-stop, in-process against a scripted server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeServer } from '../fake-server.test.helper.js';
import { main } from './main.js';

let fake: FakeServer;
before(async () => {
  fake = await FakeServer.start((req, conn) => {
    switch (req.method) {
      case 'login': conn.reply(req.id, { admin: true }); break;
      case 'register.add': conn.reply(req.id, { revision: 3 }); break;
      case 'register.edit': conn.reply(req.id, { revision: 4, entry: { kind: 'service', name: '/s', state: 'registered', since: 0, spec: { host: 'h', program: 'p', args: [], env: {}, startTimeoutMs: 10000, ...(req.params.spec as object) } } }); break;
      default:
    }
  });
});
after(async () => {
  await fake.close();
});

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['--server', fake.server, ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { DPNS_TOKEN: 't' } });
  return { code, stdout, stderr };
}

function lastParams(method: string): Record<string, unknown> {
  const r = fake.requests.filter((q) => q.method === method).at(-1);
  assert.ok(r !== undefined, `no ${method} sent`);
  return r.params;
}

test('add --idle-stop sends milliseconds in the spec; edit shows it and --unset-idle-stop removes it', async () => {
  for (const [given, ms] of [['10m', 600_000], ['1s', 1000], ['90s', 90_000], ['2d', 172_800_000], ['1500', 1500]] as const) {
    const r = await run(['add', '/s', '--host', 'h', '--program', 'p', '--idle-stop', given]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((lastParams('register.add').spec as Record<string, unknown>).idleStopMs, ms, given);
  }
  assert.equal((await run(['add', '/s', '--host', 'h', '--program', 'p'])).code, 0);
  assert.equal('idleStopMs' in (lastParams('register.add').spec as Record<string, unknown>), false);
  const edit = await run(['edit', '/s', '--idle-stop', '1h']);
  assert.equal(edit.code, 0, edit.stderr);
  assert.match(edit.stdout, /^idle stop: +after 1h0m0s unused \(3600000 ms\)$/m);
  assert.equal((await run(['edit', '/s', '--unset-idle-stop'])).code, 0);
  assert.deepEqual(lastParams('register.edit').unset, ['idleStopMs']);
});

test('a bad --idle-stop exits 2 before anything is sent', async () => {
  const sent = (): number => fake.requests.filter((q) => q.method !== 'login').length;
  const before = sent();
  const cases: [string[], RegExp][] = [
    [['add', '/s', '--host', 'h', '--program', 'p', '--idle-stop', '999ms'], /--idle-stop must be from 1s to 30d, got "999ms"/],
    [['add', '/s', '--host', 'h', '--program', 'p', '--idle-stop', '31d'], /--idle-stop must be from 1s to 30d, got "31d"/],
    [['add', '/s', '--host', 'h', '--program', 'p', '--idle-stop', '10 minutes'], /--idle-stop: expected a duration like 90s, 30m, 1h or 2d/],
    [['edit', '/s', '--idle-stop', '1m', '--unset-idle-stop'], /not both a value and unset for "idleStopMs"/],
  ];
  for (const [args, message] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  assert.equal(sent(), before);
});
