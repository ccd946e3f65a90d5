// A launch of a service with spec.hosts, against two scripted agents on 127.0.0.1 and 127.0.0.2
// (one port, as every agent of a name server has): the least loaded host is asked first, a
// refusal moves the launch to the next host with fresh tickets, the host is recorded in
// launchedOn and the kill goes there, and no trusted host at all is NO_HOST.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { agent as A, isDpnsError, type LaunchSpec, type ServiceView } from '@dpns/protocol';
import { createLogger } from '../log.js';
import type { Op } from '../registry/ops.js';
import { Registry } from '../registry/registry.js';
import { AgentTrust } from './agent-trust.js';
import { Launcher } from './launcher.js';

interface Script {
  /** The load figures it reports; undefined: refuses load as an older agent would. */
  load?: { loadavg: number; cpus: number; children: number };
  /** Refuses every launch with this code. */
  refuse?: A.AgentErrorCode;
}

interface FakeAgent {
  host: string;
  port: number;
  identity: string;
  script: Script;
  ops: string[];
  launchIds: string[];
  kills: number[];
  close(): Promise<void>;
}

async function fakeAgent(host: string, port: number, script: Script, onLaunch: (host: string) => void): Promise<FakeAgent> {
  const identity = A.newSigningKey();
  const wss = new WebSocketServer({ host, port });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', () => resolve());
    wss.once('error', reject);
  });
  const me: FakeAgent = {
    host, port: (wss.address() as AddressInfo).port, identity: identity.publicKey, script, ops: [], launchIds: [], kills: [],
    close: () => new Promise<void>((r) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => r());
    }),
  };
  const ledger: A.AgentLedgerEntry[] = [];
  wss.on('connection', (ws) => {
    const box = A.newBoxKeyPair();
    ws.send(JSON.stringify(A.signAgentHello(identity, box.publicKey, host, '0.0.0')));
    ws.on('message', (data) => {
      const body = A.parseAgentRequestBody(A.parseAgentRequestFrame(String(data)).body);
      me.ops.push(body.op);
      const reply = (r: unknown) => ws.send(JSON.stringify(r));
      switch (body.op) {
        case 'load':
          reply(me.script.load === undefined ? A.agentErrorReply('BAD_REQUEST', 'body.op: expected "launch", "kill" or "status", got "load"') : { type: 'reply', ok: true, ...me.script.load });
          break;
        case 'launch': {
          me.launchIds.push(body.launchId);
          if (me.script.refuse !== undefined) {
            reply(A.agentErrorReply(me.script.refuse, 'not on this host'));
            break;
          }
          const pid = 5000 + me.launchIds.length;
          ledger.push({ launchId: body.launchId, service: A.openLaunch(body, box.secretKey).service, pid, pgid: pid, startTime: '1', program: '/bin/x', user: 'nobody', launchedAt: 0 });
          reply({ type: 'reply', ok: true, pid, startTime: '1' });
          onLaunch(host);
          break;
        }
        case 'status':
          reply({ type: 'reply', ok: true, entries: ledger });
          break;
        case 'kill':
          me.kills.push(body.pid);
          reply({ type: 'reply', ok: true, killed: true, signal: 'SIGTERM', alreadyGone: false });
          break;
        default:
          break;
      }
    });
  });
  return me;
}

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers.splice(0)) await c();
});

/** Two agents on one port, a registry holding `/s` with `hosts`, and a launcher; a launch "advertises" on its own shortly after the agent's reply. */
async function world(scripts: [Script, Script], hosts: string[] = ['127.0.0.*']): Promise<{ launcher: Launcher; reg: Registry; agents: [FakeAgent, FakeAgent] }> {
  const reg = new Registry();
  let rev = 0;
  const spec: LaunchSpec = { hosts, program: 'x', args: [], env: {}, startTimeoutMs: 2000 };
  reg.apply([{ t: 'put', e: { kind: 'service', name: '/s', state: 'registered', since: 0, spec } }], ++rev);
  // The launcher is made after the agents, whose launches tell it of the advertisement.
  const made: { launcher?: Launcher } = {};
  const onLaunch = (host: string) => {
    setTimeout(() => {
      const cur = reg.get('/s') as ServiceView;
      reg.apply([{ t: 'put', e: { ...cur, state: 'running', host, port: 4000 } }], ++rev);
      made.launcher?.advertised('/s');
    }, 20);
  };
  const first = await fakeAgent('127.0.0.1', 0, scripts[0], onLaunch);
  closers.push(first.close);
  const port = first.port;
  const second = await fakeAgent('127.0.0.2', port, scripts[1], onLaunch);
  closers.push(second.close);
  const launcher = new Launcher({
    registry: reg,
    commit: (ops: Op[]) => {
      reg.apply(ops, ++rev);
      return Promise.resolve(rev);
    },
    log: createLogger({ level: 'silent', format: 'json' }),
    key: A.newSigningKey(), agentPort: port, servers: ['127.0.0.1:7700'], agentTimeoutMs: 1000, epoch: () => 1, now: Date.now, unbind: () => undefined,
    trust: new AgentTrust(reg, { '127.0.0.1': [first.identity], '127.0.0.2': [second.identity] }),
  });
  made.launcher = launcher;
  return { launcher, reg, agents: [first, second] };
}

test('the least loaded host is launched on, and recorded in launchedOn; the kill goes there', async () => {
  const { launcher, reg, agents: [a, b] } = await world([{ load: { loadavg: 0, cpus: 2, children: 3 } }, { load: { loadavg: 1.5, cpus: 2, children: 0 } }]);
  const r = await launcher.launch('/s');
  assert.equal(r.service.host, '127.0.0.2');
  const e = reg.get('/s') as ServiceView;
  assert.equal(e.launchedOn, '127.0.0.2');
  assert.deepEqual(a.ops, ['load'], 'the busier host was only asked its load');
  assert.deepEqual(b.ops.slice(0, 2), ['load', 'launch']);
  await launcher.kill('/s');
  assert.equal(b.kills.length, 1);
  assert.equal(a.kills.length, 0);
});

test('a host that refuses the launch is followed by the next, with a new launch id and tickets', async () => {
  const { launcher, reg, agents: [a, b] } = await world([{ load: { loadavg: 0, cpus: 1, children: 0 }, refuse: 'NOT_ALLOWED' }, { load: { loadavg: 0, cpus: 1, children: 1 } }]);
  const seen: string[] = [];
  const watch = setInterval(() => {
    const t = reg.ticketsOf('/s');
    if (t !== undefined && !seen.includes(t.service)) seen.push(t.service);
  }, 1);
  const r = await launcher.launch('/s');
  clearInterval(watch);
  assert.equal(r.service.host, '127.0.0.2');
  assert.equal(a.launchIds.length, 1);
  assert.equal(b.launchIds.length, 1);
  assert.notEqual(a.launchIds[0], b.launchIds[0]);
  assert.equal(reg.ticketsOf('/s')?.launchId, b.launchIds[0], 'the tickets kept are the second attempt\'s');
  assert.equal((reg.get('/s') as ServiceView).launchedOn, '127.0.0.2');
});

test('hosts that refuse to report a load are tried after those that report one; all refusing fails naming each', async () => {
  const { launcher, reg, agents: [a, b] } = await world([{ refuse: 'NOT_FOUND' }, { load: { loadavg: 0, cpus: 1, children: 5 }, refuse: 'SPAWN_FAILED' }]);
  await assert.rejects(launcher.launch('/s'), (e: unknown) => {
    assert.ok(isDpnsError(e, 'LAUNCH_FAILED'));
    assert.equal(e.details?.cause, 'AGENT_NOT_FOUND', 'the cause is the last host\'s');
    assert.deepEqual(e.details?.tried, [{ host: '127.0.0.2', cause: 'AGENT_SPAWN_FAILED' }, { host: '127.0.0.1', cause: 'AGENT_NOT_FOUND' }]);
    assert.match(e.message, /^cannot launch \/s on any of the 2 hosts tried: 127\.0\.0\.2: the agent on 127\.0\.0\.2 refused to launch \/s: SPAWN_FAILED: .*; 127\.0\.0\.1: /);
    return true;
  });
  assert.equal(b.launchIds.length, 1);
  assert.equal(a.launchIds.length, 1);
  const e = reg.get('/s') as ServiceView;
  assert.equal(e.state, 'failed');
  assert.equal(e.launchedOn, undefined);
  assert.equal(reg.ticketsOf('/s'), undefined);
});

test('no trusted host among the entries is NO_HOST, and nothing is dialed', async () => {
  const { launcher, reg, agents: [a, b] } = await world([{ load: { loadavg: 0, cpus: 1, children: 0 } }, { load: { loadavg: 0, cpus: 1, children: 0 } }], ['media-*', '10.9.9.9']);
  await assert.rejects(launcher.launch('/s'), (e: unknown) => isDpnsError(e, 'LAUNCH_FAILED') && e.details?.cause === 'NO_HOST' && /no host that media-\*, 10\.9\.9\.9 takes in has a trusted launch agent/.test(e.message));
  assert.equal((reg.get('/s') as ServiceView).state, 'failed');
  assert.deepEqual([...a.ops, ...b.ops], []);
});
