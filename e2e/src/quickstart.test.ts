// The README's quick start (scripts/start.mjs, what `pnpm start` runs): its ports and state
// directory come from DPNS_LISTEN, DPNS_AGENT_PORT and DPNS_DATA_DIR; a port in use is said in
// one line; Ctrl-C stops the services it launched, then both daemons, and exits 0.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, makeTempDir, REPO_ROOT, runCli, teardown, trackChild, LineLog } from './harness/index.js';

after(() => teardown());

function startQuick(env: Record<string, string>): { out: LineLog; err: LineLog; exit: ReturnType<typeof trackChild>; interrupt(): void } {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DPNS_')) clean[k] = v;
  // Its own process group, so that a test that fails before Ctrl-C still takes the daemons it started along.
  const proc = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'start.mjs')], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const group = proc.pid;
  if (group !== undefined) groups.add(group);
  const exit = trackChild(proc);
  void exit.then(() => {
    if (group !== undefined) killGroup(group);
  });
  return { out: new LineLog(proc.stdout), err: new LineLog(proc.stderr), exit, interrupt: () => proc.kill('SIGINT') };
}

const groups = new Set<number>();
function killGroup(pgid: number): void {
  groups.delete(pgid);
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
after(() => {
  for (const g of [...groups]) killGroup(g);
});

// A zombie (exited, not yet reaped: its parent, the agent, may stop first) counts as gone.
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function gone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return !alive(pid);
}

test('the quick start on ports from the environment; Ctrl-C stops what it launched and exits 0', { timeout: 120_000 }, async () => {
  const [nsPort, agentPort] = await freePorts(2) as [number, number];
  const dataDir = makeTempDir('quick-');
  const listen = `127.0.0.1:${nsPort}`;
  const q = startQuick({ DPNS_LISTEN: listen, DPNS_AGENT_PORT: String(agentPort), DPNS_DATA_DIR: dataDir });
  await q.out.waitFor(/^Ready\./, 60_000);
  const env = { DPNS_SERVERS: listen, DPNS_TOKEN_FILE: join(dataDir, 'nameserver', 'admin.token') };
  const found = await runCli(['find', '/demo/echo'], { env, timeoutMs: 30_000 });
  assert.equal(found.code, 0, found.stderr);
  assert.match(found.stdout, /^\/demo\/echo 127\.0\.0\.1 \d+\n$/);
  const info = await runCli(['state', '/demo/echo', '--json'], { env });
  const [entry] = (JSON.parse(info.stdout) as { entries: { pid?: number }[] }).entries;
  const pid = entry?.pid;
  assert.ok(pid !== undefined && alive(pid), 'the example runs');
  q.interrupt();
  const exit = await q.exit;
  assert.equal(exit.code, 0, `exit ${JSON.stringify(exit)}; stderr: ${q.err.text()}`);
  assert.ok(q.out.lines.includes('stopped /demo/echo'), q.out.text());
  assert.ok(await gone(pid, 5000), 'the launched example was stopped');
});

test('a port already in use is one clear line and exit 1', { timeout: 60_000 }, async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const [agentPort] = await freePorts(1) as [number];
    const q = startQuick({ DPNS_LISTEN: `127.0.0.1:${port}`, DPNS_AGENT_PORT: String(agentPort), DPNS_DATA_DIR: makeTempDir('quick-') });
    const exit = await q.exit;
    assert.equal(exit.code, 1);
    const said = q.err.lines.filter((l) => l.trim() !== '');
    assert.equal(said.length, 1, `one line, got:\n${said.join('\n')}`);
    assert.match(said[0] ?? '', new RegExp(`could not start: .*127\\.0\\.0\\.1:${port} is already in use.*DPNS_LISTEN`));
  } finally {
    blocker.close();
  }
});
