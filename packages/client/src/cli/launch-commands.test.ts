// launch, kill, reset, auth and find --no-launch in-process, against a scripted server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newTicket, sealTo } from '@dpns/protocol';
import { scriptedCli } from './scripted-cli.test.helper.js';

const here = { name: '/demo/echo', service: '/demo/echo', host: '127.0.0.1', port: 4000 };
const pair = { pairId: 'p1', clientTicket: newTicket(), serviceTicket: newTicket() };
const { run } = scriptedCli((req, conn) => {
  const failing = req.params.name === '/demo/broken' || req.params.pattern === '/demo/broken';
  if (failing) {
    conn.ws.send(JSON.stringify({
      jsonrpc: '2.0', id: req.id,
      error: { code: -32020, message: 'launching /demo/broken failed: the program exited before advertising', data: { code: 'LAUNCH_FAILED', cause: 'EXITED_EARLY' } },
    }));
    return;
  }
  switch (req.method) {
    case 'findServices':
      if (req.params.launch === false) conn.fail(req.id, -32013, 'NOT_RUNNING', '/demo/echo is stopped');
      else conn.reply(req.id, { services: [here] });
      break;
    case 'launchService': conn.reply(req.id, { service: here, launched: true }); break;
    case 'killService': conn.reply(req.id, { revision: 3, signal: 'SIGTERM', alreadyGone: false }); break;
    case 'resetService': conn.reply(req.id, { service: { ...here, port: 4001 } }); break;
    case 'authenticateService':
      conn.reply(req.id, { pairId: 'p1', service: '/demo/echo', sealed: sealTo(String(req.params.boxKey), JSON.stringify(pair)) });
      break;
    default:
  }
});

test('launch prints NAME HOST PORT and notes "(launched)" on stderr; kill and reset print what they did', async () => {
  assert.deepEqual(await run(['launch', '/demo/echo']), { code: 0, stdout: '/demo/echo 127.0.0.1 4000\n', stderr: 'dpns: /demo/echo (launched)\n' });
  assert.deepEqual(JSON.parse((await run(['launch', '/demo/echo', '--json'])).stdout), { service: here, launched: true });
  assert.deepEqual(await run(['kill', '/demo/echo']), { code: 0, stdout: 'killed /demo/echo (SIGTERM)\n', stderr: '' });
  assert.deepEqual(await run(['reset', '/demo/echo']), { code: 0, stdout: '/demo/echo 127.0.0.1 4001\n', stderr: '' });
});

test('find --no-launch asks the server not to launch', async () => {
  assert.equal((await run(['find', '/demo/echo'])).stdout, '/demo/echo 127.0.0.1 4000\n');
  const r = await run(['find', '/demo/echo', '--no-launch']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'dpns: NOT_RUNNING: /demo/echo is stopped\n');
});

test('LAUNCH_FAILED is one line with its cause, exit 1', async () => {
  for (const args of [['launch', '/demo/broken'], ['find', '/demo/broken']]) {
    const r = await run(args);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'dpns: LAUNCH_FAILED: launching /demo/broken failed: the program exited before advertising (EXITED_EARLY)\n');
  }
});

test('auth prints the pair on stdout only, with a warning on stderr', async () => {
  const r = await run(['auth', '/demo/echo', '--json']);
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.stdout), pair);
  assert.match(r.stderr, /^dpns: the tickets printed on stdout are a secret shared with \/demo\/echo/);
  assert.ok(!r.stderr.includes(pair.clientTicket));
  const human = await run(['auth', '/demo/echo']);
  assert.match(human.stdout, /^service: +\/demo\/echo\npair: +p1\n/);
  assert.ok(human.stdout.includes(pair.clientTicket) && !human.stderr.includes(pair.clientTicket));
});

test('the new commands need a valid NAME', async () => {
  for (const cmd of ['launch', 'kill', 'reset', 'auth']) {
    assert.equal((await run([cmd])).code, 2, cmd);
    const r = await run([cmd, 'no-slash']);
    assert.equal(r.code, 2, cmd);
    assert.match(r.stderr, /^dpns: INVALID_NAME: /);
  }
});
