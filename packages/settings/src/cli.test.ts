// The table as yargs options, parsed by real yargs, and the values back by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import yargs from 'yargs';
import { cliOptions, cliValues, loadSettings } from './index.js';
import { TABLE } from './table.test.helper.js';

async function parse(argv: string[]): Promise<{ args: Record<string, unknown>; error?: string }> {
  let error: string | undefined;
  const args = await yargs(argv).options(cliOptions(TABLE)).strict().exitProcess(false).fail((msg, err) => {
    error = msg ?? err?.message;
  }).parseAsync();
  return { args, ...(error === undefined ? {} : { error }) };
}

test('flags come back by setting name; one not given is absent, a switch included', async () => {
  const { args } = await parse(['--ping-ms', '250', '--max-items', '3', '--tag', 'a', '--tag', 'b', '--config', '/etc/demo.json']);
  assert.deepEqual(cliValues(TABLE, args), {
    values: { pingMs: 250, maxItemsPerConnection: 3, tags: ['a', 'b'] }, flagNames: { pingMs: '--ping-ms', maxItemsPerConnection: '--max-items', tags: '--tag' },
    deprecated: [], configFile: '/etc/demo.json',
  });
  const sw = cliValues(TABLE, (await parse(['--verbose'])).args);
  assert.deepEqual(sw.values, { verbose: true });
});

test('a number flag reaches the setting\'s own check as given, so the message says what was wrong', async () => {
  const { values, flagNames } = cliValues(TABLE, (await parse(['--ping-ms', 'abc'])).args);
  assert.throws(() => loadSettings(TABLE, { flags: values, env: {}, flagNames }), /command line: --ping-ms: expected an integer from 10 to 1000, got "abc"$/);
  // A deprecated flag is named as it was given.
  const old = cliValues(TABLE, (await parse(['--heartbeat-ms', '5'])).args);
  assert.throws(() => loadSettings(TABLE, { flags: old.values, env: {}, flagNames: old.flagNames }), /command line: --heartbeat-ms: expected an integer/);
});

test('a deprecated flag still works, says so, and is not listed in --help', async () => {
  const got = cliValues(TABLE, (await parse(['--heartbeat-ms', '300'])).args);
  assert.deepEqual(got.values, { pingMs: 300 });
  assert.deepEqual(got.deprecated, ['--heartbeat-ms is deprecated; use --ping-ms']);
  assert.equal(cliValues(TABLE, (await parse(['--heartbeat-ms', '300', '--ping-ms', '400'])).args).values.pingMs, 400);
  const help = await yargs([]).options(cliOptions(TABLE)).getHelp();
  assert.doesNotMatch(help, /heartbeat-ms/);
  assert.match(help, /Timing:\n/);
  assert.match(help, /--ping-ms +ping interval \[integer 10 … 1000\] \[env DEMO_PING_MS\]\s+\[default: 100\]/);
  assert.match(help, /--config +a JSON file of settings, keyed by the names in docs\/SETTINGS\.md\s+\[env DEMO_CONFIG\]/);
});

test('yargs refuses what is not a flag of the table, and a choice not offered', async () => {
  assert.match((await parse(['--colour', 'blue'])).error ?? '', /Unknown argument/);
  assert.match((await parse(['--mode', 'c'])).error ?? '', /Invalid values/);
});
