// dpns servers in-process, against a scripted server: the table, --json, and a refusal.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeServer } from '../fake-server.test.helper.js';
import { main } from './main.js';

const fakes: FakeServer[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
});

async function run(fake: FakeServer, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['--server', fake.server, ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
  return { code, stdout, stderr };
}

const answer = {
  self: 1, epoch: 7, primary: 0, replication: 'sync',
  servers: [
    { sid: 0, url: 'ws://a:7700', role: 'primary', epoch: 7, lastIndex: 120, lag: 0, connected: true, lastHeardMs: 40, self: false },
    { sid: 1, url: 'ws://b:7700', role: 'backup', epoch: 7, lastIndex: 118, lag: 2, connected: true, self: true },
    { sid: 2, url: 'ws://c:7700', connected: false, self: false },
  ],
};

test('dpns servers prints a table marking the answering server, and --json the raw answer', async () => {
  const fake = await FakeServer.start((req, conn) => {
    if (req.method === 'servers') conn.reply(req.id, answer);
  });
  fakes.push(fake);
  fake.cluster = { sid: 1, role: 'backup', epoch: 7, primary: 'ws://a:7700', servers: ['ws://a:7700', fake.url], readFromBackups: false };
  const r = await run(fake, ['servers']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n'), [
    'SID  URL          ROLE     EPOCH  LAST INDEX  LAG  CONNECTED',
    '0    ws://a:7700  primary  7      120         0    yes (heard 0.0 s ago)',
    '1*   ws://b:7700  backup   7      118         2    self',
    '2    ws://c:7700  -        -      -           -    no',
    'primary: SID 0 (ws://a:7700); epoch 7; replication sync; * = SID 1, the server that answered',
    '',
  ]);
  const j = await run(fake, ['servers', '--json']);
  assert.equal(j.code, 0);
  assert.deepEqual(JSON.parse(j.stdout), answer);
});

test('a malformed answer exits 1 with BAD_RESPONSE', async () => {
  const fake = await FakeServer.start((req, conn) => conn.reply(req.id, { self: 0, servers: 'none' }));
  fakes.push(fake);
  const r = await run(fake, ['servers']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^dpns: BAD_RESPONSE: /);
});

const ADMIN = { DPNS_TOKEN: 't' };

test('dpns servers add and remove send the change and print the voters after it; --json the raw answer; bad usage exits 2', async () => {
  const seen: unknown[] = [];
  const fake = await FakeServer.start((req, conn) => {
    if (req.method === 'login') return conn.reply(req.id, { admin: true });
    seen.push([req.method, req.params]);
    if (req.method === 'servers.add') conn.reply(req.id, { sid: 3, address: 'd:7700', voters: [0, 1, 2, 3], index: 42 });
    else if (req.method === 'servers.remove') conn.fail(req.id, -32042, 'MEMBERSHIP_CHANGE_PENDING', 'another membership change is not committed yet');
  });
  fakes.push(fake);
  const add = await run(fake, ['servers', 'add', 'd:7700'], ADMIN);
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.stdout, 'added SID 3 (d:7700); voters now 0, 1, 2, 3 (configuration record 42)\n');
  const json = await run(fake, ['--json', 'servers', 'add', 'd:7700'], ADMIN);
  assert.deepEqual(JSON.parse(json.stdout), { sid: 3, address: 'd:7700', voters: [0, 1, 2, 3], index: 42 });
  const refused = await run(fake, ['servers', 'remove', '1'], ADMIN);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^dpns: MEMBERSHIP_CHANGE_PENDING: /);
  assert.deepEqual(seen, [['servers.add', { address: 'd:7700' }], ['servers.add', { address: 'd:7700' }], ['servers.remove', { sid: 1 }]]);
  assert.equal((await run(fake, ['servers', 'remove', 'one'], ADMIN)).code, 2);
  assert.equal((await run(fake, ['servers', 'add'], ADMIN)).code, 2);
  assert.equal((await run(fake, ['servers', 'drop', '1'], ADMIN)).code, 2);
});
