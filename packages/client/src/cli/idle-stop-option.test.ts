// --idle-stop on add and edit, and --unset-idle-stop, in-process against a scripted server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerRegister, scriptedCli } from './scripted-cli.test.helper.js';

const { run, lastParams, expectUsageErrors } = scriptedCli(answerRegister);

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
  const cases: [string[], RegExp][] = [
    [['add', '/s', '--host', 'h', '--program', 'p', '--idle-stop', '999ms'], /--idle-stop must be from 1s to 30d, got "999ms"/],
    [['add', '/s', '--host', 'h', '--program', 'p', '--idle-stop', '31d'], /--idle-stop must be from 1s to 30d, got "31d"/],
    [['add', '/s', '--host', 'h', '--program', 'p', '--idle-stop', '10 minutes'], /--idle-stop: expected a duration like 90s, 30m, 1h or 2d/],
    [['edit', '/s', '--idle-stop', '1m', '--unset-idle-stop'], /not both a value and unset for "idleStopMs"/],
  ];
  await expectUsageErrors(cases);
});
