// Services that follow their hosts, in network namespaces: a name server on one host and a launch
// agent on each of two others, the test driving them with the real CLI. A service that names
// both hosts (by pattern or by list) is launched on the less loaded one, the load being what each
// agent reports (its host's load per CPU plus one per service it runs: the tests load a host by
// launching services there, so the order never hangs on timing); its restart picks again; a host
// whose agent refuses the launch is followed by the next; a host whose agent is down is passed
// over; with every agent down the launch fails naming each host.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceView } from '@dpns/protocol';
import {
  createTestNet, ECHO_SERVICE, killLaunchedGroups, netnsUnavailable, runCli, startAgentProcess, startServerProcess, teardown, type AgentProcess, type CliResult, type ServerProcess, type TestNet,
} from './harness/index.js';

const why = netnsUnavailable();
let net: TestNet;
let ns: ServerProcess;
let agents: AgentProcess[] = [];
const launched = new Set<number>();
let h1 = '';
let h2 = '';

before(async () => {
  if (why !== undefined) return;
  net = createTestNet(3);
  const [h0] = net.hosts;
  ns = await startServerProcess({
    listenHost: h0?.addr, wrap: net.exec(h0 as never), args: ['--agent-port', '7701', '--client-heartbeat-ms', '300', '--log-level', 'debug'],
  });
  // Host 1 may run `echo` only; host 2 also `echo2` (the same program under another name).
  const allows = [{ echo: ECHO_SERVICE }, { echo: ECHO_SERVICE, echo2: ECHO_SERVICE }];
  agents = await Promise.all(net.hosts.slice(1).map((h, i) => startAgentProcess({
    trustedKeys: [ns.publicKey], allow: allows[i] as Record<string, string>, listenHost: h.addr, port: 7701, wrap: net.exec(h),
    enroll: { url: ns.url, token: ns.token },
  })));
  h1 = net.hosts[1]?.addr as string;
  h2 = net.hosts[2]?.addr as string;
});

after(async () => {
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

/** What the name server logged of the hosts' loads for `name`'s launches, for a failure's message. */
function loads(name: string): string {
  return ns.stderrLines().filter((l) => l.includes('hosts by load') && l.includes(name)).join('\n');
}

/** Finds (so launches) `name`; answers the host it runs on. */
async function findHost(name: string): Promise<string> {
  const [, host] = (await ok(['find', name])).trim().split(' ');
  await entry(name);
  return host as string;
}

/** A service on one host, running: one more process for that host's agent to count. */
async function occupy(name: string, host: string): Promise<void> {
  await ok(['add', name, '--host', host, '--program', 'echo', '--env', `DPNS_ADVERTISE_HOST=${host}`]);
  assert.equal(await findHost(name), host);
}

test('a service whose hosts are a pattern runs on the less loaded host, and dpns state shows where', { skip: why }, async () => {
  // Each agent has answered a request before its load is asked: a cold agent on a busy machine
  // may take longer than the load query's timeout, and would then be tried last.
  await occupy('/fh/warm', h2);
  await ok(['kill', '/fh/warm']);
  await occupy('/fh/busy1', h1);
  await occupy('/fh/busy2', h1);
  // Takes in the name server's host too, which has no agent: it is no candidate.
  const pattern = `${h1.slice(0, h1.lastIndexOf('.'))}.1?`;
  await ok(['add', '/fh/least', '--hosts', pattern, '--program', 'echo', '--restart', 'on-failure']);
  assert.equal(await findHost('/fh/least'), h2, `host 1 runs two services, host 2 none; the loads: ${loads('/fh/least')}`);
  const e = await entry('/fh/least');
  assert.equal(e.state, 'running');
  assert.equal(e.launchedOn, h2);
  assert.equal(e.host, h2);
  assert.deepEqual(e.spec?.hosts, [pattern]);
  assert.equal(e.spec?.host, undefined);
  const table = await ok(['state', '/fh/least']);
  assert.match(table, new RegExp(`/fh/least\\s+service\\s+running\\s+${h2.replaceAll('.', '\\.')}\\s`));
  const info = await ok(['info', '/fh/least']);
  assert.match(info, new RegExp(`launch hosts:\\s+${pattern.replaceAll('.', '\\.').replace('?', '\\?')}`));
  assert.match(info, new RegExp(`launched on:\\s+${h2.replaceAll('.', '\\.')}`));
});

test('its restart under the restart policy picks the host again: now the other one', { skip: why }, async () => {
  await occupy('/fh/pin1', h2);
  await ok(['kill', '/fh/busy1']);
  await ok(['kill', '/fh/busy2']);
  // Host 1 now runs nothing; host 2 runs /fh/pin1 and /fh/least.
  const first = await entry('/fh/least');
  assert.ok(first.pid !== undefined);
  process.kill(first.pid, 'SIGKILL');
  const t0 = Date.now();
  let now = first;
  while (!(now.state === 'running' && now.pid !== first.pid)) {
    if (Date.now() - t0 > 20_000) throw new Error(`not relaunched: ${JSON.stringify(now)}`);
    await new Promise((r) => setTimeout(r, 100));
    now = await entry('/fh/least');
  }
  assert.equal(now.launchedOn, h1, `relaunched on host 1, which runs nothing, not host 2, which runs /fh/pin1; the loads: ${loads('/fh/least')}`);
  assert.equal(now.host, h1);
});

test('a launch the first host\'s agent refuses goes to the next host', { skip: why }, async () => {
  // Host 1 runs /fh/least; host 2 runs /fh/pin1 and /fh/pin2: host 1 is asked first, and refuses echo2.
  await occupy('/fh/pin2', h2);
  await ok(['add', '/fh/fallback', '--hosts', `${h1},${h2}`, '--program', 'echo2']);
  assert.equal(await findHost('/fh/fallback'), h2, loads('/fh/fallback'));
  assert.match((agents[0] as AgentProcess).stderr.text() + (agents[0] as AgentProcess).stdout.text(), /NOT_ALLOWED/, 'host 1 was asked first and refused');
  assert.equal((await entry('/fh/fallback')).launchedOn, h2);
  // A kill goes to the agent that launched it.
  await ok(['kill', '/fh/fallback']);
  assert.equal((await entry('/fh/fallback')).state, 'stopped');
});

test('a service whose first host\'s agent is down starts on the second', { skip: why }, async () => {
  await (agents[0] as AgentProcess).kill('SIGKILL');
  await ok(['add', '/fh/down', '--hosts', `${h1},${h2}`, '--program', 'echo']);
  assert.equal(await findHost('/fh/down'), h2);
  const e = await entry('/fh/down');
  assert.equal(e.state, 'running');
  assert.equal(e.launchedOn, h2);
});

test('with every agent down, the launch fails naming each host it tried', { skip: why }, async () => {
  await (agents[1] as AgentProcess).kill('SIGKILL');
  await ok(['add', '/fh/none', '--hosts', `${h1},${h2}`, '--program', 'echo']);
  const r = await dpns(['find', '/fh/none']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /LAUNCH_FAILED/);
  assert.match(r.stderr, new RegExp(`${h1.replaceAll('.', '\\.')}: .*${h2.replaceAll('.', '\\.')}: `));
  const e = await entry('/fh/none');
  assert.equal(e.state, 'failed');
  assert.match(e.reason ?? '', /AGENT_UNREACHABLE: cannot launch \/fh\/none on any of the 2 hosts tried/);
});
