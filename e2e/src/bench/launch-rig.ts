// The launch scenario's set-up: a real name server, a real dpns-launchd that trusts its key,
// and the example service registered as auto-start. The name server dials agents on one fixed
// port (`--agent-port`) and the agent must trust a key that exists only once the name server
// has started, so the port is chosen first and both are started with it.
import { dirname } from 'node:path';
import { ECHO_SERVICE, freePort, removeTempDirs, startAgentProcess, type AgentProcess } from '../harness/index.js';
import type { BenchConfig } from './args.js';
import { onCleanup, trackChild } from './lifecycle.js';
import { startBenchServer, type BenchServer } from './nameserver.js';
import type { RpcConn } from './rpc-conn.js';

/** The allowlist name the registered spec uses. */
const PROGRAM = 'echo';

export interface LaunchRig {
  readonly server: BenchServer;
  readonly agent: AgentProcess;
  /** An admin connection: launch, state and kill all go over it. */
  readonly admin: RpcConn;
  /** Stops the agent and the name server (launched services are the caller's). Safe to call twice. */
  stop(): Promise<void>;
}

/** A port free on loopback right now (there is a small window in which another program could take it). */
/** Starts the name server and the agent, and registers `name` to run the example service on 127.0.0.1. */
export async function startLaunchRig(cfg: BenchConfig, name: string): Promise<LaunchRig> {
  const agentPort = await freePort();
  const server = await startBenchServer(cfg, ['--agent-port', String(agentPort), '--dns-listen', '127.0.0.1:0']);
  let agent: AgentProcess | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (agent !== undefined) {
        await agent.kill('SIGTERM');
        await removeTempDirs(dirname(agent.stateDir));
      }
      await server.stop();
    })();
    return stopped;
  };
  const forget = onCleanup(stop);
  try {
    agent = await startAgentProcess({ trustedKeys: [server.publicKey], allow: { [PROGRAM]: ECHO_SERVICE }, port: agentPort, enroll: { url: server.url, token: server.token } });
    trackChild(agent.proc);
    const [admin] = await server.connect(1, true);
    if (admin === undefined) throw new Error('no admin connection');
    await admin.ok('register.add', {
      name,
      spec: { host: '127.0.0.1', program: PROGRAM, args: ['--host', '127.0.0.1'], env: { DPNS_ADVERTISE_HOST: '127.0.0.1' } },
    });
    const started = agent;
    return {
      server, agent: started, admin,
      stop: async () => {
        forget();
        await stop();
      },
    };
  } catch (e) {
    forget();
    await stop();
    throw e;
  }
}
