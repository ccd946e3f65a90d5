// Auto-start services that a DNS query launches through a real dpns-launchd, asked with dig and
// through dnsmasq forwarding the domain; a launch that fails, and one that outlasts the wait,
// answer SERVFAIL before the resolver gives up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { DpnsClient } from '@dpns/client';
import { dig, ECHO_SERVICE, freePort, killLaunchedGroups, runCli, startAgentProcess, startDnsmasq, startDnsServer, teardown, type CliResult, type ServerProcess } from './harness/index.js';

let ns: ServerProcess;
let dnsPort: number;
const launchedPids = new Set<number>();

before(async () => {
  const agentPort = await freePort();
  ({ ns, dnsPort } = await startDnsServer(['--agent-port', String(agentPort), '--log-level', 'warn']));
  await startAgentProcess({
    trustedKeys: [ns.publicKey], allow: { echo: ECHO_SERVICE, false: '/bin/false', sleep: '/bin/sleep' }, port: agentPort,
    enroll: { url: ns.url, token: ns.token, host: '127.0.0.1' }, logLevel: 'warn',
  });
  const echo = ['--host', '127.0.0.1', '--program', 'echo', '--arg=--host', '--arg=127.0.0.1', '--env', 'DPNS_ADVERTISE_HOST=127.0.0.1'];
  await ok(['add', '/demo/echo', ...echo]);
  await ok(['add', '/demo/echo2', ...echo]);
  await ok(['add', '/demo/broken', '--host', '127.0.0.1', '--program', 'false', '--start-timeout', '3000']);
  // Runs, but never advertises itself: its launch outlasts the query's wait.
  await ok(['add', '/demo/slow', '--host', '127.0.0.1', '--program', 'sleep', '--arg', '60', '--start-timeout', '20000']);
});

after(async () => {
  killLaunchedGroups(launchedPids);
  await teardown();
});

async function ok(args: string[]): Promise<CliResult> {
  const r = await runCli(['--server', ns.server, ...args], { env: { DPNS_TOKEN: ns.token }, timeoutMs: 30_000 });
  assert.equal(r.code, 0, `dpns ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

/** The launched pid of `name`, remembered so that no launched process outlives the test. */
async function rememberPid(name: string): Promise<void> {
  const c = new DpnsClient({ servers: [ns.server] });
  try {
    const [e] = await c.serviceState(name);
    if (e?.kind === 'service' && e.pid !== undefined) launchedPids.add(e.pid);
  } finally {
    await c.close();
  }
}

/** Sends a line to a TCP echo service on loopback and expects it back. */
function echoes(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write('ping\n'));
    let got = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      got += d;
      if (got.includes('\n')) {
        sock.destroy();
        if (got === 'ping\n') resolve();
        else reject(new Error(`the echo service answered ${JSON.stringify(got)}`));
      }
    });
    sock.on('error', reject);
  });
}

test('a query for a stopped auto-start service launches it through the agent and answers once it runs', async () => {
  const r = await dig(dnsPort, ['echo.demo.dpns', 'SRV']);
  assert.equal(r.status, 'NOERROR', r.text);
  const m = /^echo\.demo\.dpns\. 5 IN SRV 0 0 (\d+) echo\.demo\.dpns\.$/.exec(r.answer[0] ?? '');
  assert.ok(m, r.text);
  await rememberPid('/demo/echo');
  await echoes(Number(m[1]));
  // Running now: the next query is answered from the registry, same port.
  assert.deepEqual((await dig(dnsPort, ['echo.demo.dpns', 'SRV'])).answer, r.answer);
});

test('a launch that fails is SERVFAIL', async () => {
  const r = await dig(dnsPort, ['broken.demo.dpns', 'A']);
  assert.equal(r.status, 'SERVFAIL', r.text);
});

test('a launch that outlasts the wait is SERVFAIL before the resolver gives up (dig waits 5 s), and goes on', async () => {
  const r = await dig(dnsPort, ['slow.demo.dpns', 'SRV']);
  assert.equal(r.status, 'SERVFAIL', r.text);
  await rememberPid('/demo/slow');
  const c = new DpnsClient({ servers: [ns.server] });
  try {
    const [e] = await c.serviceState('/demo/slow');
    assert.equal(e?.kind === 'service' ? e.state : undefined, 'starting', 'the launch goes on after the answer');
  } finally {
    await c.close();
  }
});

test('through dnsmasq forwarding the domain, a query launches a service', async () => {
  const fwd = await startDnsmasq('dpns', dnsPort);
  try {
    const launched = await dig(fwd.port, ['echo2.demo.dpns', 'SRV', '+recurse']);
    const m = /^echo2\.demo\.dpns\. 5 IN SRV 0 0 (\d+) echo2\.demo\.dpns\.$/.exec(launched.answer[0] ?? '');
    assert.ok(m, launched.text);
    await rememberPid('/demo/echo2');
    await echoes(Number(m[1]));
  } finally {
    await fwd.stop();
  }
});
