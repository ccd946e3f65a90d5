// Agent trust: a name server launches only through an agent enrolled for the host. Enrollment
// with a join token (single use, short-lived, proven without sending its secret), revocation,
// an agent whose identity changed, `dpns agents list`, and the attack it closes: a rogue process
// on the agent port while the real agent is down gets a connection and not a single frame.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { agent as A, type ServiceView } from '@dpns/protocol';
import {
  ECHO_SERVICE, freePort, killLaunchedGroups, LAUNCHD_BIN, LineLog, makeTempDir, runCli, startAgentProcess, startCluster, startServerProcess, teardown, trackChild, type AgentProcess, type CliResult, type ServerProcess,
} from './harness/index.js';

let ns: ServerProcess;
let agentPort: number;
let agent: AgentProcess;
const launched = new Set<number>();

before(async () => {
  agentPort = await freePort();
  ns = await startServerProcess({ args: ['--agent-port', String(agentPort), '--log-level', 'warn'] });
  agent = await startAgentProcess({ trustedKeys: [ns.publicKey], allow: { echo: ECHO_SERVICE }, port: agentPort });
  await ok(['add', '/trust/echo', '--host', '127.0.0.1', '--program', 'echo', '--arg=--host', '--arg=127.0.0.1', '--env', 'DPNS_ADVERTISE_HOST=127.0.0.1']);
});

after(async () => {
  killLaunchedGroups(launched);
  await teardown();
});

function dpns(args: string[], server = ns): Promise<CliResult> {
  return runCli(['--server', server.server, ...args], { env: { DPNS_TOKEN: server.token }, timeoutMs: 30_000 });
}

async function ok(args: string[]): Promise<string> {
  const r = await dpns(args);
  assert.equal(r.code, 0, `dpns ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function entry(name: string): Promise<ServiceView> {
  const { entries } = JSON.parse(await ok(['state', name, '--json'])) as { entries: ServiceView[] };
  const e = entries.find((x) => x.name === name);
  assert.ok(e?.kind === 'service');
  if (e.pid !== undefined) launched.add(e.pid);
  return e;
}

async function untrusted(args: string[]): Promise<void> {
  const r = await dpns(args);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /LAUNCH_FAILED/);
  assert.match(r.stderr, /AGENT_UNTRUSTED|not the one trusted|no launch agent is enrolled/);
}

function ledger(a: AgentProcess): { service: string }[] {
  try {
    const l = JSON.parse(readFileSync(join(a.stateDir, 'ledger.json'), 'utf8')) as { entries?: { service: string }[] } | { service: string }[];
    return Array.isArray(l) ? l : l.entries ?? [];
  } catch {
    return [];
  }
}

/** Runs `dpns-launchd join` against the test's name server with the agent's state directory. */
function launchdJoin(token: string, stateDir = agent.stateDir): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawn(process.execPath, [LAUNCHD_BIN, 'join', '--join', token, '--server', ns.server, '--host', '127.0.0.1', '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = trackChild(p);
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += String(d)));
  p.stderr.on('data', (d) => (stderr += String(d)));
  return exited.then((e) => ({ code: e.code, stdout, stderr }));
}

async function joinToken(args: string[] = []): Promise<string> {
  return (await ok(['agents', 'join-token', ...args])).trim();
}

test('a launch toward a host with no enrolled agent fails AGENT_UNTRUSTED and starts nothing', async () => {
  await untrusted(['find', '/trust/echo']);
  const e = await entry('/trust/echo');
  assert.equal(e.state, 'failed');
  assert.match(e.reason ?? '', /^AGENT_UNTRUSTED: /);
  assert.equal(ledger(agent).length, 0, 'the agent started nothing');
});

test('join tokens: a wrong secret, an expired token and a token for another host are refused; a good one enrolls once', async () => {
  const token = await joinToken(['--ttl', '1h']);
  assert.match(token, /^[0-9a-f]{16}\.[0-9a-f]{64}$/);
  const wrong = `${token.split('.')[0] as string}.${'0'.repeat(64)}`;
  const bad = await launchdJoin(wrong);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /secret part is wrong/);
  const malformed = await launchdJoin('not-a-token');
  assert.equal(malformed.code, 2);

  const forOther = await joinToken(['--host', 'web-9']);
  const otherHost = await launchdJoin(forOther);
  assert.equal(otherHost.code, 1);
  assert.match(otherHost.stderr, /enrolls only an agent for web-9/);

  const short = await joinToken(['--ttl', '1s']);
  // The one wait no event announces: a token's expiry on the name server's clock.
  await new Promise((r) => setTimeout(r, 1200));
  const expired = await launchdJoin(short);
  assert.equal(expired.code, 1);
  assert.match(expired.stderr, /expired/);

  const good = await launchdJoin(token);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, new RegExp(`identity ${agent.identity}\\) is trusted for 127\\.0\\.0\\.1`));
  const reuse = await launchdJoin(token);
  assert.equal(reuse.code, 1);
  assert.match(reuse.stderr, /unknown or was already used/);
  // The secret never went over the wire, and the name server's log does not hold it either.
  assert.ok(!ns.stderrLines().join('\n').includes(token.split('.')[1] as string));
});

test('dpns agents list shows host, fingerprint, how and when; --json too', async () => {
  const text = await ok(['agents', 'list']);
  assert.match(text, /^HOST\s+FINGERPRINT\s+HOW\s+ENROLLED/);
  assert.match(text, new RegExp(`127\\.0\\.0\\.1\\s+${agent.identity.slice(0, 16)}\\s+join\\s+\\d{4}-`));
  assert.ok(!text.includes(agent.identity), 'only the fingerprint, not the whole key');
  const { agents } = JSON.parse(await ok(['agents', 'list', '--json'])) as { agents: { host: string; fingerprint: string; how: string; enrolledAt: number }[] };
  assert.deepEqual(agents.map((a) => [a.host, a.fingerprint, a.how]), [['127.0.0.1', agent.identity.slice(0, 16), 'join']]);
  // Readable without the admin credential; making tokens is not.
  const anon = await runCli(['--server', ns.server, 'agents', 'list'], { env: { DPNS_TOKEN: '' }, timeoutMs: 30_000 });
  assert.equal(anon.code, 0, anon.stderr);
  const noToken = await runCli(['--server', ns.server, 'agents', 'join-token'], { env: { DPNS_TOKEN: '' }, timeoutMs: 30_000 });
  assert.equal(noToken.code, 1);
});

test('the enrolled agent launches and kills; the enrollment survives a name server restart', async () => {
  await ok(['find', '/trust/echo']);
  assert.equal((await entry('/trust/echo')).state, 'running');
  await ok(['kill', '/trust/echo']);
  ns = await ns.restart({ args: ['--agent-port', String(agentPort), '--log-level', 'warn'] });
  assert.match(await ok(['agents', 'list']), /127\.0\.0\.1\s+\S+\s+join/);
  await ok(['find', '/trust/echo']);
  assert.equal((await entry('/trust/echo')).state, 'running');
});

test('attack: a rogue on the agent port while the agent is down gets a connection and no frame', async () => {
  await ok(['kill', '/trust/echo']);
  const before = ledger(agent).length;
  await agent.kill('SIGTERM');
  const rogue = A.newSigningKey();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: agentPort });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  assert.equal((wss.address() as AddressInfo).port, agentPort);
  let connections = 0;
  const frames: string[] = [];
  wss.on('connection', (ws) => {
    connections++;
    ws.on('message', (d) => frames.push(String(d)));
    ws.send(JSON.stringify(A.signAgentHello(rogue, A.newBoxKeyPair().publicKey, 'rogue', '0.1.0')));
  });
  try {
    await untrusted(['find', '/trust/echo']);
    assert.ok(connections >= 1, 'the name server did dial the port');
    assert.deepEqual(frames, [], 'not one frame: no request, no sealed spec, no ticket');
    const e = await entry('/trust/echo');
    assert.equal(e.state, 'failed');
    assert.match(e.reason ?? '', /^AGENT_UNTRUSTED: .*not the one trusted for 127\.0\.0\.1/);
  } finally {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  }
  agent = await agent.restart();
  assert.equal(ledger(agent).length, before, 'nothing was started');
});

test('an agent whose identity changed is refused until it is trusted again; a revoked host gets nothing', async () => {
  const oldKey = agent.identity;
  await agent.kill('SIGTERM');
  rmSync(join(agent.stateDir, 'identity.key'));
  agent = await agent.restart();
  assert.notEqual(agent.identity, oldKey, 'a new identity was made');
  await untrusted(['find', '/trust/echo']);
  assert.equal(ledger(agent).length, 0);

  await ok(['agents', 'trust', '127.0.0.1', agent.identity]);
  assert.match(await ok(['agents', 'list']), new RegExp(`127\\.0\\.0\\.1\\s+${agent.identity.slice(0, 16)}\\s+trust`));
  await ok(['find', '/trust/echo']);
  const running = await entry('/trust/echo');
  assert.equal(running.state, 'running');

  await ok(['agents', 'revoke', '127.0.0.1']);
  await untrusted(['kill', '/trust/echo']);
  assert.equal((await entry('/trust/echo')).state, 'running', 'the kill never reached the agent: the entry is put back');
  const again = await dpns(['agents', 'revoke', '127.0.0.1']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /NOT_FOUND/);
  assert.equal((await ok(['agents', 'list'])).trim().split('\n').length, 1, 'only the header');

  await ok(['agents', 'trust', '127.0.0.1', agent.identity]);
  await ok(['kill', '/trust/echo']);
});

test('the README flow: dpns-launchd install --join TOKEN --server enrolls the agent it installs, which then launches', async () => {
  await ok(['kill', '/trust/echo']).catch(() => undefined);
  await agent.kill('SIGTERM');
  const dir = makeTempDir('dpns-install-');
  const stateDir = join(dir, 'state');
  const configPath = join(dir, 'launchd.json');
  const token = await joinToken(['--host', '127.0.0.1']);
  const install = spawn(process.execPath, [
    LAUNCHD_BIN, 'install', '--unit-dir', join(dir, 'units'), '--config-path', configPath, '--user', 'root', '--trusted-key', ns.publicKey,
    '--allow', `echo=${ECHO_SERVICE}`, '--listen', `127.0.0.1:${agentPort}`, '--join', token, '--server', ns.server, '--host', '127.0.0.1', '--state-dir', stateDir,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  install.stdout.on('data', (d) => (out += String(d)));
  install.stderr.on('data', (d) => (out += String(d)));
  assert.equal((await trackChild(install)).code, 0, out);
  const identity = /identity ([0-9a-f]{64})\) is trusted for 127\.0\.0\.1/.exec(out)?.[1];
  assert.ok(identity !== undefined, out);
  assert.match(await ok(['agents', 'list']), new RegExp(`127\\.0\\.0\\.1\\s+${identity.slice(0, 16)}\\s+join`));

  const run = spawn(process.execPath, [LAUNCHD_BIN, '--config', configPath, '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  void trackChild(run);
  const stdout = new LineLog(run.stdout, 'installed dpns-launchd stdout');
  const stderr = new LineLog(run.stderr, 'installed dpns-launchd stderr');
  assert.equal(await stdout.waitFor(/^identity: ([0-9a-f]{64})/, 15_000), `identity: ${identity}`, `the agent runs with the identity that was enrolled\n${stderr.text()}`);
  await ok(['find', '/trust/echo']);
  assert.equal((await entry('/trust/echo')).state, 'running');
  await ok(['kill', '/trust/echo']);
});

test('backup mode: an enrollment replicates to the backups and survives their restart', async () => {
  const c = await startCluster({ n: 3, readFromBackups: true });
  try {
    const primary = await c.primary();
    const key = A.newSigningKey().publicKey;
    const w = await c.call(primary.sid, 'agents.trust', { host: 'web-7', key });
    assert.ok(w.ok, JSON.stringify(w));
    const listed = async (sid: number): Promise<boolean> => {
      const r = await c.call(sid, 'agents.list', {});
      return r.ok && (r.result as { agents: { host: string; fingerprint: string }[] }).agents.some((a) => a.host === 'web-7' && a.fingerprint === key.slice(0, 16));
    };
    const backups = c.members.map((m) => m.sid).filter((sid) => sid !== primary.sid);
    for (const sid of backups) {
      const t0 = Date.now();
      while (!(await listed(sid))) {
        if (Date.now() - t0 > 10_000) throw new Error(`backup ${sid} never listed the agent`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const sid = backups[0] as number;
    await c.stop(sid);
    await c.restart(sid);
    const t0 = Date.now();
    while (!(await listed(sid))) {
      if (Date.now() - t0 > 10_000) throw new Error(`backup ${sid} lost the agent across its restart`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await c.close();
  }
});
