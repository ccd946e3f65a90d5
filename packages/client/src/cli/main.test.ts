// The command line in-process: usage errors exit 2 before any connection is tried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from './main.js';

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  // Port 1 refuses connections: a usage error must be reported without trying it.
  const code = await main(['--server', '127.0.0.1:1', ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
  return { code, stdout, stderr };
}

test('bad usage exits 2 with one line on stderr', async () => {
  for (const args of [[], ['bogus'], ['list', '--bogus'], ['find'], ['advertise', '/a', 'h', 'port'], ['add', '/x'],
    ['add', '/x', '--host', 'h', '--program', '/p', '--env', 'NOEQ'], ['edit', '/x'], ['list', '--timeout', 'soon']]) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    assert.match(r.stderr, /^dpns: /);
    assert.equal(r.stdout, '');
  }
});

test('a bad name exits 2 with INVALID_NAME, and --json also prints the error document', async () => {
  const r = await run(['info', 'no/slash', '--json']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^dpns: INVALID_NAME: /);
  assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'INVALID_NAME');
});

test('a bad --server is bad usage; an unreachable one is exit 1 with CONNECTION_LOST', async () => {
  const bad = await main(['--server', 'nohost:99999', 'list'], { stdout: () => undefined, stderr: () => undefined, env: {} });
  assert.equal(bad, 2);
  const r = await run(['list']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'dpns: CONNECTION_LOST: cannot reach any name server (tried 127.0.0.1:1: ECONNREFUSED)\n');
});

test('--verbose prints the connection events and the outcome on stderr, each with the time; without it, nothing but the error', async () => {
  const r = await run(['--verbose', 'list']);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  const stamped = lines.filter((l) => /^dpns: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S/.test(l)).map((l) => l.slice(31));
  assert.deepEqual(stamped.slice(0, 1), ['connecting']);
  assert.ok(stamped.includes('failed'), r.stderr);
  assert.ok(lines.includes('dpns: CONNECTION_LOST: cannot reach any name server (tried 127.0.0.1:1: ECONNREFUSED)'), r.stderr);
  const quiet = await run(['list']);
  assert.equal(quiet.stderr.split('\n').length, 2);
});
