// Launch on demand across hosts: network namespaces joined by a private bridge (198.18.0.0/15),
// the name server on one, a launch agent on each of two others, the test driving them from the
// bridge with the real CLI. Then the attacks: a program off the allowlist, a replayed signed
// request, a request signed by an unknown key, a request for one host relayed to another host's
// agent, a kill of a pid the agent never launched, and an advertisement with a wrong ticket —
// each refused, with nothing started or killed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { agent as A, newTicket, type ServiceView } from '@dpns/protocol';
import { parsePrivateKeyFile } from '@dpns/node-kit';
import { DpnsClient, isDpnsError } from '@dpns/client';
import {
  createTestNet, ECHO_SERVICE, killLaunchedGroups, makeTempDir, netnsUnavailable, rpcOnce, runCli, startAgentProcess, startServerProcess, teardown, trackChild, type AgentProcess, type CliResult, type ServerProcess, type TestNet,
} from './harness/index.js';

const why = netnsUnavailable();
let net: TestNet;
let ns: ServerProcess;
let agents: AgentProcess[] = [];
const clients: DpnsClient[] = [];
const launched = new Set<number>();

before(async () => {
  if (why !== undefined) return;
  net = createTestNet(3);
  const [h0] = net.hosts;
  ns = await startServerProcess({
    listenHost: h0?.addr, wrap: net.exec(h0 as never), args: ['--agent-port', '7701', '--client-heartbeat-ms', '300', '--log-level', 'warn'],
  });
  agents = await Promise.all(net.hosts.slice(1).map((h) => startAgentProcess({
    trustedKeys: [ns.publicKey], allow: { echo: ECHO_SERVICE, false: '/bin/false' }, listenHost: h.addr, port: 7701, wrap: net.exec(h),
    enroll: { url: ns.url, token: ns.token },
  })));
});

after(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  killLaunchedGroups(launched);
  await teardown();
  net?.down();
});

function dpns(args: string[]): Promise<CliResult> {
  return runCli(['--server', ns.server, ...args], { env: { DPNS_TOKEN: ns.token }, timeoutMs: 70_000 });
}

async function ok(args: string[]): Promise<string> {
  const r = await dpns(args);
  assert.equal(r.code, 0, `dpns ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function entry(name: string): Promise<ServiceView> {
  const all = JSON.parse(await ok(['state', name, '--json'])) as { entries: ServiceView[] } | ServiceView[];
  const list = Array.isArray(all) ? all : all.entries;
  const e = list.find((x) => x.name === name);
  assert.ok(e !== undefined && e.kind === 'service', `no service ${name}`);
  if (e.pid !== undefined) launched.add(e.pid);
  return e;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (alive(pid)) {
    if (Date.now() - t0 > ms) throw new Error(`pid ${pid} still alive after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends one line to host:port and reads the echo. */
function echo(host: string, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host);
    let got = '';
    s.on('data', (d) => {
      got += String(d);
      if (got.includes('\n')) {
        s.end();
        resolve(got);
      }
    });
    s.on('error', reject);
    s.write(`${text}\n`);
  });
}

/** One raw request to an agent, as a name server (or an attacker) would send it. */
function agentExchange(address: string, frame: (hello: A.AgentHello) => unknown): Promise<{ reply: Record<string, unknown>; sent: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${address}/`);
    let sent: unknown;
    ws.on('error', reject);
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      if (m.type === 'hello') {
        sent = frame(m as unknown as A.AgentHello);
        ws.send(typeof sent === 'string' ? sent : JSON.stringify(sent));
      } else {
        ws.close();
        resolve({ reply: m, sent });
      }
    });
  });
}

function nameServerKey(): A.SigningKey {
  const parsed = parsePrivateKeyFile(readFileSync(join(ns.dataDir, 'nameserver.key'), 'utf8'));
  assert.ok(parsed, 'nameserver.key holds a private key');
  return A.signingKeyFromSeed(Buffer.from(parsed.seed, 'hex'));
}

async function registerEcho(name: string, hostIndex: number): Promise<string> {
  const h = net.hosts[hostIndex];
  assert.ok(h);
  await ok(['add', name, '--host', h.addr, '--program', 'echo', '--arg=--host', `--arg=${h.addr}`, '--env', `DPNS_ADVERTISE_HOST=${h.addr}`]);
  return h.addr;
}

test('find starts a service on its host; kill stops it; reset starts it again', { skip: why }, async () => {
  const addr = await registerEcho('/net/echo', 1);
  assert.equal((await entry('/net/echo')).state, 'registered');
  const line = (await ok(['find', '/net/echo'])).trim();
  const [, host, port] = line.split(' ');
  assert.equal(host, addr, 'the service runs on the host its spec names');
  assert.equal(await echo(host as string, Number(port), 'over the bridge'), 'over the bridge\n');
  const first = await entry('/net/echo');
  assert.equal(first.state, 'running');
  assert.ok(first.pid !== undefined);

  await ok(['kill', '/net/echo']);
  assert.equal((await entry('/net/echo')).state, 'stopped');
  await gone(first.pid);

  const again = (await ok(['reset', '/net/echo'])).trim().split(' ');
  const second = await entry('/net/echo');
  assert.equal(second.state, 'running');
  assert.notEqual(second.pid, first.pid);
  assert.equal(await echo(again[1] as string, Number(again[2]), 'again'), 'again\n');
});

test('concurrent finds of a stopped service start it once', { skip: why }, async () => {
  await registerEcho('/net/once', 2);
  const results = await Promise.all(Array.from({ length: 5 }, () => ok(['find', '/net/once'])));
  assert.equal(new Set(results).size, 1, 'every caller got the same address');
  const e = await entry('/net/once');
  assert.equal(e.state, 'running');
  const ledger = JSON.parse(readFileSync(join(agents[1]?.stateDir as string, 'ledger.json'), 'utf8')) as { entries?: unknown[] } | unknown[];
  const rows = (Array.isArray(ledger) ? ledger : ledger.entries ?? []) as { service: string }[];
  assert.equal(rows.filter((r) => r.service === '/net/once').length, 1, 'one process in the agent ledger');
});

test('a program off the allowlist is refused with a clear error and nothing runs', { skip: why }, async () => {
  const h = net.hosts[1];
  assert.ok(h);
  // A file the refused program would remove: still there afterwards proves it never ran (the
  // namespaces share this machine's file system). Anyone may delete it, whichever user the
  // agent would have run the program as.
  const dir = makeTempDir('dpns-refused-');
  chmodSync(dir, 0o777);
  const marker = join(dir, 'must-survive');
  writeFileSync(marker, 'x', { mode: 0o666 });
  await ok(['add', '/net/rm', '--host', h.addr, '--program', '/bin/rm', '--arg=-f', `--arg=${marker}`]);
  const r = await dpns(['find', '/net/rm']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /LAUNCH_FAILED.*NOT_ALLOWED/);
  const e = await entry('/net/rm');
  assert.equal(e.state, 'failed');
  assert.match(e.reason ?? '', /NOT_ALLOWED/);
  // A symlink or ../ trick names the same refused file.
  await ok(['add', '/net/rm2', '--host', h.addr, '--program', `${ECHO_SERVICE}/../../../../../bin/rm`, '--arg=-f', `--arg=${marker}`]);
  assert.match((await dpns(['find', '/net/rm2'])).stderr, /NOT_ALLOWED/);
  assert.ok(existsSync(marker), 'the refused program did not run');
});

/** The name server's epoch: requests signed with an older one are refused as STALE_EPOCH. */
async function nameServerEpoch(): Promise<number> {
  const a = await rpcOnce(ns.url, 'servers', {});
  assert.ok(a.ok, 'servers answers');
  return (a.result as { epoch: number }).epoch;
}

test('an agent refuses a replayed request and one signed by an unknown key, and starts nothing', { skip: why }, async () => {
  const agent = agents[0] as AgentProcess;
  const key = nameServerKey();
  const epoch = await nameServerEpoch();
  // A genuine request, as the name server would sign it: accepted once.
  const host = agent.address.split(':')[0] as string;
  const first = await agentExchange(agent.address, (hello) => A.buildAgentRequest(key, { op: 'status' }, { boxKey: hello.boxKey, epoch, target: host, agent: hello.identity }));
  assert.equal(first.reply.ok, true);
  // The same bytes, captured and sent again on a new connection.
  const replay = await agentExchange(agent.address, () => first.sent);
  assert.equal(replay.reply.ok, false);
  assert.equal(replay.reply.code, 'REPLAYED');
  // A genuine *launch*, captured and replayed: the agent launches it once, never twice.
  const launchId = A.newLaunchId();
  const launched = await agentExchange(agent.address, (hello) => A.buildAgentRequest(key, A.sealLaunch({
    op: 'launch', service: '/net/replayed', launchId, program: 'echo', args: [], env: {}, servers: [ns.server], ticketLine: '{}',
  }, hello.boxKey), { boxKey: hello.boxKey, epoch, target: host, agent: hello.identity }));
  assert.equal(launched.reply.ok, true, JSON.stringify(launched.reply));
  const again = await agentExchange(agent.address, () => launched.sent);
  assert.equal(again.reply.ok, false);
  assert.equal(again.reply.code, 'REPLAYED');
  const launches = agent.stderr.lines.filter((l) => l.includes(launchId) && l.includes('"msg":"launched"'));
  assert.equal(launches.length, 1, 'the replayed launch started nothing');
  // A well-formed launch signed by a key the agent does not trust.
  const rogue = A.newSigningKey();
  const before = readFileSync(join(agent.stateDir, 'ledger.json'), 'utf8');
  const forged = await agentExchange(agent.address, (hello) => A.buildAgentRequest(rogue, A.sealLaunch({
    op: 'launch', service: '/net/forged', launchId: A.newLaunchId(), program: 'echo', args: [], env: {}, servers: [ns.server], ticketLine: '{}',
  }, hello.boxKey), { boxKey: hello.boxKey, epoch, target: host, agent: hello.identity }));
  assert.equal(forged.reply.ok, false);
  assert.equal(forged.reply.code, 'UNKNOWN_KEY');
  assert.equal(readFileSync(join(agent.stateDir, 'ledger.json'), 'utf8'), before, 'nothing was launched');
  assert.match(agent.stderr.text(), /REPLAYED|replay/i, 'the refusal is logged');
});

test('attack: a request built for host B and relayed to host A\'s agent is WRONG_TARGET, and A starts nothing', { skip: why }, async () => {
  const [agentA, agentB] = agents as [AgentProcess, AgentProcess];
  const hostB = agentB.address.split(':')[0] as string;
  const epoch = await nameServerEpoch();
  const before = readFileSync(join(agentA.stateDir, 'ledger.json'), 'utf8');
  // What a relay between the name server and B's port produces when it forwards to A: A's hello
  // (its box key, its identity) answered by a request the name server built for B.
  const relayed = await agentExchange(agentA.address, (hello) => A.buildAgentRequest(nameServerKey(), A.sealLaunch({
    op: 'launch', service: '/net/relayed', launchId: A.newLaunchId(), program: 'echo', args: ['--host', hostB], env: {}, servers: [ns.server], ticketLine: '{}',
  }, hello.boxKey), { boxKey: hello.boxKey, epoch, target: hostB, agent: hello.identity }));
  assert.equal(relayed.reply.ok, false);
  assert.equal(relayed.reply.code, 'WRONG_TARGET');
  assert.match(String(relayed.reply.message), new RegExp(hostB.replaceAll('.', '\\.')));
  // Named for A's host but for B's identity (an agent key relayed across hosts): refused too.
  const otherKey = await agentExchange(agentA.address, (hello) => A.buildAgentRequest(nameServerKey(), { op: 'status' }, {
    boxKey: hello.boxKey, epoch, target: agentA.address.split(':')[0] as string, agent: agentB.identity,
  }));
  assert.equal(otherKey.reply.code, 'WRONG_TARGET');
  assert.equal(readFileSync(join(agentA.stateDir, 'ledger.json'), 'utf8'), before, 'nothing was launched');
});

test('a kill of a pid the agent never launched is refused and the process lives', { skip: why }, async () => {
  const agent = agents[0] as AgentProcess;
  const h = net.hosts[1];
  assert.ok(h);
  const victim = spawn('ip', ['netns', 'exec', h.ns, 'sleep', '300'], { stdio: 'ignore' });
  const exited = trackChild(victim);
  const pid = victim.pid as number;
  const epoch = await nameServerEpoch();
  const r = await agentExchange(agent.address, (hello) => A.buildAgentRequest(nameServerKey(), {
    op: 'kill', service: '/net/echo', launchId: A.newLaunchId(), pid,
  }, { boxKey: hello.boxKey, epoch, target: h.addr, agent: hello.identity }));
  assert.equal(r.reply.ok, false);
  assert.equal(r.reply.code, 'NOT_LAUNCHED');
  assert.ok(alive(pid), 'the process the agent did not launch is untouched');
  victim.kill('SIGKILL');
  await exited;
});

test('an advertisement of an auto-start name with a wrong ticket is refused', { skip: why }, async () => {
  await registerEcho('/net/guarded', 2);
  const c = new DpnsClient({ servers: [ns.server] });
  clients.push(c);
  await assert.rejects(c.advertise('/net/guarded', '198.18.255.1', 9, { ticket: { service: '/net/guarded', ticket: newTicket(), nameserverTicket: newTicket(), servers: [ns.server] } }),
    (e: unknown) => isDpnsError(e, 'TICKET_REFUSED'));
  await assert.rejects(c.advertise('/net/guarded', '198.18.255.1', 9), (e: unknown) => isDpnsError(e, 'TICKET_REFUSED'));
  assert.equal((await entry('/net/guarded')).state, 'registered');
});

test('launched services outlive their agent, which picks them up again from its ledger', { skip: why }, async () => {
  await registerEcho('/net/survivor', 1);
  await ok(['find', '/net/survivor']);
  const { pid } = await entry('/net/survivor');
  assert.ok(pid !== undefined);
  const old = agents[0] as AgentProcess;
  await old.kill('SIGTERM');
  assert.ok(alive(pid), 'the service survived the agent stopping');
  assert.equal((await entry('/net/survivor')).state, 'running');
  agents[0] = await old.restart();
  await ok(['kill', '/net/survivor']);
  await gone(pid);
});

test('restart on-failure: a service whose process dies is launched again', { skip: why }, async () => {
  const h = net.hosts[2];
  assert.ok(h);
  await ok(['add', '/net/phoenix', '--host', h.addr, '--program', 'echo', '--arg=--host', `--arg=${h.addr}`, '--env', `DPNS_ADVERTISE_HOST=${h.addr}`, '--restart', 'on-failure']);
  await ok(['find', '/net/phoenix']);
  const first = await entry('/net/phoenix');
  assert.ok(first.pid !== undefined);
  process.kill(first.pid, 'SIGKILL');
  const t0 = Date.now();
  let now = first;
  while (!(now.state === 'running' && now.pid !== first.pid)) {
    if (Date.now() - t0 > 15_000) throw new Error(`not relaunched: ${JSON.stringify(now)}`);
    await new Promise((r) => setTimeout(r, 100));
    now = await entry('/net/phoenix');
  }
  const [, host, port] = (await ok(['find', '/net/phoenix'])).trim().split(' ');
  assert.equal(await echo(host as string, Number(port), 'risen'), 'risen\n');
  // A kill is on purpose: no restart follows.
  await ok(['kill', '/net/phoenix']);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await entry('/net/phoenix')).state, 'stopped');
});
