// Launch on demand: starting an auto-start service through its host's agent, waiting for it
// to advertise with its ticket, and killing it again. Concurrent launches of one service
// share one attempt.
import { DpnsError, newTicket, agent as A, type LaunchSpec, type Location, type ServiceView } from '@dpns/protocol';
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../metrics.js';
import type { LaunchTickets, Op } from '../registry/ops.js';
import type { Registry } from '../registry/registry.js';
import { AgentCallError, callAgent, launchOp, type AgentTarget } from './agent-client.js';
import type { AgentTrust } from './agent-trust.js';
import { candidateHosts, FinalFailure, HOST_CHOICE_LIMITS, orderByLoad, tryInTurn, type HostFailure, type LoadAnswer } from './host-choice.js';

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
    // Every advertisement comes here: the registry is read only for a launch waiting on it (a
    // lookup among a million entries costs ~2 µs a write, most of it cache misses).
    const waiter = this.waiters.get(name);
    if (waiter === undefined) return;
    const e = this.o.registry.get(name);
    if (e?.kind !== 'service' || e.host === undefined || e.port === undefined) return;
    waiter.resolve({ name, service: name, host: e.host, port: e.port });
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
    const host = this.hostOf(svc);
    const pid = svc.pid;
    // The reason goes on `stopping` too: the process may unadvertise before the kill is answered (rules.ts keeps it then).
    await this.o.commit([{ t: 'put', e: { ...svc, state: 'stopping', since: this.o.now(), ...(reason === undefined ? {} : { reason }) } }]);
    let reply: A.AgentReplyFor<'kill'>;
    try {
      reply = await callAgent(this.target(host), 'kill', {
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
      throw new DpnsError('LAUNCH_FAILED', `the agent on ${host} refused to kill ${svc.name}: ${reply.code}: ${reply.message}`, {
        details: { name: svc.name, cause: `AGENT_${reply.code}` },
      });
    }
    if (reply.ok && !reply.alreadyGone && !reply.killed) {
      const err = new DpnsError('LAUNCH_FAILED', `${svc.name} (pid ${pid} on ${host}) did not die even after SIGKILL`, {
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
    // With several hosts, the whole launch (load queries, every host tried) gets the time one
    // launch on one host may take; a single host keeps its own two timeouts, as it always had.
    const several = spec.hosts !== undefined;
    const deadline = several ? this.o.now() + this.o.agentTimeoutMs + spec.startTimeoutMs : undefined;
    let tickets = newLaunchTickets();
    const base: ServiceView = { kind: 'service', name, state: 'starting', since: this.o.now(), spec };
    // Each attempt on one of several hosts commits its host and its own tickets: a process that an
    // earlier, unanswered attempt may have started cannot advertise with a later attempt's ticket.
    // With one host the agent is dialed while the record goes to disk (the request itself waits
    // for it): the dial and the agent's hello cost what the fsync does, a few milliseconds.
    const starting = this.o.commit(several ? [{ t: 'put', e: base }] : [{ t: 'put', e: base }, { t: 'tickets', n: name, v: tickets }]);
    if (several) await starting;
    else starting.catch(() => undefined);
    const order = spec.hosts !== undefined ? await this.hostOrder(name, spec.hosts) : [spec.host as string];
    if (order.length === 0) {
      const err = new DpnsError('LAUNCH_FAILED', `cannot launch ${name}: no host that ${(spec.hosts ?? []).join(', ')} takes in has a trusted launch agent; enroll one (dpns agents join-token, then dpns-launchd join) or trust its identity (dpns agents trust HOST KEY)`, {
        details: { name, cause: 'NO_HOST' },
      });
      await this.fail(name, err);
      throw err;
    }
    let attempts = 0;
    const result = await tryInTurn(order, async (host) => {
      if (several) {
        if (attempts++ > 0) tickets = newLaunchTickets();
        const cur = this.o.registry.get(name);
        if (cur?.kind !== 'service' || cur.state !== 'starting') {
          throw new FinalFailure({ host, cause: 'KILLED', message: `${name} was stopped while it was starting` });
        }
        await this.o.commit([{ t: 'put', e: { ...cur, launchedOn: host } }, { t: 'tickets', n: name, v: tickets }]);
      }
      return this.attemptOn(name, spec, host, tickets, deadline, several ? undefined : starting);
    }, { tried: several ? HOST_CHOICE_LIMITS.tried : 1, deadline: deadline ?? Number.POSITIVE_INFINITY, now: this.o.now, failureOf: hostFailure });
    if ('host' in result) {
      if (result.failures.length > 0) this.o.log.warn('launched on another of its hosts after a failure', { service: name, host: result.host, failures: result.failures });
      return result.value;
    }
    // A starting record that never became durable is the error, not the launch it held back.
    await starting;
    const err = launchFailure(name, result.failures, order.length);
    // A kill that overtook the launch is the outcome, not a failure of the program: fail() leaves a stopping or stopped entry as it is.
    await this.fail(name, err);
    throw err;
  }

  /**
   * The hosts a service with spec.hosts may be launched on now, in the order to try them: the
   * trusted hosts its entries take in, least loaded first by what their agents answer, all asked
   * at once with a short timeout.
   */
  private async hostOrder(name: string, entries: readonly string[]): Promise<string[]> {
    const hosts = candidateHosts(entries, this.o.trust.hosts());
    if (hosts.length <= 1) return hosts;
    const timeoutMs = Math.min(HOST_CHOICE_LIMITS.loadTimeoutMs, this.o.agentTimeoutMs);
    const asked = performance.now();
    const answers = await Promise.all(hosts.map((host) => this.loadOf(host, timeoutMs)));
    const order = orderByLoad(answers);
    this.o.log.debug('hosts by load', { service: name, answers, order, ms: Math.round(performance.now() - asked) });
    return order;
  }

  private loadOf(host: string, timeoutMs: number): Promise<LoadAnswer> {
    return callAgent(this.target(host), 'load', { key: this.o.key, epoch: this.o.epoch(), timeoutMs, build: () => ({ op: 'load' }) }).then(
      (r): LoadAnswer => (r.ok ? { host, figure: A.loadFigure(r) } : { host, refused: `${r.code}: ${r.message}` }),
      (e: unknown): LoadAnswer => ({ host, unreachable: (e as Error).message }),
    );
  }

  /**
   * One launch on `host`: the agent's reply, then the advertisement. Throws a DpnsError with its
   * cause (the next host may be tried), or a FinalFailure when no other host should be.
   */
  private async attemptOn(name: string, spec: LaunchSpec, host: string, tickets: LaunchTickets, deadline: number | undefined, ready?: Promise<unknown>): Promise<Location> {
    const within = (ms: number): number => (deadline === undefined ? ms : Math.max(1, Math.min(ms, deadline - this.o.now())));
    this.o.log.info('launching', { service: name, host, program: spec.program, launchId: tickets.launchId });
    let reply: A.AgentReplyFor<'launch'>;
    try {
      reply = await callAgent(this.target(host), 'launch', {
        key: this.o.key, epoch: this.o.epoch(), timeoutMs: within(this.o.agentTimeoutMs),
        build: (hello) => launchOp(hello, { service: name, launchId: tickets.launchId, spec, tickets, servers: this.o.servers }),
        ...(ready === undefined ? {} : { ready }),
      });
    } catch (e) {
      // Nothing was sent if the starting record failed: that failure is the outcome.
      if (ready !== undefined) await ready;
      // The request may have reached the agent and started the program after all: find it and stop it.
      if (e instanceof AgentCallError && e.failure === 'AGENT_UNREACHABLE') void this.reap(host, name, tickets.launchId);
      throw this.failure(name, e, 'launch');
    }
    if (!reply.ok) {
      throw new DpnsError('LAUNCH_FAILED', `the agent on ${host} refused to launch ${name}: ${reply.code}: ${reply.message}`, {
        details: { name, cause: `AGENT_${reply.code}` },
      });
    }
    const cur = this.o.registry.get(name);
    if (cur?.kind === 'service' && (cur.state === 'starting' || cur.state === 'running') && cur.pid === undefined) {
      await this.o.commit([{ t: 'put', e: { ...cur, pid: reply.pid } }]);
    }
    return this.advertisement(name, host, reply.pid, tickets, within(spec.startTimeoutMs));
  }

  /** Waits for the process `pid` on `host` to advertise `name`; rejects when it exits first, is stopped, or `waitMs` passes. */
  private advertisement(name: string, host: string, pid: number, tickets: LaunchTickets, waitMs: number): Promise<Location> {
    return new Promise<Location>((resolve, reject) => {
      let settled = false;
      const done = (err: Error | undefined, loc?: Location) => {
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
          reject(new FinalFailure({ host, cause: 'KILLED', message: `${name} was stopped while it was starting` }));
          return;
        }
        reject(err);
      };
      this.waiters.set(name, { resolve: (loc) => done(undefined, loc) });
      // It may have advertised already, while the agent's reply was on its way.
      const now = this.o.registry.get(name);
      if (now?.kind === 'service' && now.state === 'running') {
        queueMicrotask(() => done(undefined, this.location(now)));
      }
      const timer = setTimeout(() => {
        // The time is up: no other host is tried after this one.
        done(new FinalFailure({ host, cause: 'START_TIMEOUT', message: `${name} (pid ${pid} on ${host}) did not advertise itself within ${waitMs} ms; it is being stopped` }));
        // A straggler must not come up later holding a ticket that is no longer expected.
        void callAgent(this.target(host), 'kill', {
          key: this.o.key, epoch: this.o.epoch(), timeoutMs: this.o.agentTimeoutMs + 10_000,
          build: () => ({ op: 'kill', service: name, launchId: tickets.launchId, pid }),
        }).catch(() => undefined);
      }, waitMs);
      // The agent forgets processes that died: a launch missing from its ledger exited early.
      const poll = setInterval(() => {
        callAgent(this.target(host), 'status', { key: this.o.key, epoch: this.o.epoch(), timeoutMs: this.o.agentTimeoutMs, build: () => ({ op: 'status' }) })
          .then((r) => {
            if (r.ok && !r.entries.some((e) => e.launchId === tickets.launchId)) {
              done(new DpnsError('LAUNCH_FAILED', `${name} (pid ${pid} on ${host}) exited before it advertised itself; see the agent's log for its output`, {
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

  /**
   * The host whose agent runs `svc`'s process: the one its launch picked, for a spec with hosts;
   * else its spec's host; else (an entry whose spec was edited meanwhile) the host it advertised.
   */
  private hostOf(svc: ServiceView): string {
    const host = svc.launchedOn ?? svc.spec?.host ?? svc.host;
    if (host === undefined) {
      throw new DpnsError('NOT_RUNNING', `${svc.name} has no host to reach its launch agent on (state ${svc.state})`, { details: { name: svc.name, state: svc.state } });
    }
    return host;
  }

  private target(host: string): AgentTarget {
    return { host, port: this.o.agentPort, trusted: this.o.trust.keysFor(host) };
  }
}

function newLaunchTickets(): LaunchTickets {
  return { launchId: A.newLaunchId(), service: newTicket(), nameserver: newTicket() };
}

/** A failed attempt on one host, for the error of the whole launch. */
function hostFailure(host: string, e: unknown): HostFailure {
  if (e instanceof DpnsError) return { host, cause: typeof e.details?.cause === 'string' ? e.details.cause : e.code, message: e.message };
  return { host, cause: 'INTERNAL', message: (e as Error).message };
}

/**
 * The error of a launch no host took: one host's own error as it always was; with several, each
 * host's in the order tried, the cause the last one's.
 */
function launchFailure(name: string, failures: readonly HostFailure[], candidates: number): DpnsError {
  const last = failures[failures.length - 1] ?? { host: '-', cause: 'INTERNAL', message: `cannot launch ${name}` };
  if (failures.length <= 1 && candidates <= 1) return new DpnsError('LAUNCH_FAILED', last.message, { details: { name, cause: last.cause } });
  if (last.cause === 'KILLED' || last.cause === 'START_TIMEOUT') {
    return new DpnsError('LAUNCH_FAILED', last.message, { details: { name, cause: last.cause, tried: failures.map((f) => ({ host: f.host, cause: f.cause })) } });
  }
  const list = failures.map((f) => `${f.host}: ${f.message}`).join('; ');
  return new DpnsError('LAUNCH_FAILED', `cannot launch ${name} on any of the ${failures.length} host${failures.length === 1 ? '' : 's'} tried: ${list}`, {
    details: { name, cause: last.cause, tried: failures.map((f) => ({ host: f.host, cause: f.cause })) },
  });
}
