// A name server with a launch agent enrolled for 127.0.0.1, as the tests of launched services
// use it: the binaries, library clients closed at the end, the CLI as admin, and the entries
// read with every pid they name remembered, so that no launched process outlives the test.
import assert from 'node:assert/strict';
import { DpnsClient, type ServiceView } from '@dpns/client';
import { startAgentProcess } from './agent.js';
import { killLaunchedGroups } from './children.js';
import { runCli, type CliResult } from './cli.js';
import { startDnsServer } from './dns.js';
import { ECHO_SERVICE } from './paths.js';
import { freePort } from './ports.js';
import type { ServerProcess } from './server.js';

export class ServiceRig {
  private readonly clients: DpnsClient[] = [];
  /** Every pid an entry read named. */
  readonly launchedPids = new Set<number>();

  /**
   * `ns`: replace it when the test restarts the server. `detail`: what a failed `ok` adds to its
   * message (the services' logs, say).
   */
  constructor(public ns: ServerProcess, private readonly detail: () => Promise<string> = async () => '') {}

  /** A library client of `ns`, not admin unless asked (an admin may advertise any name); closed by closeClients(). */
  client(admin = false): DpnsClient {
    const c = new DpnsClient({ servers: [this.ns.server], ...(admin ? { token: this.ns.token } : {}), reconnect: { minDelayMs: 20, maxDelayMs: 200 } });
    this.clients.push(c);
    return c;
  }

  /** `dpns --server <ns> ...args` as admin. */
  dpns(args: string[]): Promise<CliResult> {
    return runCli(['--server', this.ns.server, ...args], { env: { DPNS_TOKEN: this.ns.token }, timeoutMs: 70_000 });
  }

  /** `dpns ...args`, which must exit 0. */
  async ok(args: string[]): Promise<CliResult> {
    const r = await this.dpns(args);
    if (r.code !== 0) assert.fail(`dpns ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}\n${await this.detail()}`);
    return r;
  }

  /** The service entry `name` as the server states it; its pid, if any, is remembered. */
  async entry(name: string): Promise<ServiceView> {
    const [e] = await this.client().serviceState(name);
    assert.ok(e?.kind === 'service', `no service ${name}`);
    if (e.pid !== undefined) this.launchedPids.add(e.pid);
    return e;
  }

  async closeClients(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close()));
  }

  /** Closes the clients and kills every process group a remembered pid leads (teardown() ends the binaries). */
  async close(): Promise<void> {
    await this.closeClients();
    killLaunchedGroups(this.launchedPids);
  }
}

/**
 * The name server binary answering DNS on a free loopback port (with `args` besides), and a real
 * agent that trusts it, allows `allow` (the echo service by default) and is enrolled for
 * 127.0.0.1; both log at warn.
 */
export async function startServiceRig(o: { allow?: Record<string, string>; args?: string[] } = {}): Promise<{ rig: ServiceRig; dnsPort: number; agentPort: number }> {
  const allow = o.allow ?? { echo: ECHO_SERVICE };
  const agentPort = await freePort();
  const { ns, dnsPort } = await startDnsServer(['--agent-port', String(agentPort), '--log-level', 'warn', ...(o.args ?? [])]);
  await startAgentProcess({ trustedKeys: [ns.publicKey], allow, port: agentPort, logLevel: 'warn', enroll: { url: ns.url, token: ns.token } });
  return { rig: new ServiceRig(ns), dnsPort, agentPort };
}
