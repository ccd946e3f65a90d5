// `dpns-launchd join` and `install --join` as the command line sees them: bad usage is found
// before anything is written or made, and a name server that cannot be reached is exit 1.
// The enrollment itself, against a real name server, is in e2e/src/agent-trust.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './main.js';

const KEY = 'ab'.repeat(32);
const TOKEN = `${'01'.repeat(8)}.${'23'.repeat(32)}`;

async function run(argv: string[]): Promise<{ code: number; err: string }> {
  const errs: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => {
    errs.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await main(argv), err: errs.join('') };
  } finally {
    process.stderr.write = write;
  }
}

test('install --join without --server, or with a malformed token, is exit 2 and writes nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dpns-join-'));
  try {
    const base = ['install', '--unit-dir', join(dir, 'units'), '--config-path', join(dir, 'c.json'), '--trusted-key', KEY, '--state-dir', join(dir, 'state')];
    const noServer = await run([...base, '--join', TOKEN]);
    assert.equal(noServer.code, 2);
    assert.match(noServer.err, /--join needs --server/);
    const bad = await run([...base, '--join', 'not-a-token', '--server', '127.0.0.1:1']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /a join token is 16 hex digits, a dot and 64 hex digits/);
    assert.deepEqual(await readdir(dir), [], 'no unit, no config, no identity');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('join with a malformed token is exit 2 before an identity is made; an unreachable name server is exit 1', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dpns-join-'));
  try {
    const stateDir = join(dir, 'state');
    const bad = await run(['join', '--join', 'x', '--server', '127.0.0.1:1', '--state-dir', stateDir]);
    assert.equal(bad.code, 2);
    assert.deepEqual(await readdir(dir), []);
    const away = await run(['join', '--join', TOKEN, '--server', '127.0.0.1:1', '--state-dir', stateDir]);
    assert.equal(away.code, 1);
    assert.match(away.err, /cannot reach ws:\/\/127\.0\.0\.1:1\//);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
