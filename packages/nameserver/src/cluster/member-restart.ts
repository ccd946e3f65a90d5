// After a takeover, the new primary asks the launch agent on the old primary's host to start the
// dead name server again (the paper's Figure 9), so it rejoins as a backup without an operator.
// The request carries the new epoch, so an agent that has seen it refuses the deposed primary's.
// If the old server is in fact alive behind a partition, the new process finds its data directory
// locked and exits: nothing runs twice.
import { agent as A, newTicket } from '@dpns/protocol';
import { parseHostPort } from '@dpns/node-kit';
import { callAgent, launchOp } from '../launch/agent-client.js';
import type { AgentTrust } from '../launch/agent-trust.js';
import type { Logger } from '../log.js';

/** How to start a member on its host: `{self}` and `{sid}` in args become that member's address and SID. */
export interface MemberRestartSpec {
  program: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  user?: string;
}

export interface MemberRestartOptions {
  members: string[];
  spec: MemberRestartSpec;
  agentPort: number;
  agentTimeoutMs: number;
  /** Which agent is trusted on each host: the same check as every launch, so an untrusted agent gets nothing. */
  trust: AgentTrust;
  key: A.SigningKey;
  epoch: () => number;
  /** When the member was last heard from (ms since the epoch; 0 for never). */
  lastHeard: (sid: number) => number;
  now: () => number;
  /** Whether this server is still the primary of the epoch that started the attempts. */
  stillPrimary: (epoch: number) => boolean;
  log: Logger;
}

const ATTEMPTS = 5;
const RETRY_MS = 3000;

export class MemberRestarter {
  private readonly active = new Set<number>();
  private stopped = false;

  constructor(private readonly o: MemberRestartOptions) {}

  /** Starts member `sid` again through its host's agent, retrying until it is heard or attempts run out. */
  restart(sid: number): void {
    if (this.active.has(sid) || this.stopped) return;
    this.active.add(sid);
    const epoch = this.o.epoch();
    const since = this.o.now();
    void this.attempt(sid, epoch, since, 1).finally(() => this.active.delete(sid));
  }

  stop(): void {
    this.stopped = true;
  }

  private back(sid: number, since: number): boolean {
    return this.o.lastHeard(sid) > since;
  }

  private async attempt(sid: number, epoch: number, since: number, n: number): Promise<void> {
    if (this.stopped || !this.o.stillPrimary(epoch) || this.back(sid, since)) return;
    const member = this.o.members[sid] as string;
    const { host } = parseHostPort(member, 'cluster member', this.o.agentPort);
    const spec = this.o.spec;
    const service = `/dpns/nameserver/${sid}`;
    const args = spec.args.map((a) => a.replaceAll('{self}', member).replaceAll('{sid}', String(sid)));
    try {
      const reply = await callAgent({ host, port: this.o.agentPort, trusted: this.o.trust.keysFor(host) }, 'launch', {
        key: this.o.key, epoch, timeoutMs: this.o.agentTimeoutMs,
        // The agent hands every child a ticket line; a name server has no use for it.
        build: (hello) => launchOp(hello, {
          service, launchId: A.newLaunchId(), spec: { ...spec, args, env: spec.env ?? {} }, tickets: { service: newTicket(), nameserver: newTicket() }, servers: this.o.members,
        }),
      });
      if (reply.ok) this.o.log.info('asked the agent to restart a failed member', { sid, host, pid: reply.pid, attempt: n });
      else this.o.log.warn('the agent refused to restart a failed member', { sid, host, code: reply.code, message: reply.message, attempt: n });
    } catch (err) {
      this.o.log.warn('could not reach the agent to restart a failed member', { sid, host, why: (err as Error).message, attempt: n });
    }
    if (n >= ATTEMPTS) return;
    await new Promise((r) => setTimeout(r, RETRY_MS).unref());
    if (this.back(sid, since)) return;
    await this.attempt(sid, epoch, since, n + 1);
  }
}
