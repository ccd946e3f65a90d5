// Launch on demand: starting an auto-start service through its host's agent, waiting for it
// to advertise with its ticket, and killing it again. Concurrent launches of one service
// share one attempt.
import { DpnsError, newTicket, agent as A, type Location, type ServiceView } from '@dpns/protocol';
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../metrics.js';
import type { LaunchTickets, Op } from '../registry/ops.js';
import type { Registry } from '../registry/registry.js';
import { AgentCallError, callAgent, launchOp, type AgentTarget } from './agent-client.js';
import type { AgentTrust } from './agent-trust.js';

export interface LauncherOptions {
  registry: Registry;
  commit(ops: Op[]): Promise<number>;
  log: Logger;
  key: A.SigningKey;
  agentPort: number;
  /** Name server endpoints handed to launched services. */
  servers: string[];
  /** Timeout of one agent operation. */
  agentTimeoutMs: number;
  epoch(): number;
  /** Which agent identity is trusted on each host; a host with none is never sent a request. */
  trust: AgentTrust;
  now(): number;
  /** Forgets the connection binding of a service that was killed. */
  unbind(name: string): void;
  /** Counts launch attempts by outcome, for /metrics. */
  metrics?: ServerMetrics;
}

/** Attempts, and the pause between them, to find a launch that was not answered. */
const REAP_TRIES = 5;
const REAP_RETRY_MS = 2000;

/** What asked for a launch that a lookup made (counted in dpns_on_demand_launches_total); none for an admin's or the restart policy's. */
export type LaunchOrigin = 'find' | 'dns' | 'launchService';

interface Waiter {
  resolve(loc: Location): void;
}

export class Launcher {
  private readonly inflight = new Map<string, Promise<Location>>();
  /** Kills in progress: a launch of the same service waits for its kill to finish. */
  private readonly killing = new Map<string, Promise<unknown>>();
  /** Told when a service is stopped on purpose (kill), so no restart is pending for it. */
  onStopped: (name: string) => void = () => undefined;
  private readonly waiters = new Map<string, Waiter>();

  constructor(private readonly o: LauncherOptions) {}

  /** Sets the name server endpoints handed to launched services. */
  setServers(servers: string[]): void {
    this.o.servers = servers;
  }

  /**
   * Launches `name` (an auto-start service, or an alias of one) unless it runs; answers its
   * address. `origin`: the lookup that asked for it, when one did.
   */
  async launch(name: string, origin?: LaunchOrigin): Promise<{ service: Location; launched: boolean }> {
    const pending = this.killing.get(this.autoStart(name, 'launch').name);
    if (pending !== undefined) await pending.catch(() => undefined);
    const svc = this.autoStart(name, 'launch');
    if (svc.state === 'running' && svc.host !== undefined && svc.port !== undefined) {
      return { service: { name, service: svc.name, host: svc.host, port: svc.port }, launched: false };
    }
    if (svc.state === 'unhealthy') {
      // Its process runs: a launch would start a second copy. Its restart policy, or an admin's reset, replaces it.
      throw new DpnsError('NOT_RUNNING', `${svc.name} is unhealthy${svc.reason === undefined ? '' : `: ${svc.reason}`}; it runs but fails its health check (dpns reset restarts it)`, {
        details: { name: svc.name, state: svc.state, ...(svc.reason === undefined ? {} : { reason: svc.reason }) },
      });
    }
    let attempt = this.inflight.get(svc.name);
    if (attempt === undefined) {
      attempt = this.start(svc).then(
        (loc) => {
          this.o.metrics?.launches.inc({ outcome: 'ok' });
          return loc;
        },
        (e: unknown) => {
          const cause = e instanceof DpnsError && typeof e.details?.cause === 'string' ? e.details.cause : 'INTERNAL';
          this.o.metrics?.launches.inc({ outcome: cause });
          throw e;
        },
      ).finally(() => this.inflight.delete(svc.name));
      this.inflight.set(svc.name, attempt);
      if (origin !== undefined) this.o.metrics?.onDemandLaunches.inc({ via: origin });
    }
    const loc = await attempt;
    return { service: { ...loc, name }, launched: true };
  }

  /** Called once a launched service's advertisement is durable. */
  advertised(name: string): void {
    const e = this.o.registry.get(name);
    if (e?.kind !== 'service' || e.host === undefined || e.port === undefined) return;
    this.waiters.get(name)?.resolve({ name, service: name, host: e.host, port: e.port });
  }

  /** Stops a launched service through its agent; `reason` is kept on the `stopped` entry (an idle stop's). */
  kill(name: string, reason?: string): Promise<{ revision: number; signal?: 'SIGTERM' | 'SIGKILL'; alreadyGone: boolean }> {
    const svc = this.autoStart(name, 'kill');
    const running = this.killing.get(svc.name);
    if (running !== undefined) return running as ReturnType<Launcher['kill']>;
    const attempt = this.doKill(svc, reason).finally(() => this.killing.delete(svc.name));
    this.killing.set(svc.name, attempt);
    return attempt;
  }

  private async doKill(svc: ServiceView, reason: string | undefined): Promise<{ revision: number; signal?: 'SIGTERM' | 'SIGKILL'; alreadyGone: boolean }> {
    const tickets = this.o.registry.ticketsOf(svc.name);
    if (svc.pid === undefined || tickets === undefined) {
      throw new DpnsError('NOT_RUNNING', `${svc.name} has no launched process to kill (state ${svc.state})`, { details: { name: svc.name, state: svc.state } });
    }
    const spec = svc.spec as NonNullable<ServiceView['spec']>;
    const pid = svc.pid;
    // The reason goes on `stopping` too: the process may unadvertise before the kill is answered (rules.ts keeps it then).
    await this.o.commit([{ t: 'put', e: { ...svc, state: 'stopping', since: this.o.now(), ...(reason === undefined ? {} : { reason }) } }]);
    let reply: A.AgentReplyFor<'kill'>;
    try {
      reply = await callAgent(this.target(spec.host), 'kill', {
        key: this.o.key, epoch: this.o.epoch(), timeoutMs: this.o.agentTimeoutMs + 10_000,
        build: () => ({ op: 'kill', service: svc.name, launchId: tickets.launchId, pid }),
      });
    } catch (e) {
      await this.restore(svc);
      throw this.failure(svc.name, e, 'kill');
    }
    if (!reply.ok && reply.code !== 'NOT_LAUNCHED') {
      // The process still runs: put the entry back as it was and say why.
      await this.restore(svc);
      throw new DpnsError('LAUNCH_FAILED', `the agent on ${spec.host} refused to kill ${svc.name}: ${reply.code}: ${reply.message}`, {
        details: { name: svc.name, cause: `AGENT_${reply.code}` },
      });
    }
    if (reply.ok && !reply.alreadyGone && !reply.killed) {
      const err = new DpnsError('LAUNCH_FAILED', `${svc.name} (pid ${pid} on ${spec.host}) did not die even after SIGKILL`, {
        details: { name: svc.name, cause: 'KILL_FAILED' },
      });
      // No restart may start a second copy beside the one that survived.
      this.onStopped(svc.name);
      await this.o.commit([{ t: 'put', e: { ...svc, state: 'failed', since: this.o.now(), reason: `KILL_FAILED: ${err.message}` } }]);
      throw err;
    }
    this.o.unbind(svc.name);
    this.onStopped(svc.name);
    const revision = await this.o.commit(this.stoppedOps(svc.name, reason));
    if (!reply.ok) return { revision, alreadyGone: true };
    return reply.signal === undefined ? { revision, alreadyGone: reply.alreadyGone } : { revision, signal: reply.signal, alreadyGone: reply.alreadyGone };
  }

  /** Puts back an entry whose kill did not happen. */
  private async restore(svc: ServiceView): Promise<void> {
    const cur = this.o.registry.get(svc.name);
    if (cur?.kind === 'service' && cur.state === 'stopping') await this.o.commit([{ t: 'put', e: svc }]);
  }

  /** Kill (when something runs) then launch. */
  async reset(name: string): Promise<{ service: Location }> {
    const svc = this.autoStart(name, 'reset');
    if (svc.pid !== undefined && this.o.registry.ticketsOf(svc.name) !== undefined) await this.kill(svc.name);
    const { service } = await this.launch(name);
    return { service };
  }

  private async start(svc: ServiceView): Promise<Location> {
    const spec = svc.spec as NonNullable<ServiceView['spec']>;
    const name = svc.name;
    const tickets: LaunchTickets = { launchId: A.newLaunchId(), service: newTicket(), nameserver: newTicket() };
    const base: ServiceView = { kind: 'service', name, state: 'starting', since: this.o.now(), spec };
    await this.o.commit([{ t: 'put', e: base }, { t: 'tickets', n: name, v: tickets }]);
    this.o.log.info('launching', { service: name, host: spec.host, program: spec.program, launchId: tickets.launchId });

    let reply: A.AgentReplyFor<'launch'>;
    try {
      reply = await callAgent(this.target(spec.host), 'launch', {
        key: this.o.key, epoch: this.o.epoch(), timeoutMs: this.o.agentTimeoutMs,
        build: (hello) => launchOp(hello, { service: name, launchId: tickets.launchId, spec, tickets, servers: this.o.servers }),
      });
    } catch (e) {
      const err = this.failure(name, e, 'launch');
      await this.fail(name, err);
      // The request may have reached the agent and started the program after all: find it and stop it.
      if (e instanceof AgentCallError && e.failure === 'AGENT_UNREACHABLE') void this.reap(spec.host, name, tickets.launchId);
      throw err;
    }
    if (!reply.ok) {
      const err = new DpnsError('LAUNCH_FAILED', `the agent on ${spec.host} refused to launch ${name}: ${reply.code}: ${reply.message}`, {
        details: { name, cause: `AGENT_${reply.code}` },
      });
      await this.fail(name, err);
      throw err;
    }
    const cur = this.o.registry.get(name);
    if (cur?.kind === 'service' && (cur.state === 'starting' || cur.state === 'running') && cur.pid === undefined) {
      await this.o.commit([{ t: 'put', e: { ...cur, pid: reply.pid } }]);
    }

    const pid = reply.pid;
    return new Promise<Location>((resolve, reject) => {
      let settled = false;
      const done = (err: DpnsError | undefined, loc?: Location) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters.delete(name);
        if (err === undefined) {
          resolve(loc as Location);
          return;
        }
        const now = this.o.registry.get(name);
        if (now?.kind === 'service' && (now.state === 'stopping' || now.state === 'stopped')) {
          // A kill overtook the launch: that is the outcome, not a failure of the program.
          reject(new DpnsError('LAUNCH_FAILED', `${name} was stopped while it was starting`, { details: { name, cause: 'KILLED' } }));
          return;
        }
        void this.fail(name, err).then(() => reject(err), () => reject(err));
      };
      this.waiters.set(name, { resolve: (loc) => done(undefined, loc) });
      // It may have advertised already, while the agent's reply was on its way.
      const now = this.o.registry.get(name);
      if (now?.kind === 'service' && now.state === 'running') {
        queueMicrotask(() => done(undefined, this.location(now)));
      }
      const timer = setTimeout(() => {
        done(new DpnsError('LAUNCH_FAILED', `${name} (pid ${pid} on ${spec.host}) did not advertise itself within ${spec.startTimeoutMs} ms; it is being stopped`, {
          details: { name, cause: 'START_TIMEOUT' },
        }));
        // A straggler must not come up later holding a ticket that is no longer expected.
        void callAgent(this.target(spec.host), 'kill', {
          key: this.o.key, epoch: this.o.epoch(), timeoutMs: this.o.agentTimeoutMs + 10_000,
          build: () => ({ op: 'kill', service: name, launchId: tickets.launchId, pid }),
        }).catch(() => undefined);
      }, spec.startTimeoutMs);
      // The agent forgets processes that died: a launch missing from its ledger exited early.
      const poll = setInterval(() => {
        callAgent(this.target(spec.host), 'status', { key: this.o.key, epoch: this.o.epoch(), timeoutMs: this.o.agentTimeoutMs, build: () => ({ op: 'status' }) })
          .then((r) => {
            if (r.ok && !r.entries.some((e) => e.launchId === tickets.launchId)) {
              done(new DpnsError('LAUNCH_FAILED', `${name} (pid ${pid} on ${spec.host}) exited before it advertised itself; see the agent's log for its output`, {
                details: { name, cause: 'EXITED_EARLY' },
              }));
            }
          }, () => undefined);
      }, 250);
    });
  }

  /** Marks a launch failed, with the reason, and forgets its tickets. */
  /**
   * After a launch whose answer never came: asks the agent's ledger whether `launchId` runs, and
   * kills it if so, so no copy runs that the registry does not know of. A few tries, a few seconds
   * apart, while the agent is unreachable; nothing is done once the ledger says it is not there.
   */
  async reap(host: string, name: string, launchId: string, tries = REAP_TRIES): Promise<'killed' | 'absent' | 'unreachable'> {
    for (let n = 1; n <= tries; n++) {
      if (n > 1) await new Promise((r) => setTimeout(r, REAP_RETRY_MS).unref());
      try {
        const status = await callAgent(this.target(host), 'status', { key: this.o.key, epoch: this.o.epoch(), timeoutMs: this.o.agentTimeoutMs, build: () => ({ op: 'status' }) });
        if (!status.ok) continue;
        const entry = status.entries.find((x) => x.launchId === launchId);
        if (entry === undefined) return 'absent';
        const killed = await callAgent(this.target(host), 'kill', {
          key: this.o.key, epoch: this.o.epoch(), timeoutMs: this.o.agentTimeoutMs + 10_000,
          build: () => ({ op: 'kill', service: name, launchId, pid: entry.pid }),
        });
        this.o.log.warn('stopped a process whose launch was not answered in time', { service: name, host, pid: entry.pid, launchId, ok: killed.ok });
        return 'killed';
      } catch (err) {
        this.o.log.debug('the agent is still unreachable after a launch that was not answered', { service: name, host, launchId, err: (err as Error).message });
      }
    }
    this.o.log.warn('a launch was not answered and its agent stayed unreachable: if it started, the process is in that agent\'s ledger only', { service: name, host, launchId });
    return 'unreachable';
  }

  private async fail(name: string, err: DpnsError): Promise<void> {
    const cur = this.o.registry.get(name);
    // Only a launch still in progress fails; one that ran, or was stopped meanwhile, stays as it is.
    if (cur?.kind !== 'service' || cur.spec === undefined || cur.state !== 'starting') return;
    const cause = typeof err.details?.cause === 'string' ? `${err.details.cause}: ` : '';
    await this.o.commit([
      { t: 'put', e: { kind: 'service', name, state: 'failed', since: this.o.now(), spec: cur.spec, reason: `${cause}${err.message}` } },
      { t: 'tickets', n: name, v: null },
    ]);
  }

  private stoppedOps(name: string, reason: string | undefined): Op[] {
    const cur = this.o.registry.get(name);
    if (cur?.kind !== 'service' || cur.spec === undefined) return [];
    // Stopped already: the process unadvertised on SIGTERM, and that write kept the reason.
    if (cur.state === 'stopped' && cur.reason === reason && this.o.registry.ticketsOf(name) === undefined) return [];
    const e: ServiceView = { kind: 'service', name, state: 'stopped', since: this.o.now(), spec: cur.spec };
    if (reason !== undefined) e.reason = reason;
    return [{ t: 'put', e }, { t: 'tickets', n: name, v: null }];
  }

  private failure(name: string, e: unknown, verb: string): DpnsError {
    if (e instanceof DpnsError) return e;
    if (e instanceof AgentCallError) {
      return new DpnsError('LAUNCH_FAILED', `cannot ${verb} ${name}: ${e.message}`, { details: { name, cause: e.failure } });
    }
    return new DpnsError('LAUNCH_FAILED', `cannot ${verb} ${name}: ${(e as Error).message}`, { details: { name, cause: 'INTERNAL' } });
  }

  private autoStart(name: string, verb: string): ServiceView {
    const { service } = this.o.registry.resolve(name);
    if (service.spec === undefined) {
      throw new DpnsError('WRONG_KIND', `${service.name} is not an auto-start service, so dpns cannot ${verb} it; register it with dpns add`, {
        details: { name: service.name },
      });
    }
    return service;
  }

  private location(svc: ServiceView): Location {
    return { name: svc.name, service: svc.name, host: svc.host as string, port: svc.port as number };
  }

  private target(host: string): AgentTarget {
    return { host, port: this.o.agentPort, trusted: this.o.trust.keysFor(host) };
  }
}
