// No secret crosses a link in the clear (docs/SECURITY.md; PROTOCOL.md §4, §11, §17, §19), checked
// on the real bytes. A recording proxy sits on every link: clients, the `dpns` CLI, the agent's
// join and the launched service reach the name server through one; the name server reaches its
// launch agent through one (--agent-port names the proxy, which forwards to the agent's real
// port); the members of a two-member cluster reach each other through one each (--cluster names
// the proxies). After an admin login, a join-token enrollment, a launch, authenticateService and a
// kill, the secrets are read from where they live (data directory, agent state, what the launched
// service got on stdin, what the client opened) and looked for in every byte each proxy carried,
// raw and unmasked, in text, hex, HEX, base64 and base64url.
//
// The join token, which agents.joinToken once answered in the clear, comes back sealed to the
// admin client's one-off key: the admin link is held to the claim for it too.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DpnsClient, parseLaunchTicket } from '@dpns/client';
import { deriveClusterKey } from '@dpns/nameserver';
import { type AuthPair } from '@dpns/protocol';
import { parsePrivateKeyFile } from '@dpns/node-kit';
import {
  carries, describeHits, findSecrets, FIXTURES_DIR, freePort, freePorts, killLaunchedGroups, LAUNCHD_BIN, makeTempDir, runCli, startAgentProcess, startCluster, startRecordingProxy, startServerProcess, teardown, trackChild, viewsOf, type CliResult, type ProxyTarget, type RecordingProxy, type Secret, type WireView,
} from './harness/index.js';

const KEEPER = join(FIXTURES_DIR, 'ticket-keeper.js');
/** As root the agent runs services as `nobody` unless the spec names a user it allows; the keeper must write into the test's 0700 directory. */
const AS_ROOT = process.getuid?.() === 0;

const proxies: RecordingProxy[] = [];
const clients: DpnsClient[] = [];
const launchedPids = new Set<number>();

after(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  killLaunchedGroups(launchedPids);
  await teardown();
});

async function proxy(target: ProxyTarget): Promise<RecordingProxy> {
  const p = await startRecordingProxy({ target });
  proxies.push(p);
  return p;
}

function client(servers: string[], token?: string): DpnsClient {
  const c = new DpnsClient({ servers, ...(token === undefined ? {} : { token }) });
  clients.push(c);
  return c;
}

async function dpns(server: string, args: string[], token?: string): Promise<CliResult> {
  const r = await runCli(['--server', server, ...args], { env: token === undefined ? {} : { DPNS_TOKEN: token }, timeoutMs: 30_000 });
  assert.equal(r.code, 0, `dpns ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** `dpns-launchd join` as an operator runs it on the agent's host. */
async function launchdJoin(token: string, server: string, stateDir: string): Promise<void> {
  const p = spawn(process.execPath, [LAUNCHD_BIN, 'join', '--join', token, '--server', server, '--host', '127.0.0.1', '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += String(d)));
  p.stderr.on('data', (d) => (out += String(d)));
  assert.equal((await trackChild(p)).code, 0, `dpns-launchd join: ${out}`);
}

/** The launched service's pid, kept so the after-hook can end it if the test does not. */
async function launchedPid(c: DpnsClient): Promise<number> {
  const [view] = await c.serviceState(NAME);
  assert.ok(view?.kind === 'service' && view.state === 'running' && view.pid !== undefined, `${NAME} runs: ${JSON.stringify(view)}`);
  launchedPids.add(view.pid);
  return view.pid;
}

/** What the keeper fixture was given: its stdin line and the pairs handed to it. */
interface Kept {
  stdin: string;
  pairs: AuthPair[];
}

/** Polls the keeper's file until `ready` holds (it writes as it is given things); fails after 10 s. */
async function kept(path: string, ready: (k: Kept) => boolean): Promise<Kept> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const k: Kept = { stdin: '', pairs: [] };
    const text = await readFile(path, 'utf8').catch(() => '');
    for (const line of text.split('\n').filter((l) => l !== '')) {
      const r = JSON.parse(line) as { stdin?: string; pair?: AuthPair };
      if (r.stdin !== undefined) k.stdin = r.stdin;
      if (r.pair !== undefined) k.pairs.push(r.pair);
    }
    if (ready(k)) return k;
    if (Date.now() > deadline) assert.fail(`the launched service did not record what was expected: ${text}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The name server's own secrets, read from its data directory. */
async function serverSecrets(dataDir: string): Promise<Secret[]> {
  const token = (await readFile(join(dataDir, 'admin.token'), 'utf8')).trim();
  const key = parsePrivateKeyFile(await readFile(join(dataDir, 'nameserver.key'), 'utf8'));
  assert.ok(key !== undefined, 'nameserver.key holds a key');
  assert.match(token, /^[0-9a-f]{64}$/);
  return [
    { name: 'admin token', value: token },
    { name: 'name server signing key', value: key.seed },
    { name: 'cluster key', value: deriveClusterKey(Buffer.from(key.seed, 'hex')) },
  ];
}

async function agentSecrets(stateDir: string): Promise<Secret[]> {
  const seed = (await readFile(join(stateDir, 'identity.key'), 'utf8')).trim();
  assert.match(seed, /^[0-9a-f]{64}$/);
  return [{ name: 'agent identity key', value: seed }];
}

/** The tickets as the launched service read them on stdin, and the pairs it was handed. */
function launchSecrets(k: Kept): Secret[] {
  const t = parseLaunchTicket(k.stdin);
  return [{ name: 'service ticket Ts', value: t.ticket }, { name: 'name server ticket Tn', value: t.nameserverTicket }, ...k.pairs.flatMap((p) => pairSecrets(p, 'as the service got it'))];
}

function pairSecrets(p: AuthPair, how: string): Secret[] {
  return [{ name: `clientTicket of pair ${p.pairId} (${how})`, value: p.clientTicket }, { name: `serviceTicket of pair ${p.pairId} (${how})`, value: p.serviceTicket }];
}

/** Asserts no form of any of `secrets` is in `views`, listing every hit when one is. */
function assertNoSecrets(views: readonly WireView[], secrets: readonly Secret[], link: string): void {
  const hits = findSecrets(views, secrets);
  assert.equal(hits.length, 0, `secrets crossed ${link} in the clear:\n${describeHits(hits)}`);
}

/** A line for the test's output: how much a link carried, so a reader sees the scan was not of nothing. */
function volume(views: readonly WireView[], link: string): string {
  const raw = views.filter((v) => v.where === 'raw');
  const bytes = (d: 'sent' | 'answered'): number => raw.filter((v) => v.direction === d).reduce((n, v) => n + v.bytes.length, 0);
  const messages = views.filter((v) => v.where.startsWith('message')).length;
  return `${link}: ${new Set(views.map((v) => v.connection)).size} connections, ${bytes('sent')} bytes sent, ${bytes('answered')} answered, ${messages} WebSocket messages`;
}

function assertCarried(views: readonly WireView[], texts: readonly string[], link: string): void {
  for (const t of texts) assert.ok(carries(views, t), `${link} never carried ${t}: the traffic did not go through the proxy`);
}

/** Launches spec secrets: an env value and an argument, sealed to the agent (§17.5), stored in the replicated log. */
function specSecrets(): { env: string; arg: string; secrets: Secret[] } {
  const env = randomBytes(32).toString('hex');
  const arg = `--wire-arg=${randomBytes(24).toString('base64url')}`;
  return { env, arg, secrets: [{ name: 'launch spec env value', value: env }, { name: 'launch spec argument', value: arg }] };
}

const NAME = '/wire/keeper';


test('client ↔ name server and name server ↔ agent: logins, joins, launches, tickets and pairs cross only as proofs and sealed boxes', { timeout: 120_000 }, async (t) => {
  const [nsPort, agentPort] = await freePorts(2) as [number, number];
  // Everyone reaches the name server through `clientLink`, launched services too (their ticket
  // line names --public-address); `adminLink` carries only the admin's agents.joinToken (below).
  const clientLink = await proxy({ host: '127.0.0.1', port: nsPort });
  const adminLink = await proxy({ host: '127.0.0.1', port: nsPort });
  const agentLink = await proxy({ host: '127.0.0.1', port: agentPort });
  // Both daemons log at debug: their logs of the whole run are searched for the secrets too.
  const ns = await startServerProcess({ port: nsPort, args: ['--agent-port', String(agentLink.port), '--public-address', clientLink.address, '--log-level', 'debug'] });
  const agent = await startAgentProcess({ trustedKeys: [ns.publicKey], allow: { node: process.execPath }, port: agentPort, logLevel: 'debug', ...(AS_ROOT ? { users: ['root'] } : {}) });

  // The admin makes a join token; the agent enrolls with it over the client link.
  const token = (await dpns(adminLink.address, ['agents', 'join-token', '--host', '127.0.0.1'], ns.token)).stdout.trim();
  assert.match(token, /^[0-9a-f]{16}\.[0-9a-f]{64}$/);
  const [tokenId = '', secret = ''] = token.split('.');
  await launchdJoin(token, clientLink.address, agent.stateDir);

  // An auto-start service whose spec holds secrets, launched by an anonymous find.
  const spec = specSecrets();
  const out = join(makeTempDir('dpns-keeper-'), 'kept.jsonl');
  await dpns(clientLink.address, ['add', NAME, '--host', '127.0.0.1', '--program', 'node', '--arg', KEEPER, '--arg', out, `--arg=${spec.arg}`,
    '--env', `WIRE_SECRET=${spec.env}`, ...(AS_ROOT ? ['--user', 'root'] : [])], ns.token);
  const anon = client([clientLink.address]);
  const [found] = await anon.findServices(NAME);
  assert.equal(found?.name, NAME);
  const pid = await launchedPid(anon);

  // Two pairs: the library's, as it opened it, and the one `dpns auth` prints.
  const libraryPair = (await anon.authenticateService(NAME)).exportSecret();
  const cliPair = JSON.parse((await dpns(clientLink.address, ['auth', NAME, '--json'])).stdout) as AuthPair;
  const got = await kept(out, (k) => k.stdin !== '' && [libraryPair, cliPair].every((p) => k.pairs.some((q) => q.pairId === p.pairId)));
  assert.deepEqual(got.pairs.find((p) => p.pairId === libraryPair.pairId), libraryPair, 'the service and the client hold the same pair');

  // An admin connection of the library (it logs in on connect) kills the service through the agent.
  const admin = client([clientLink.address], ns.token);
  assert.equal((await admin.killService(NAME)).signal, 'SIGTERM', 'the agent ended the service');
  launchedPids.delete(pid);

  const joinSecret: Secret = { name: 'join token secret', value: secret };
  const everyone = [
    ...await serverSecrets(ns.dataDir), ...await agentSecrets(agent.stateDir), ...launchSecrets(got),
    ...pairSecrets(libraryPair, 'as the library opened it'), ...pairSecrets(cliPair, 'as dpns auth printed it'), joinSecret,
  ];
  const client_ = viewsOf(clientLink.connections);
  const admin_ = viewsOf(adminLink.connections);
  const agent_ = viewsOf(agentLink.connections);

  for (const [views, link] of [[client_, 'client link'], [admin_, 'admin link'], [agent_, 'agent link']] as const) t.diagnostic(volume(views, link));
  // The links did carry the operations, and the reader sees what clients send (their frames are masked).
  assertCarried(client_, [
    '"method":"login"', '"method":"agents.enroll"', `"tokenId":"${tokenId}"`, '"method":"register.add"', '"method":"findServices"',
    '"method":"advertiseService"', '"method":"ticket.challenge"', '"method":"ticket.pair"', '"method":"authenticateService"', '"method":"killService"',
  ], 'the client link');
  assertCarried(admin_, ['"method":"login"', '"method":"agents.joinToken"'], 'the admin link');
  assertCarried(agent_, ['"type":"hello"', '\\"op\\":\\"launch\\"', '\\"sealed\\":{', '\\"op\\":\\"kill\\"', '"type":"reply","ok":true'], 'the agent link');
  // A control: the spec's env value, which the admin's register.add sends in the clear (an admin
  // may read it back with register.info), is found in the client's masked frames.
  const control = findSecrets(client_, spec.secrets.slice(0, 1));
  assert.ok(control.some((h) => h.direction === 'sent' && h.where.startsWith('message')), 'the scan finds a secret a client sent');

  assertNoSecrets(client_, everyone, 'the client link (clients, CLI, agent join, launched service ↔ name server)');
  assertNoSecrets(admin_, everyone, 'the admin link (agents.joinToken among its calls)');
  assertNoSecrets(agent_, [...everyone, ...spec.secrets], 'the agent link (name server ↔ dpns-launchd)');

  // The daemons' own logs of it all, at debug, hold none of them either (docs/SECURITY.md, "Logs").
  const logs: [string, string][] = [
    ['the name server\'s log', [...ns.stdoutLines(), ...ns.stderrLines()].join('\n')],
    ['the agent\'s log', `${agent.stdout.text()}\n${agent.stderr.text()}`],
  ];
  assert.ok(logs[0]?.[1].includes('"msg":"launching"') && logs[1]?.[1].includes('"msg":"launched"'), 'the logs cover the launch');
  for (const [where, text] of logs) {
    for (const s of [...everyone, ...spec.secrets]) {
      const forms = typeof s.value === 'string' ? [s.value] : [Buffer.from(s.value).toString('hex'), Buffer.from(s.value).toString('base64')];
      for (const f of forms) assert.ok(!text.includes(f), `${s.name} is in ${where}`);
    }
  }
});

test('member ↔ member in backup mode: the peer link proves the cluster key and seals the log that carries tickets and specs', { timeout: 120_000 }, async (t) => {
  const agentPort = await freePort();
  const agentLink = await proxy({ host: '127.0.0.1', port: agentPort });
  const memberLinks: RecordingProxy[] = [];
  const c = await startCluster({
    n: 2, extraArgs: ['--agent-port', String(agentLink.port), '--log-level', 'warn'],
    front: async (sid, listen) => {
      const p = await proxy(listen);
      memberLinks[sid] = p;
      return p.address;
    },
  });
  try {
    const primary = await c.primary();
    const backup = 1 - primary.sid;
    const agent = await startAgentProcess({
      trustedKeys: [c.proc(primary.sid).publicKey], allow: { node: process.execPath }, port: agentPort, ...(AS_ROOT ? { users: ['root'] } : {}),
      enroll: { url: primary.url, token: c.adminToken },
    });
    const spec = specSecrets();
    const out = join(makeTempDir('dpns-keeper-'), 'kept.jsonl');
    const admin = client(c.servers, c.adminToken);
    await admin.register.add(NAME, {
      host: '127.0.0.1', program: 'node', args: [KEEPER, out, spec.arg], env: { WIRE_SECRET: spec.env }, ...(AS_ROOT ? { user: 'root' } : {}),
    });
    const anon = client(c.servers);
    await anon.findServices(NAME);
    const pid = await launchedPid(anon);
    const pair = (await anon.authenticateService(NAME)).exportSecret();
    const got = await kept(out, (k) => k.stdin !== '' && k.pairs.some((p) => p.pairId === pair.pairId));
    const { ticket } = parseLaunchTicket(got.stdin);

    // The tickets went to the backup: it stored them, and its only way to the primary is the proxy.
    const deadline = Date.now() + 10_000;
    while (!(await dirHolds(c.members[backup]?.dataDir ?? '', ticket))) {
      if (Date.now() > deadline) assert.fail('the backup never stored the launch tickets');
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await admin.killService(NAME)).signal, 'SIGTERM', 'the agent ended the service');
    launchedPids.delete(pid);

    const everyone = [
      ...await serverSecrets(c.members[0]?.dataDir ?? ''), ...await agentSecrets(agent.stateDir), ...launchSecrets(got), ...pairSecrets(pair, 'as the library opened it'),
    ];
    const views = memberLinks.flatMap((p) => viewsOf(p.connections));
    const peer = views.filter((v) => v.request.startsWith('GET /peer?'));
    const others = views.filter((v) => !v.request.startsWith('GET /peer?'));
    for (const [v, link] of [[peer, 'peer link'], [others, 'client connections to members'], [viewsOf(agentLink.connections), 'agent link']] as const) t.diagnostic(volume(v, link));
    assert.ok(peer.some((v) => v.direction === 'answered' && v.where === 'head' && v.bytes.toString('latin1').startsWith('HTTP/1.1 101 ')), 'a peer link was upgraded through a proxy');
    for (const direction of ['sent', 'answered'] as const) {
      assert.ok(peer.filter((v) => v.direction === direction && v.where.startsWith('message')).length >= 5, `the peer link carried frames (${direction})`);
    }
    assertCarried(others, ['"method":"register.add"', '"method":"findServices"', '"method":"authenticateService"', '"method":"ticket.pair"'], 'the member links (clients)');
    assertCarried(viewsOf(agentLink.connections), ['\\"op\\":\\"launch\\"', '\\"op\\":\\"kill\\"'], 'the agent link');

    assertNoSecrets(peer, [...everyone, ...spec.secrets], 'the peer link (member ↔ member)');
    assertNoSecrets(others, everyone, 'the member links (clients ↔ members)');
    assertNoSecrets(viewsOf(agentLink.connections), [...everyone, ...spec.secrets], 'the agent link (primary ↔ dpns-launchd)');
  } finally {
    await c.close();
  }
});

/** True when some file under `dir` holds `text`. */
async function dirHolds(dir: string, text: string): Promise<boolean> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const b = await readFile(join(e.parentPath, e.name)).catch(() => Buffer.alloc(0));
    if (b.includes(text)) return true;
  }
  return false;
}
