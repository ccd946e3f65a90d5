// Where `dpns` takes the admin token from: --token-file, DPNS_TOKEN_FILE and DPNS_TOKEN work
// silently; --token still works but warns that other users can read it; nothing advises it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkAdminProof } from '@dpns/protocol';
import { FakeServer } from '../fake-server.test.helper.js';
import { main } from './main.js';
import { TOKEN_FLAG_WARNING } from './token.js';

const TOKEN = 'c0ffee'.repeat(8);
let fake: FakeServer;
let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dpns-token-'));
  // A login is accepted only with a proof of TOKEN: the token reached the client intact.
  fake = await FakeServer.start((req, conn) => {
    if (req.method === 'login') {
      if (checkAdminProof(TOKEN, conn.nonce, String(req.params.proof))) conn.reply(req.id, { admin: true });
      else conn.fail(req.id, -32002, 'UNAUTHORIZED', 'wrong admin credential');
    } else if (req.method === 'killService') {
      conn.reply(req.id, { revision: 3, signal: 'SIGTERM', alreadyGone: false });
    }
  });
});
after(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['--server', fake.server, ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
  return { code, stdout, stderr };
}

test('--token-file, DPNS_TOKEN_FILE and DPNS_TOKEN log in without a warning', async () => {
  const file = join(dir, 'admin.token');
  writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
  for (const [args, env] of [[['--token-file', file], {}], [[], { DPNS_TOKEN_FILE: file }], [[], { DPNS_TOKEN: TOKEN }]] as const) {
    const r = await run([...args, 'kill', '/t/a'], env);
    assert.equal(r.code, 0, `${JSON.stringify({ args, env })}: ${r.stderr}`);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'killed /t/a (SIGTERM)\n');
  }
});

test('--token still works, but warns on stderr that other users can read it, and is not in --help', async () => {
  const r = await run(['--token', TOKEN, 'kill', '/t/a']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, `dpns: ${TOKEN_FLAG_WARNING}\n`);
  assert.match(r.stderr, /every user of this host can read it/);
  assert.match(r.stderr, /--token-file/);

  // yargs prints help on the process's stdout, so the real command is run for it.
  const help = spawnSync(process.execPath, [new URL('../../bin/dpns.js', import.meta.url).pathname, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.doesNotMatch(help.stdout, /--token(?!-file)/);
  assert.match(help.stdout, /--token-file/);
});

test('no message, example or document in the repository advises --token', () => {
  const root = new URL('../../../../', import.meta.url).pathname;
  const hits: string[] = [];
  const skip = new Set(['node_modules', 'dist', '.git']);
  const scan = (p: string): void => {
    if (!/\.(ts|tsx|mjs|js|md|html)$/.test(p) || /\.test\.ts$/.test(p) || p.endsWith(join('cli', 'token.ts')) || p.endsWith(join('cli', 'main.ts'))) return;
    readFileSync(p, 'utf8').split('\n').forEach((line, i) => {
      // A line that says it warns (the deprecation note) documents it; any other mention advises it.
      if (/--token(?![-\w])/.test(line) && !/warn/i.test(line)) hits.push(`${p.slice(root.length)}:${i + 1}: ${line.trim()}`);
    });
  };
  const walk = (p: string): void => {
    if (!statSync(p).isDirectory()) return scan(p);
    for (const name of readdirSync(p)) if (!skip.has(name)) walk(join(p, name));
  };
  for (const top of ['packages', 'docs', 'e2e', 'examples', 'README.md']) {
    if (statSync(join(root, top), { throwIfNoEntry: false }) !== undefined) walk(join(root, top));
  }
  assert.deepEqual(hits, []);
});
