// --hosts on add and edit: a comma-separated list of host names and patterns sent as spec.hosts,
// never beside --host, and a bad entry refused before anything is sent; info and state show the
// hosts and where the service was launched.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeServer } from '../fake-server.test.helper.js';
import { main } from './main.js';

const running = {
  kind: 'service', name: '/m', state: 'starting', since: 0, launchedOn: 'media-2', pid: 42,
  spec: { hosts: ['media-*', 'web-1'], program: 'p', args: [], env: {}, startTimeoutMs: 10000 },
};

let fake: FakeServer;
before(async () => {
  fake = await FakeServer.start((req, conn) => {
    switch (req.method) {
      case 'login': conn.reply(req.id, { admin: true }); break;
      case 'register.add': conn.reply(req.id, { revision: 3 }); break;
      case 'register.edit': conn.reply(req.id, { revision: 4, entry: { kind: 'service', name: '/s', state: 'registered', since: 0, spec: { program: 'p', args: [], env: {}, startTimeoutMs: 10000, ...(req.params.spec as object) } } }); break;
      case 'register.info': conn.reply(req.id, { entry: running, aliases: [] }); break;
      case 'serviceState': conn.reply(req.id, { entries: [running] }); break;
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

function sent(method: string): Record<string, unknown>[] {
  return fake.requests.filter((q) => q.method === method).map((q) => q.params);
}

test('add --hosts sends the list as spec.hosts and no host; --host alone is unchanged', async () => {
  const r = await run(['add', '/m', '--hosts', 'media-*, web-1', '--program', 'p']);
  assert.equal(r.code, 0, r.stderr);
  const spec = sent('register.add').at(-1)?.spec as Record<string, unknown>;
  assert.deepEqual(spec.hosts, ['media-*', 'web-1']);
  assert.equal('host' in spec, false);
  assert.equal((await run(['add', '/h', '--host', 'h', '--program', 'p'])).code, 0);
  const single = sent('register.add').at(-1)?.spec as Record<string, unknown>;
  assert.equal(single.host, 'h');
  assert.equal('hosts' in single, false);
});

test('add without a host, with both, or with a bad pattern exits 2 before anything is sent', async () => {
  const before = sent('register.add').length;
  const none = await run(['add', '/m', '--program', 'p']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--host HOST, or --hosts/);
  const both = await run(['add', '/m', '--host', 'h', '--hosts', 'a,b', '--program', 'p']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /host.*hosts|mutually exclusive/i);
  const bad = await run(['add', '/m', '--hosts', 'media-[12]', '--program', 'p']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /params\.spec\.hosts\[0\]: expected a host name or IP address, or a host name pattern where \* stands for any run of characters and \? for one/);
  const many = await run(['add', '/m', '--hosts', Array.from({ length: 17 }, (_, i) => `h${i}`).join(','), '--program', 'p']);
  assert.equal(many.code, 2);
  assert.match(many.stderr, /an array of 1 to 16 host names or patterns/);
  assert.equal(sent('register.add').length, before, 'nothing was sent');
});

test('edit --hosts sends the list; info and state show the hosts and where it was launched', async () => {
  const edit = await run(['edit', '/s', '--hosts', 'web-?']);
  assert.equal(edit.code, 0, edit.stderr);
  assert.deepEqual((sent('register.edit').at(-1)?.spec as Record<string, unknown>).hosts, ['web-?']);
  assert.match(edit.stdout, /^launch hosts: +web-\?$/m);
  const info = await run(['info', '/m']);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /^launch hosts: +media-\*, web-1$/m);
  assert.match(info.stdout, /^launched on: +media-2$/m);
  const state = await run(['state', '/m']);
  assert.equal(state.code, 0, state.stderr);
  assert.match(state.stdout, /^\/m +service +starting +media-2 +- /m, 'HOST is the host picked while it starts');
});
