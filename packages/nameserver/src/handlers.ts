// What each method does, given a parsed request and the connection that sent it.
import {
  DpnsError, checkAdminProof, checkIdentify, checkTicketProof, compileGlob, newTicket, randomHex, scrubSecrets, sealTo, sealWithTicket, ticketProof,
  type AuthPair, type EntryView, type LaunchSpec, type Location, type MethodName, type Params, type Result,
} from '@dpns/protocol';
import '@dpns/node-kit/use-native-crypto';
import type { AgentTrust } from './launch/agent-trust.js';
import type { IdleStopper } from './launch/idle-stopper.js';
import type { Launcher } from './launch/launcher.js';
import type { Connection } from './connection.js';
import type { Liveness } from './liveness.js';
import type { Logger } from './log.js';
import { MAX_LOGIN_FAILURES, onLoginFailure } from './login-guard.js';
import type { ServerMetrics } from './metrics.js';
import type { ModuleManager } from './modules/manager.js';
import type { Op } from './registry/ops.js';
import type { RateLimitedLog } from './rate-limited-log.js';
import { find, findSliced, launchesOnLookup, listNamesSliced, statesAtOnce, statesSliced } from './registry/queries.js';
import type { Registry } from './registry/registry.js';
import { enrolled, planEnroll, planJoinToken, planRevoke, planTrust } from './registry/agent-rules.js';
import { info, planAdd, planAdvertise, planAlias, planDelete, planEdit, planReportLoad, planUnadvertise, type Actor, type AdvertisePolicy } from './registry/rules.js';
import { planRelease } from './registry/reservation.js';
import type { WatchHub } from './watch-hub.js';
import type { Refusal } from './cluster/gate.js';

/** What handlers need from the server around them. */
export interface HandlerContext {
  registry: Registry;
  hub: WatchHub;
  liveness: Liveness;
  /** `rid` is the client's request id, logged with the ops so a retry is recognised. */
  commit(ops: Op[], rid?: string): Promise<number>;
  /**
   * The role gate (cluster/gate.ts): why this server will not answer `method` in its role
   * (NOT_PRIMARY, NO_QUORUM), if it will not; a promise while a primary renews its read lease.
   * `@module` for a call to an external module.
   */
  gate(method: MethodName | '@module', rawParams: unknown): Refusal;
  /** This server's place in the cluster: what `servers` answers. */
  servers(): Result<'servers'>;
  /** A membership change (servers.add, servers.remove): answered once its configuration record is committed. */
  changeMembers(change: { op: 'add'; address: string } | { op: 'remove'; sid: number }): Promise<Result<'servers.add'>>;
  /** Holds a read's answer until what it saw is durable. */
  afterDurable<T>(answer: T): T | Promise<T>;
  launcher: Launcher;
  /** Told each use of a service (a find's answer, a launch, an authentication): idle stops count from the last. */
  idle: Pick<IdleStopper, 'used'>;
  /** Which agent is trusted on each host (agents.*). */
  trust: AgentTrust;
  /** The external modules: `modules.*` and the calls routed to a module's prefix. */
  modules: ModuleManager;
  adminToken: string;
  maxWatchesPerConnection: number;
  maxAdvertisementsPerConnection: number;
  /** Who may advertise what beyond the registry's own rules (admin prefixes). */
  advertisePolicy: AdvertisePolicy;
  log: Logger;
  /** For lines a hostile peer can cause (failed logins): a few a second at most. */
  rateLog: RateLimitedLog;
  /** Requests by method and outcome, and their latency. */
  metrics: ServerMetrics;
  now(): number;
}

type Handler<M extends MethodName> = (ctx: HandlerContext, conn: Connection, p: Params<M>) => Result<M> | Promise<Result<M>>;

function actor(conn: Connection): Actor {
  const a: Actor = { admin: conn.admin, connId: conn.id, nonce: conn.nonce };
  if (conn.owner !== undefined) a.owner = conn.owner;
  if (conn.ephemeralOwner) a.ephemeralOwner = true;
  return a;
}

/**
 * A launch's refusal as anyone may see it: the agent's message may quote the spec's cwd or user
 * (a permission error), and the caller of a launch need not be admin.
 */
function scrubLaunchError(registry: Registry, name: string): (err: unknown) => never {
  return (err) => {
    let spec: LaunchSpec | undefined;
    try {
      spec = registry.resolve(name).service.spec;
    } catch {
      // Deleted or re-pointed meanwhile: no spec to hide, the refusal goes as it is.
    }
    if (!(err instanceof DpnsError) || spec === undefined) throw err;
    const message = scrubSecrets(err.message, spec);
    if (message === err.message) throw err;
    throw new DpnsError(err.code, message, { ...(err.details === undefined ? {} : { details: err.details }) });
  };
}

/**
 * A wrong credential (admin proof, join-token proof): counted, logged at a bounded rate, and
 * answered later the more a connection has sent (login-guard.ts); the fifth closes it.
 */
function refuseCredential(ctx: HandlerContext, conn: Connection, what: string, err: DpnsError, fields: Record<string, unknown> = {}): Promise<never> {
  const verdict = onLoginFailure(conn.loginFailures++);
  ctx.metrics.loginFailures.inc();
  ctx.rateLog.warn(what, { ...fields, conn: conn.id, remote: conn.remote, failures: conn.loginFailures, closing: verdict.close, why: err.message });
  const answer = verdict.close
    ? new DpnsError(err.code, `${err.message}; this was the ${MAX_LOGIN_FAILURES}th wrong credential on this connection, so it is closed`, err.details === undefined ? {} : { details: err.details })
    : err;
  return new Promise((_resolve, reject) => {
    const timer = setTimeout(() => {
      reject(answer);
      // After the answer has been queued: the peer is told why before the close.
      if (verdict.close) setImmediate(() => conn.endForLoginFailures());
    }, verdict.delayMs);
    timer.unref();
  });
}

/** Records a use of each service a find answers with (idle stops count from the last use). */
function usedAll(ctx: HandlerContext, services: Location[]): Location[] {
  for (const s of services) ctx.idle.used(s.service);
  return services;
}

function spendLaunch(conn: Connection): void {
  if (!conn.launches.take()) {
    throw new DpnsError('RATE_LIMITED', 'too many launch requests from this connection: bursts of up to 20, then one a second; try again shortly');
  }
}

/** How long a running service has to answer the ticket challenge of authenticateService. */
const CHALLENGE_TIMEOUT_MS = 5000;

const revision = (r: number) => ({ revision: r });

export const handlers: { [M in MethodName]: Handler<M> } = {
  servers(ctx) {
    return ctx.servers();
  },
  'servers.add'(ctx, _conn, p) {
    return ctx.changeMembers({ op: 'add', address: p.address });
  },
  'servers.remove'(ctx, _conn, p) {
    return ctx.changeMembers({ op: 'remove', sid: p.sid });
  },
  login(ctx, conn, p) {
    if (!checkAdminProof(ctx.adminToken, conn.nonce, p.proof)) {
      return refuseCredential(ctx, conn, 'refused an admin login with a wrong credential',
        new DpnsError('UNAUTHORIZED', 'wrong admin credential: check the token given to dpns (--token-file, DPNS_TOKEN_FILE or DPNS_TOKEN) against the server\'s admin.token'));
    }
    conn.admin = true;
    return { admin: true };
  },
  identify(_ctx, conn, p) {
    if (!checkIdentify(p.publicKey, conn.nonce, p.signature)) {
      throw new DpnsError('UNAUTHORIZED', 'identify: the signature does not match this connection\'s nonce and the given key');
    }
    conn.owner = p.publicKey;
    conn.ephemeralOwner = !p.reserve;
    return { owner: p.publicKey };
  },
  ping(ctx) {
    return ctx.afterDurable({ revision: ctx.registry.revision, time: ctx.now() });
  },
  listServices(ctx, _conn, p) {
    return listNamesSliced(ctx.registry, p.pattern).then((names) => ctx.afterDurable({ names }));
  },
  findServices(ctx, conn, p) {
    const glob = compileGlob(p.pattern);
    if (p.launch && glob.isLiteral) {
      // The paper's BVODS flow: asking for an auto-start service that is down starts it.
      const name = glob.literalPrefix;
      const e = ctx.registry.get(name) === undefined ? undefined : ctx.registry.resolve(name).service;
      if (e !== undefined && launchesOnLookup(e)) {
        spendLaunch(conn);
        return ctx.launcher.launch(name, 'find').then((r) => {
          ctx.idle.used(r.service.service);
          return { services: [r.service] };
        }, scrubLaunchError(ctx.registry, name));
      }
    }
    // A name is one lookup; a pattern may scan, a slice at a time. Every service answered was used.
    if (glob.isLiteral) return ctx.afterDurable({ services: usedAll(ctx, find(ctx.registry, p.pattern)) });
    return findSliced(ctx.registry, p.pattern).then((services) => ctx.afterDurable({ services: usedAll(ctx, services) }));
  },
  launchService(ctx, conn, p) {
    spendLaunch(conn);
    return ctx.launcher.launch(p.name, 'launchService').then((r) => {
      ctx.idle.used(r.service.service);
      return r;
    }, scrubLaunchError(ctx.registry, p.name));
  },
  killService(ctx, _conn, p) {
    return ctx.launcher.kill(p.name);
  },
  resetService(ctx, conn, p) {
    spendLaunch(conn);
    return ctx.launcher.reset(p.name);
  },
  async authenticateService(ctx, _conn, p) {
    const { service } = ctx.registry.resolve(p.name);
    if (service.state !== 'running') {
      throw new DpnsError('NOT_RUNNING', `${service.name} is ${service.state}; only a running service can be authenticated`, { details: { name: service.name, state: service.state } });
    }
    // Asked for by a client that means to use it, whatever the challenge's outcome.
    ctx.idle.used(service.name);
    const tickets = ctx.registry.ticketsOf(service.name);
    if (tickets === undefined) {
      throw new DpnsError('WRONG_KIND', `${service.name} was not launched by dpns, so it holds no ticket to vouch for it`, { details: { name: service.name } });
    }
    const target = ctx.liveness.connOf(service.name);
    if (target === undefined) {
      throw new DpnsError('NOT_RUNNING', `${service.name} is not connected to this name server right now; try again shortly`, { details: { name: service.name, state: service.state } });
    }
    // Step 2 of Figure 7: the service proves it still holds its ticket, over a fresh challenge.
    const challenge = randomHex(32);
    let answer: Record<string, unknown>;
    try {
      answer = await target.request('ticket.challenge', { name: service.name, challenge }, CHALLENGE_TIMEOUT_MS);
    } catch (e) {
      throw new DpnsError('TICKET_REFUSED', `${service.name} did not answer the ticket challenge: ${(e as Error).message}`, { details: { name: service.name } });
    }
    if (answer.error !== undefined) {
      throw new DpnsError('TICKET_REFUSED', `${service.name} did not answer the ticket challenge (${String((answer.error as { message?: unknown }).message)})`, { details: { name: service.name } });
    }
    const proof = (answer.result as { proof?: unknown } | undefined)?.proof;
    if (typeof proof !== 'string' || !checkTicketProof(tickets.service, proof, 'challenge', challenge, service.name)) {
      ctx.log.warn('a service failed its ticket challenge', { service: service.name, conn: target.id });
      throw new DpnsError('TICKET_REFUSED', `${service.name} could not prove it holds its launch ticket; do not trust it`, { details: { name: service.name } });
    }
    // Step 3: a fresh pair, to the client sealed to its key and to the service under its ticket.
    const pair: AuthPair = { pairId: randomHex(16), clientTicket: newTicket(), serviceTicket: newTicket() };
    const text = JSON.stringify(pair);
    target.send({ jsonrpc: '2.0', method: 'ticket.pair', params: { name: service.name, pairId: pair.pairId, sealed: sealWithTicket(tickets.service, text) } });
    return { pairId: pair.pairId, service: service.name, sealed: sealTo(p.boxKey, text) };
  },
  serviceState(ctx, _conn, p) {
    return statesSliced(ctx.registry, p.pattern).then((entries) => ctx.afterDurable({ entries }));
  },
  watch(ctx, conn, p) {
    if (conn.watches.size >= ctx.maxWatchesPerConnection) {
      throw new DpnsError('LIMIT_EXCEEDED', `at most ${ctx.maxWatchesPerConnection} watches per connection; close some with unwatch or use a wider pattern`, {
        details: { limit: ctx.maxWatchesPerConnection, what: 'watchesPerConnection' },
      });
    }
    // Opened in the same turn as the initial entries are read, so they are the state at its revision.
    const open = (entries?: EntryView[]): Result<'watch'> | Promise<Result<'watch'>> => {
      if (conn.state !== 'open') throw new DpnsError('UNAVAILABLE', 'the connection closed while the watch was being opened');
      const watchId = ctx.hub.add(p.pattern, conn);
      conn.watches.add(watchId);
      const out: Result<'watch'> = { watchId, revision: ctx.registry.revision, ...(entries === undefined ? {} : { entries }) };
      const answered = ctx.afterDurable(out);
      if (!(answered instanceof Promise)) return answered;
      // Refused when what it saw was taken back (a write that never reached the disk): no watch then.
      return answered.catch((e: unknown) => {
        ctx.hub.remove(watchId, conn);
        conn.watches.delete(watchId);
        throw e;
      });
    };
    if (!p.initial) return open();
    // A large initial list is read a slice at a time, like serviceState.
    return statesAtOnce(ctx.registry, p.pattern, open);
  },
  unwatch(ctx, conn, p) {
    if (!conn.watches.has(p.watchId) || !ctx.hub.remove(p.watchId, conn)) {
      throw new DpnsError('NOT_FOUND', `no watch ${p.watchId} on this connection`, { details: { watchId: p.watchId } });
    }
    conn.watches.delete(p.watchId);
    return { ok: true };
  },
  advertiseService(ctx, conn, p) {
    if (!p.static && !conn.admin && !conn.advertised.has(p.name) && conn.advertised.size >= ctx.maxAdvertisementsPerConnection) {
      throw new DpnsError('LIMIT_EXCEEDED', `at most ${ctx.maxAdvertisementsPerConnection} names advertised by one connection; unadvertise some, or spread them over more connections`, {
        details: { limit: ctx.maxAdvertisementsPerConnection, what: 'advertisementsPerConnection' },
      });
    }
    const breach = p.static ? undefined : ctx.liveness.quotaBreach(conn, p.name);
    if (breach !== undefined) {
      const whose = breach.what === 'advertisementsPerAddress' ? `connections from ${conn.address}` : 'connections that proved this owner key';
      throw new DpnsError('LIMIT_EXCEEDED', `at most ${breach.limit} names kept advertised by the ${whose} together; unadvertise some first`, {
        details: { limit: breach.limit, what: breach.what },
      });
    }
    const ops = planAdvertise(ctx.registry, p, actor(conn), ctx.liveness, ctx.now(), ctx.advertisePolicy);
    const keeper = ctx.liveness.connOf(p.name);
    if (p.static) ctx.liveness.unbind(p.name);
    else ctx.liveness.bind(p.name, conn);
    const tickets = ctx.registry.ticketsOf(p.name);
    return ctx.commit(ops).catch(rebind(ctx, p.name, keeper)).then((r) => {
      ctx.launcher.advertised(p.name);
      const out: Result<'advertiseService'> = { revision: r };
      // The name server's half of the pair answers the service's nonce: the service can check us.
      if (p.nonce !== undefined && tickets !== undefined) out.nameserverProof = ticketProof(tickets.nameserver, 'nameserver', conn.nonce, p.nonce, p.name);
      return out;
    });
  },
  unadvertiseService(ctx, conn, p) {
    const ops = planUnadvertise(ctx.registry, p.name, actor(conn), ctx.liveness, ctx.now());
    const keeper = ctx.liveness.connOf(p.name);
    ctx.liveness.unbind(p.name);
    return ctx.commit(ops).catch(rebind(ctx, p.name, keeper)).then(revision);
  },
  reportLoad(ctx, conn, p) {
    // Checked before the rate limit, so only names this connection may report for get a bucket.
    const ops = planReportLoad(ctx.registry, p.name, p.load, actor(conn), ctx.liveness, ctx.now());
    if (!conn.takeLoadReport(p.name)) {
      throw new DpnsError('RATE_LIMITED', `too many load reports for ${p.name}: at most 10 a second; report on change or less often`, {
        details: { name: p.name },
      });
    }
    return ctx.commit(ops).then(revision);
  },
  'register.add'(ctx, _conn, p) {
    return ctx.commit(planAdd(ctx.registry, p.name, p.spec, ctx.now())).then(revision);
  },
  'register.delete'(ctx, _conn, p) {
    const ops = planDelete(ctx.registry, p.name);
    const keeper = ctx.liveness.connOf(p.name);
    ctx.liveness.unbind(p.name);
    return ctx.commit(ops).catch(rebind(ctx, p.name, keeper)).then(revision);
  },
  'register.edit'(ctx, _conn, p) {
    const { ops, entry } = planEdit(ctx.registry, p, ctx.now());
    return ctx.commit(ops).then((r) => ({ revision: r, entry }));
  },
  'register.alias'(ctx, _conn, p) {
    return ctx.commit(planAlias(ctx.registry, p.name, p.target, ctx.now())).then(revision);
  },
  'register.info'(ctx, _conn, p) {
    return ctx.afterDurable(info(ctx.registry, p.name));
  },
  'register.release'(ctx, _conn, p) {
    const { ops, released } = planRelease(ctx.registry, p.name);
    if (ops.length === 0) return ctx.afterDurable({ revision: ctx.registry.revision });
    return ctx.commit(ops).then((r) => (released === undefined ? { revision: r } : { revision: r, released }));
  },
  'modules.list'(ctx) {
    return { modules: ctx.modules.list() };
  },
  'modules.load'(ctx, _conn, p) {
    return ctx.modules.load(p.path).then((module) => ({ module }));
  },
  'modules.unload'(ctx, _conn, p) {
    return ctx.modules.unload(p);
  },
  'modules.reload'(ctx, _conn, p) {
    return ctx.modules.reload(p).then((module) => ({ module }));
  },
  'agents.list'(ctx) {
    return ctx.afterDurable({ agents: ctx.trust.list() });
  },
  'agents.joinToken'(ctx, _conn, p) {
    const { ops, result } = planJoinToken(ctx.registry, p, ctx.now());
    // The secret goes back sealed to the admin's one-off key, like an authenticateService pair.
    const { token, ...rest } = result;
    return ctx.commit(ops).then(() => ({ sealed: sealTo(p.boxKey, token), ...rest }));
  },
  'agents.enroll'(ctx, conn, p) {
    const now = ctx.now();
    // A token is spent once even when two enrollments race with it: the second waits for nothing, it is refused.
    if (!ctx.trust.spend(p.tokenId)) {
      throw new DpnsError('UNAUTHORIZED', `join token ${p.tokenId} is being used by another enrollment right now`, { details: { cause: 'TOKEN_UNKNOWN' } });
    }
    let ops: Op[];
    try {
      ops = planEnroll(ctx.registry, p, conn.nonce, now);
    } catch (e) {
      ctx.trust.unspend(p.tokenId);
      // A wrong join-token proof is a wrong credential like a wrong admin proof: slowed, then the connection closed.
      if (e instanceof DpnsError && e.code === 'UNAUTHORIZED') return refuseCredential(ctx, conn, 'refused an agent enrollment', e, { host: p.host, tokenId: p.tokenId });
      ctx.rateLog.warn('refused an agent enrollment', { conn: conn.id, remote: conn.remote, host: p.host, tokenId: p.tokenId, why: (e as Error).message });
      throw e;
    }
    return ctx.commit(ops).then((r) => {
      ctx.log.info('enrolled a launch agent', { host: p.host, identity: p.identity, tokenId: p.tokenId, remote: conn.remote });
      return enrolled(p, now, r);
    }).finally(() => ctx.trust.unspend(p.tokenId));
  },
  'agents.trust'(ctx, _conn, p) {
    return ctx.commit(planTrust(p, ctx.now())).then(revision);
  },
  'agents.revoke'(ctx, _conn, p) {
    return ctx.commit(planRevoke(ctx.registry, p.host)).then(revision);
  },
};

/**
 * A write refused after the name's keeper was changed (its record never reached the disk and
 * was taken back): the connection that kept the name alive before keeps it again.
 */
function rebind(ctx: HandlerContext, name: string, keeper: Connection | undefined): (e: unknown) => never {
  return (e) => {
    if (keeper === undefined) ctx.liveness.unbind(name);
    else if (keeper.state === 'open') ctx.liveness.bind(name, keeper);
    throw e;
  };
}
