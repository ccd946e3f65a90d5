// --check and its companions on advertise, add and edit, in-process against a scripted server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerRegister, scriptedCli } from './scripted-cli.test.helper.js';

const { run, lastParams, expectUsageErrors } = scriptedCli((req, conn) => {
  if (req.method === 'advertiseService') conn.reply(req.id, { revision: 2 });
  else answerRegister(req, conn);
});

test('advertise --check tcp sends the check with its defaults; http:PATH with the given numbers', async () => {
  const r = await run(['advertise', '/db', '127.0.0.1', '5432', '--check', 'tcp']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'advertised /db at 127.0.0.1:5432 (static; check: tcp every 5000 ms, timeout 2000 ms, unhealthy after 3 failures in a row)\n');
  assert.deepEqual(lastParams('advertiseService').check, { kind: 'tcp', intervalMs: 5000, timeoutMs: 2000, threshold: 3 });
  assert.equal((await run(['advertise', '/web', '127.0.0.1', '80', '--check', 'http:/healthz', '--check-interval', '10000', '--check-timeout', '3000', '--check-threshold', '1'])).code, 0);
  assert.deepEqual(lastParams('advertiseService').check, { kind: 'http', path: '/healthz', intervalMs: 10000, timeoutMs: 3000, threshold: 1 });
  assert.equal((await run(['advertise', '/plain', '127.0.0.1', '80'])).code, 0);
  assert.equal('check' in lastParams('advertiseService'), false);
});

test('add and edit carry the check in the spec; edit --unset-check removes it', async () => {
  assert.equal((await run(['add', '/s', '--host', 'h', '--program', 'p', '--check', 'http:/ready', '--check-threshold', '2'])).code, 0);
  assert.deepEqual((lastParams('register.add').spec as Record<string, unknown>).check, { kind: 'http', path: '/ready', intervalMs: 5000, timeoutMs: 2000, threshold: 2 });
  const edit = await run(['edit', '/s', '--check', 'tcp']);
  assert.equal(edit.code, 0, edit.stderr);
  assert.match(edit.stdout, /^check: +tcp every 5000 ms, timeout 2000 ms, unhealthy after 3 failures in a row$/m);
  assert.equal((await run(['edit', '/s', '--unset-check'])).code, 0);
  assert.deepEqual(lastParams('register.edit').unset, ['check']);
});

test('bad check options exit 2 before anything is sent', async () => {
  const cases: [string[], RegExp][] = [
    [['advertise', '/db', 'h', '1', '--check', 'udp'], /--check must be tcp or http:PATH/],
    [['advertise', '/db', 'h', '1', '--check-interval', '2000'], /need --check tcp or --check http:PATH/],
    [['advertise', '/db', 'h', '1', '--check', 'tcp', '--check-interval', '500'], /--check-interval must be an integer from 1000 to 3600000/],
    [['advertise', '/db', 'h', '1', '--check', 'tcp', '--check-interval', '1000', '--check-timeout', '1000'], /params\.check\.timeoutMs: expected less than the interval \(1000 ms\)/],
    [['advertise', '/db', 'h', '1', '--check', 'http:healthz'], /params\.check\.path: expected an absolute HTTP path/],
    [['add', '/s', '--host', 'h', '--program', 'p', '--check', 'tcp', '--check-timeout', '9000'], /params\.spec\.check\.timeoutMs: expected less than the interval \(5000 ms\)/],
  ];
  await expectUsageErrors(cases);
});
