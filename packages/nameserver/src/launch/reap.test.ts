// A launch whose agent never answers may still have started the program: the launcher looks for
// it in the agent's ledger and stops it, so no copy runs that the registry does not know of.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { agent as A, isDpnsError, type LaunchSpec } from '@dpns/protocol';
import { createLogger } from '../log.js';
import type { Op } from '../registry/ops.js';
import { Registry } from '../registry/registry.js';
import { AgentTrust } from './agent-trust.js';
import { Launcher } from './launcher.js';

/** An agent that takes a launch and never answers it, but keeps it in its ledger and obeys status and kill. */
async function silentAgent(): Promise<{ port: number; identity: string; kills: { launchId: string; pid: number }[]; close: () => Promise<void> }> {
  const identity = A.newSigningKey();
  const ledger: A.AgentLedgerEntry[] = [];
  const kills: { launchId: string; pid: number }[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => {
    const box = A.newBoxKeyPair();
    ws.send(JSON.stringify(A.signAgentHello(identity, box.publicKey, 'h', '0.0.0')));
    ws.on('message', (data) => {
      const body = A.parseAgentRequestBody(A.parseAgentRequestFrame(String(data)).body);
      if (body.op === 'launch') {
        ledger.push({ launchId: body.launchId, service: A.openLaunch(body, box.secretKey).service, pid: 4242, pgid: 4242, startTime: '1', program: '/bin/x', user: 'nobody', launchedAt: 0 });
      } else if (body.op === 'status') {
        ws.send(JSON.stringify({ type: 'reply', ok: true, entries: ledger }));
      } else if (body.op === 'kill') {
        kills.push({ launchId: body.launchId, pid: body.pid });
        ws.send(JSON.stringify({ type: 'reply', ok: true, killed: true, signal: 'SIGTERM', alreadyGone: false }));
      }
    });
  });
  return {
    port: (wss.address() as AddressInfo).port, identity: identity.publicKey, kills,
    close: () => new Promise<void>((r) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => r());
    }),
  };
}

function launcherFor(agentPort: number, identity: string): { launcher: Launcher; reg: Registry } {
  const reg = new Registry();
  let rev = 0;
  const spec: LaunchSpec = { host: '127.0.0.1', program: 'x', args: [], env: {}, startTimeoutMs: 1000, restart: 'no' };
  reg.apply([{ t: 'put', e: { kind: 'service', name: '/s', state: 'stopped', since: 0, spec } }], ++rev);
  const launcher = new Launcher({
    registry: reg,
    commit: (ops: Op[]) => {
      reg.apply(ops, ++rev);
      return Promise.resolve(rev);
    },
    log: createLogger({ level: 'silent', format: 'json' }),
    key: A.newSigningKey(), agentPort, servers: ['127.0.0.1:7700'], agentTimeoutMs: 200, epoch: () => 1, now: Date.now, unbind: () => undefined,
    trust: new AgentTrust(reg, { '127.0.0.1': [identity] }),
  });
  return { launcher, reg };
}

test('a launch the agent never answers fails AGENT_UNREACHABLE, and the process it started anyway is stopped', async () => {
  const agent = await silentAgent();
  try {
    const { launcher, reg } = launcherFor(agent.port, agent.identity);
    await assert.rejects(launcher.launch('/s'), (e: unknown) => isDpnsError(e, 'LAUNCH_FAILED') && e.details?.cause === 'AGENT_UNREACHABLE');
    const e = reg.get('/s');
    assert.equal(e?.kind === 'service' ? e.state : undefined, 'failed');
    const t0 = Date.now();
    while (agent.kills.length === 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(agent.kills.length, 1, 'the straggler was killed');
    assert.equal(agent.kills[0]?.pid, 4242);
  } finally {
    await agent.close();
  }
});

test('reaping stops at a ledger without the launch, and gives up on an agent that stays away', async () => {
  const agent = await silentAgent();
  const { launcher } = launcherFor(agent.port, agent.identity);
  assert.equal(await launcher.reap('127.0.0.1', '/s', 'ab'.repeat(16), 1), 'absent');
  await agent.close();
  assert.equal(await launcher.reap('127.0.0.1', '/s', 'ab'.repeat(16), 1), 'unreachable');
  assert.equal(agent.kills.length, 0);
});
