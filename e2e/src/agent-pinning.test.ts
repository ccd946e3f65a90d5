// Agent identity pinning: with --agent-key HOST=HEX the name server talks only to the agent that
// proves that identity on HOST (its hello is signed by the identity key). Another agent listening
// there — a stale install, or an impostor on the port — gets no launch and no ticket. The static
// key wins over an agent enrolled for the same host.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { agent as A } from '@dpns/protocol';
import { spawnSync } from 'node:child_process';
import { ECHO_SERVICE, freePorts, makeTempDir, NAMESERVER_BIN, runCli, startAgentProcess, startServerProcess, teardown } from './harness/index.js';

after(teardown);

test('a launch goes only to the agent whose identity is pinned for the host', { timeout: 60_000 }, async () => {
  const [agentPort] = await freePorts(1);
  const impostorKey = A.newSigningKey().publicKey;
  const ns = await startServerProcess({ args: ['--agent-port', String(agentPort), '--agent-key', `127.0.0.1=${impostorKey}`, '--log-level', 'warn'] });
  const agent = await startAgentProcess({ trustedKeys: [ns.publicKey], allow: { echo: ECHO_SERVICE }, port: agentPort });
  const dpns = (args: string[]) => runCli(['--server', ns.server, ...args], { env: { DPNS_TOKEN: ns.token }, timeoutMs: 30_000 });

  assert.equal((await dpns(['add', '/pin/echo', '--host', '127.0.0.1', '--program', 'echo', '--arg=--host', '--arg=127.0.0.1'])).code, 0);
  const refused = await dpns(['find', '/pin/echo']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /LAUNCH_FAILED/);
  assert.match(refused.stderr, /AGENT_UNTRUSTED/);
  assert.match(refused.stderr, new RegExp(`identity ${agent.identity}, which is not the one trusted for 127\\.0\\.0\\.1`), 'says which identity answered');

  // Pinned to the agent's real identity, the same launch goes through.
  const again = await ns.restart({ args: ['--agent-port', String(agentPort), '--agent-key', `127.0.0.1=${agent.identity}`, '--log-level', 'warn'] });
  const dpns2 = (args: string[]) => runCli(['--server', again.server, ...args], { env: { DPNS_TOKEN: again.token }, timeoutMs: 30_000 });
  await dpns2(['reset', '/pin/echo']).catch(() => undefined);
  const found = await dpns2(['find', '/pin/echo']);
  assert.equal(found.code, 0, found.stderr);
  const killed = await dpns2(['kill', '/pin/echo']);
  assert.equal(killed.code, 0, killed.stderr);
});

test('--agent-key must be HOST=HEX with a 64-hex-digit identity: bad usage, exit 2, nothing starts', () => {
  for (const arg of ['127.0.0.1=xyz', 'no-equals-sign']) {
    const r = spawnSync(process.execPath, [NAMESERVER_BIN, '--listen', '127.0.0.1:0', '--data-dir', makeTempDir('dpns-pin-'), '--agent-key', arg], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2, arg);
    assert.match(r.stderr, /agent/i);
    assert.equal(r.stdout, '', 'it never listened');
  }
});
