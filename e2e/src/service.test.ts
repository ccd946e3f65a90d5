// Launch on demand end to end, with real processes: the name server, a dpns-launchd agent that
// trusts it, and the example echo service (examples/echo-service/echo-service.mjs) registered as
// auto-start. `dpns find` starts it and gives a working address; kill, launch and reset go through
// the agent; `dpns auth` gives a pair with which the client and the running service prove
// themselves to each other; an advertisement of the name without its launch ticket is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { ClientPair, DpnsService, isDpnsError } from '@dpns/client';
import {
  freePort, LineLog, makeTempDir, REPO_ROOT, runCli, ServiceRig, startServerProcess, teardown, trackChild, type CliResult, type ServerProcess,
} from './harness/index.js';

const ECHO = resolve(REPO_ROOT, 'examples/echo-service/echo-service.mjs');
const LAUNCHD_BIN = resolve(REPO_ROOT, 'packages/launchd/bin/dpns-launchd.js');
const NAME = '/demo/echo';
const AGENT_LISTENING = /^dpns-launchd \S+ listening on ws:\/\/127\.0\.0\.1:(\d+)/;

let ns: ServerProcess;
let agentLogs: string;
/** Clients, the CLI, and every pid the name server reported for a launched service, so none outlives the test. */
let rig: ServiceRig;

before(async () => {
  const agentPort = await freePort();
  ns = await startServerProcess({ args: ['--agent-port', String(agentPort), '--log-level', 'warn'] });
  // The harness reads the "nameserver key: HEX" line the server prints at start.
  const key = ns.publicKey;
  assert.match(key, /^[0-9a-f]{64}$/);
  const dir = makeTempDir('dpns-launchd-');
  agentLogs = join(dir, 'state', 'logs');
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({
    listen: `127.0.0.1:${agentPort}`, stateDir: join(dir, 'state'), trustedKeys: [key], allow: { echo: ECHO, false: '/bin/false', sleep: '/bin/sleep' }, logLevel: 'warn',
  }));
  const agent = spawn(process.execPath, [LAUNCHD_BIN, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = trackChild(agent);
  const stdout = new LineLog(agent.stdout, 'dpns-launchd stdout');
  const stderr = new LineLog(agent.stderr, 'dpns-launchd stderr');
  await Promise.race([
    stdout.waitFor(AGENT_LISTENING, 10_000),
    exited.then((e) => {
      throw new Error(`dpns-launchd exited (code ${e.code}) before listening:\n${stdout.text()}\n${stderr.text()}`);
    }),
  ]);
  // Enrolled as an operator would: a join token from the admin, `dpns-launchd join` on the host.
  const token = await runCli(['--server', ns.server, 'agents', 'join-token'], { env: { DPNS_TOKEN: ns.token }, timeoutMs: 30_000 });
  assert.equal(token.code, 0, token.stderr);
  const join_ = spawn(process.execPath, [LAUNCHD_BIN, 'join', '--join', token.stdout.trim(), '--server', ns.server, '--host', '127.0.0.1', '--state-dir', join(dir, 'state')], { stdio: 'ignore' });
  assert.equal((await trackChild(join_)).code, 0, 'dpns-launchd join enrolled the agent');
  rig = new ServiceRig(ns, serviceLog);
});

after(async () => {
  await rig.close();
  await teardown();
});

async function refused(args: string[], code: string): Promise<CliResult> {
  const r = await rig.dpns(args);
  assert.equal(r.code, 1, `dpns ${args.join(' ')}: expected exit 1, got ${r.code}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^dpns: ${code}: [^\\n]+\\n$`), r.stderr);
  return r;
}

/** The "NAME HOST PORT" line of find, launch and reset. */
function address(r: CliResult): { host: string; port: number } {
  const m = new RegExp(`^${NAME} (\\S+) (\\d+)\\n$`).exec(r.stdout);
  assert.ok(m, `expected "${NAME} HOST PORT", got ${JSON.stringify(r.stdout)}`);
  return { host: m[1] as string, port: Number(m[2]) };
}

/** What the launched services wrote, for failure messages. */
async function serviceLog(): Promise<string> {
  try {
    const files = await readdir(agentLogs);
    const texts = await Promise.all(files.map(async (f) => `--- ${f}\n${(await readFile(join(agentLogs, f), 'utf8')).slice(-2000)}`));
    return texts.join('\n');
  } catch {
    return '(no service logs)';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls until `pid` is gone (the agent reaps its children asynchronously); fails after 10 s. */
async function gone(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) assert.fail(`process ${pid} is still alive`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Reads a socket line by line. */
function lines(sock: Socket): () => Promise<string> {
  let buf = '';
  const waiting: ((l: string) => void)[] = [];
  const ready: string[] = [];
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiting.shift();
      if (w === undefined) ready.push(line);
      else w(line);
    }
  });
  sock.on('close', () => {
    for (const w of waiting.splice(0)) w('(closed)');
  });
  return () => {
    const l = ready.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (sock.destroyed) return Promise.resolve('(closed)');
    return new Promise((r) => waiting.push(r));
  };
}

function open(port: number): Promise<Socket> {
  return new Promise((res, rej) => {
    const sock = connect(port, '127.0.0.1', () => res(sock));
    sock.once('error', rej);
  });
}

/** Sends a line to the echo service and expects it back. */
async function echoes(port: number): Promise<void> {
  const sock = await open(port);
  try {
    const next = lines(sock);
    const text = `hello ${randomBytes(4).toString('hex')}`;
    sock.write(`${text}\n`);
    assert.equal(await next(), text);
  } finally {
    sock.destroy();
  }
}

/**
 * The echo service's pair handshake (see its README): both sides prove they hold the pair over
 * the other's fresh challenge. Returns the service's last word: "OK" or "DENIED ...".
 */
async function handshake(port: number, pair: ClientPair, opts: { wrongProof?: boolean } = {}): Promise<string> {
  const sock = await open(port);
  try {
    const next = lines(sock);
    const clientChallenge = randomBytes(32).toString('hex');
    sock.write(`DPNS-AUTH ${pair.pairId} ${clientChallenge}\n`);
    const [word, serviceChallenge = '', serviceProof = ''] = (await next()).split(' ');
    if (word !== 'CHALLENGE') return [word, serviceChallenge, serviceProof].join(' ');
    assert.ok(pair.checkService(clientChallenge, serviceProof), 'the service proved it holds the pair');
    const proof = opts.wrongProof === true ? pair.prove(randomBytes(32).toString('hex')) : pair.prove(serviceChallenge);
    sock.write(`PROOF ${proof}\n`);
    const verdict = await next();
    if (verdict === 'OK') {
      sock.write('after auth\n');
      assert.equal(await next(), 'after auth', 'echo goes on after the handshake');
    }
    return verdict;
  } finally {
    sock.destroy();
  }
}

test('find of a registered auto-start service launches it through the agent and answers a working address', async () => {
  await rig.ok(['add', NAME, '--host', '127.0.0.1', '--program', ECHO, '--env', 'DPNS_ADVERTISE_HOST=127.0.0.1']);
  assert.equal((await rig.entry(NAME)).state, 'registered');
  await refused(['find', NAME, '--no-launch'], 'NOT_RUNNING');

  const r = await rig.ok(['find', NAME]);
  const at = address(r);
  assert.equal(at.host, '127.0.0.1');
  await echoes(at.port);
  const e = await rig.entry(NAME);
  assert.equal(e.state, 'running');
  assert.equal(e.port, at.port);
  assert.equal(typeof e.pid, 'number');
  assert.ok(isAlive(e.pid ?? -1));

  // Already running: launch answers the same address and does not say "(launched)".
  const again = await rig.ok(['launch', NAME]);
  assert.deepEqual(address(again), at);
  assert.equal(again.stderr, '');
  assert.equal((await rig.entry(NAME)).pid, e.pid);
});

test('auth: the client and the running service prove to each other that they hold the pair', async () => {
  const { port } = address(await rig.ok(['find', NAME]));
  const r = await rig.ok(['auth', NAME, '--json']);
  assert.match(r.stderr, /secret/);
  const printed = JSON.parse(r.stdout) as { pairId: string; clientTicket: string; serviceTicket: string };
  assert.deepEqual(Object.keys(printed).sort(), ['clientTicket', 'pairId', 'serviceTicket']);
  assert.equal(await handshake(port, ClientPair.fromSecret(printed, NAME)), 'OK');

  const pair = await rig.client().authenticateService(NAME);
  assert.equal(pair.service, NAME);
  assert.notEqual(pair.pairId, printed.pairId);
  assert.equal(await handshake(port, pair), 'OK');
  assert.match(await handshake(port, pair, { wrongProof: true }), /^DENIED/);
});

test('kill stops the service through the agent: its state is stopped and its process is gone', async () => {
  const { pid } = await rig.entry(NAME);
  assert.equal(typeof pid, 'number');
  const r = await rig.ok(['kill', NAME]);
  assert.match(r.stdout, new RegExp(`^(killed ${NAME}|${NAME} was not running)`));
  assert.equal((await rig.entry(NAME)).state, 'stopped');
  await gone(pid ?? -1);
  await refused(['find', NAME, '--no-launch'], 'NOT_RUNNING');
});

test('an advertisement of an auto-start name without its launch ticket, or with a wrong one, is refused', async () => {
  // A plain (non-admin) client: the admin may record a static entry for any name.
  await assert.rejects(rig.client().advertise(NAME, '127.0.0.1', 9), (e) => isDpnsError(e, 'TICKET_REFUSED'));
  const forged = { service: NAME, ticket: randomBytes(32).toString('hex'), nameserverTicket: randomBytes(32).toString('hex'), servers: [ns.server] };
  await assert.rejects(
    DpnsService.fromTicket(JSON.stringify(forged), { host: '127.0.0.1', port: 9, log: () => undefined }),
    (e) => isDpnsError(e, 'TICKET_REFUSED'),
  );
  assert.equal((await rig.entry(NAME)).state, 'stopped', 'nothing was advertised');
});

test('launch starts it again and says so; reset restarts it at a new pid', async () => {
  const launched = await rig.ok(['launch', NAME]);
  assert.equal(launched.stderr, `dpns: ${NAME} (launched)\n`);
  await echoes(address(launched).port);
  const before1 = await rig.entry(NAME);
  assert.equal(before1.state, 'running');

  const reset = await rig.ok(['reset', NAME]);
  const at = address(reset);
  await echoes(at.port);
  const after1 = await rig.entry(NAME);
  assert.equal(after1.state, 'running');
  assert.equal(after1.port, at.port);
  assert.notEqual(after1.pid, before1.pid);
  await gone(before1.pid ?? -1);

  // The library's find of a stopped service starts it as well.
  await rig.ok(['kill', NAME]);
  const [loc] = await rig.client().findServices(NAME);
  assert.ok(loc !== undefined);
  await echoes(loc.port);
  assert.equal((await rig.entry(NAME)).state, 'running');
});

test('a launch that fails is LAUNCH_FAILED with its cause, and the entry says failed', async () => {
  await rig.ok(['add', '/demo/false', '--host', '127.0.0.1', '--program', '/bin/false', '--start-timeout', '5000']);
  const r = await refused(['find', '/demo/false'], 'LAUNCH_FAILED');
  assert.match(r.stderr, /EXITED_EARLY|exit/i);
  assert.equal((await rig.entry('/demo/false')).state, 'failed');

  await rig.ok(['add', '/demo/not-allowed', '--host', '127.0.0.1', '--program', '/bin/true']);
  const r2 = await refused(['launch', '/demo/not-allowed'], 'LAUNCH_FAILED');
  assert.match(r2.stderr, /allow/i);
  const e = await rig.entry('/demo/not-allowed');
  assert.equal(e.state, 'failed');
  assert.ok(e.reason !== undefined && e.reason !== '');
});

test('a kill while the service is still starting ends stopped, and its waiting callers are told so', async () => {
  await rig.ok(['add', '/demo/sleepy', '--host', '127.0.0.1', '--program', 'sleep', '--arg', '30', '--start-timeout', '20000']);
  const launching = rig.client().launchService('/demo/sleepy');
  // It may reject while the kill below is still running: handled now, asserted below.
  launching.catch(() => undefined);
  const t0 = Date.now();
  let e = await rig.entry('/demo/sleepy');
  while (!(e.state === 'starting' && e.pid !== undefined)) {
    if (Date.now() - t0 > 10_000) throw new Error(`never started: ${JSON.stringify(e)}`);
    await new Promise((r) => setTimeout(r, 20));
    e = await rig.entry('/demo/sleepy');
  }
  await rig.ok(['kill', '/demo/sleepy']);
  await assert.rejects(launching, (err: unknown) => isDpnsError(err, 'LAUNCH_FAILED') && err.details?.cause === 'KILLED');
  // The exit-early watch must not turn the stopped entry into a failed one afterwards.
  await new Promise((r) => setTimeout(r, 600));
  assert.equal((await rig.entry('/demo/sleepy')).state, 'stopped');
});
