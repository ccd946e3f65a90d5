// Who may change what, and how: turns a validated request into the ops to log, or refuses it.
// Pure functions of the registry and the caller, so every rule can be tested without sockets.
import { DpnsError, SPEC_LIMITS, checkTicketProof, isAdvertisedState, type AliasView, type EntryView, type HealthCheck, type LaunchSpec, type Params, type ServiceView } from '@dpns/protocol';
import { NO_ADMIN_PREFIXES, type AdminPrefixes } from './admin-prefixes.js';
import type { Op } from './ops.js';
import { MAX_ALIAS_DEPTH, type Registry } from './registry.js';
import { checkHold, holdOnLoss } from './reservation.js';

/** The caller of a request, as the connection knows it. */
export interface Actor {
  admin: boolean;
  connId: number;
  /** The owner key this connection proved with `identify`, if any. */
  owner?: string;
  /** The owner key is a throwaway (identify `reserve: false`): its names are not held when lost. */
  ephemeralOwner?: boolean;
  /** The connection's hello nonce: what ticket proofs are made over. */
  nonce?: string;
}

/** The live side of advertisements, which the registry itself does not persist. */
export interface Bindings {
  /** The id of the live connection holding `name`'s advertisement, if one does. */
  liveConn(name: string): number | undefined;
}

/** Whether `actor` holds the advertisement of `svc` (or may act for whoever does). */
function holds(svc: ServiceView, actor: Actor, bindings: Bindings): boolean {
  if (actor.admin) return true;
  const adv = svc.advertiser;
  if (adv === undefined || adv.kind === 'static') return false;
  if (bindings.liveConn(svc.name) === actor.connId) return true;
  return adv.owner !== undefined && adv.owner === actor.owner;
}

/** Two health checks are the same (both absent, or equal member by member). */
function sameCheck(a: HealthCheck | undefined, b: HealthCheck | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.kind === b.kind && a.path === b.path && a.intervalMs === b.intervalMs && a.timeoutMs === b.timeoutMs && a.threshold === b.threshold;
}

function service(reg: Registry, name: string, verb: string): ServiceView {
  const e = reg.get(name);
  if (e === undefined) throw new DpnsError('NOT_FOUND', `no service named ${name}`, { details: { name } });
  if (e.kind === 'alias') {
    throw new DpnsError('WRONG_KIND', `${name} is an alias of ${e.target}; ${verb} the service itself`, { details: { name, target: e.target } });
  }
  return e;
}

/**
 * Every static advertisement's advertiser: one object for them all (entries are never changed in
 * place, and frozen it cannot be), not 32 bytes more for each of a million names.
 */
const STATIC_ADVERTISER: NonNullable<ServiceView['advertiser']> = Object.freeze({ kind: 'static' as const });

/** Server settings that narrow who may advertise what. */
export interface AdvertisePolicy {
  adminPrefixes: AdminPrefixes;
}

const OPEN: AdvertisePolicy = { adminPrefixes: NO_ADMIN_PREFIXES };

export function planAdvertise(reg: Registry, p: Params<'advertiseService'>, actor: Actor, bindings: Bindings, now: number, policy: AdvertisePolicy = OPEN): Op[] {
  if (p.static && !actor.admin) {
    throw new DpnsError('UNAUTHORIZED', 'a static advertisement needs the admin credential (dpns: --token-file FILE, DPNS_TOKEN_FILE or DPNS_TOKEN)');
  }
  const old = reg.get(p.name);
  if (old?.kind === 'alias') {
    throw new DpnsError('WRONG_KIND', `${p.name} is an alias of ${old.target}; advertise the service itself`, { details: { name: p.name, target: old.target } });
  }
  // An auto-start name is advertised only by the process its launch handed the ticket to.
  const tickets = old?.kind === 'service' && old.spec !== undefined ? reg.ticketsOf(p.name) : undefined;
  if (old?.kind === 'service' && old.spec !== undefined && !actor.admin) {
    if (p.proof === undefined) {
      throw new DpnsError('TICKET_REFUSED', `${p.name} is an auto-start service: only the process dpns launched may advertise it, with its ticket proof`, {
        details: { name: p.name },
      });
    }
    if (tickets === undefined || actor.nonce === undefined || !checkTicketProof(tickets.service, p.proof, 'advertise', actor.nonce, p.name, p.host, p.port)) {
      throw new DpnsError('TICKET_REFUSED', `the ticket proof for ${p.name} does not match its current launch`, { details: { name: p.name } });
    }
  } else {
    // A launched process proved its ticket above; any other advertiser of a kept prefix must be admin.
    policy.adminPrefixes.check(p.name, actor.admin);
    if (old !== undefined && isAdvertisedState(old.state) && !holds(old, actor, bindings)) {
      const by = old.advertiser?.kind === 'static' ? 'statically by an admin' : 'by another connection';
      throw new DpnsError('FORBIDDEN', `${p.name} is already advertised ${by}; only its advertiser or an admin may advertise over it`, {
        details: { name: p.name },
      });
    }
    if (old?.kind === 'service') checkHold(old, actor, now);
  }
  const advertiser: NonNullable<ServiceView['advertiser']> = p.static ? STATIC_ADVERTISER : actor.owner === undefined ? { kind: 'session' }
    : actor.ephemeralOwner === true ? { kind: 'session', owner: actor.owner, ephemeral: true } : { kind: 'session', owner: actor.owner };
  if (
    old !== undefined && isAdvertisedState(old.state) && old.host === p.host && old.port === p.port && sameCheck(old.check, p.check) &&
    old.advertiser?.kind === advertiser.kind && (old.advertiser.kind === 'static' || old.advertiser.owner === (advertiser.kind === 'session' ? advertiser.owner : undefined))
  ) {
    return []; // Same advertisement again (a reconnect): nothing to log, and an unhealthy entry stays so until a probe passes.
  }
  const e: ServiceView = { kind: 'service', name: p.name, state: 'running', since: now, host: p.host, port: p.port, advertiser };
  if (p.check !== undefined) e.check = p.check;
  if (old?.spec !== undefined) e.spec = old.spec;
  if (old?.pid !== undefined && tickets !== undefined) e.pid = old.pid;
  if (old?.launchedOn !== undefined && tickets !== undefined) e.launchedOn = old.launchedOn;
  return [{ t: 'put', e }];
}

export function planUnadvertise(reg: Registry, name: string, actor: Actor, bindings: Bindings, now: number): Op[] {
  const old = service(reg, name, 'unadvertise');
  if (old.advertiser === undefined) {
    throw new DpnsError('NOT_RUNNING', `${name} is not advertised (state ${old.state})`, { details: { name, state: old.state } });
  }
  if (!holds(old, actor, bindings)) {
    const by = old.advertiser.kind === 'static' ? 'statically by an admin' : 'by another connection';
    throw new DpnsError('FORBIDDEN', `${name} was advertised ${by}; only its advertiser or an admin may unadvertise it`, {
      details: { name },
    });
  }
  // A plain service leaves the registry, unless aliases point at it: they must not dangle.
  if (old.spec === undefined && reg.aliasesTo(name).length === 0) return [{ t: 'del', n: name }];
  if (old.spec === undefined) return [{ t: 'put', e: { kind: 'service', name, state: 'stopped', since: now } }];
  const e: ServiceView = { kind: 'service', name, state: 'stopped', since: now, spec: old.spec };
  // A process that unadvertises while it is being stopped (SIGTERM): the stop's reason (idle) stays.
  if (old.state === 'stopping' && old.reason !== undefined) e.reason = old.reason;
  return [{ t: 'put', e }, { t: 'tickets', n: name, v: null }];
}

/** reportLoad: the holder of a running service's advertisement (or an admin) sets its load. */
export function planReportLoad(reg: Registry, name: string, load: number, actor: Actor, bindings: Bindings, now: number): Op[] {
  const old = service(reg, name, 'report the load of');
  if (!isAdvertisedState(old.state)) {
    throw new DpnsError('NOT_RUNNING', `${name} is ${old.state}; only a running service reports its load`, { details: { name, state: old.state } });
  }
  if (!holds(old, actor, bindings)) {
    throw new DpnsError('FORBIDDEN', `${name} is advertised by another connection; only its advertiser or an admin may report its load`, {
      details: { name },
    });
  }
  // The common case of a periodic reporter: nothing changed, nothing to log.
  if (old.load === load) return [];
  return [{ t: 'put', e: { ...old, load, loadAt: now } }];
}

/**
 * The advertiser of a running service went away without unadvertising. A plain name an owner key
 * advertised is held for that key for `reservationMs` (reservation.ts); 0 holds nothing.
 */
export function planLost(reg: Registry, name: string, reason: string, now: number, reservationMs = 0): Op[] {
  const old = reg.get(name);
  if (old?.kind !== 'service' || !isAdvertisedState(old.state) || old.advertiser?.kind !== 'session') return [];
  const e: ServiceView = { ...old, state: 'lost', since: now, reason };
  const hold = holdOnLoss(old, now, reservationMs);
  if (hold !== undefined) e.reservation = hold;
  return [{ t: 'put', e }];
}

export function planAdd(reg: Registry, name: string, spec: LaunchSpec, now: number): Op[] {
  const old = reg.get(name);
  if (old !== undefined) {
    throw new DpnsError('ALREADY_EXISTS', `${name} already exists (${old.kind === 'alias' ? `an alias of ${old.target}` : `a service, ${old.state}`}); use edit to change it`, {
      details: { name },
    });
  }
  return [{ t: 'put', e: { kind: 'service', name, state: 'registered', since: now, spec } }];
}

export function planDelete(reg: Registry, name: string): Op[] {
  const old = reg.get(name);
  if (old === undefined) throw new DpnsError('NOT_FOUND', `no service or alias named ${name}`, { details: { name } });
  const aliases = reg.aliasesTo(name);
  if (aliases.length > 0) {
    throw new DpnsError('IN_USE', `${name} is the target of ${aliases.length === 1 ? 'alias' : 'aliases'} ${aliases.slice(0, 5).join(', ')}${aliases.length > 5 ? ', …' : ''}; delete or re-point them first`, {
      details: { name, aliases: aliases.slice(0, 100) },
    });
  }
  return [{ t: 'del', n: name }];
}

export function planEdit(reg: Registry, p: Params<'register.edit'>, now: number): { ops: Op[]; entry: ServiceView } {
  const old = service(reg, p.name, 'edit');
  let spec: LaunchSpec;
  if (old.spec === undefined) {
    if ((p.spec.host === undefined && p.spec.hosts === undefined) || p.spec.program === undefined) {
      throw new DpnsError('WRONG_KIND', `${p.name} is not an auto-start service; give at least spec.host (or spec.hosts) and spec.program to make it one`, {
        details: { name: p.name },
      });
    }
    spec = { program: p.spec.program, args: [], env: {}, startTimeoutMs: SPEC_LIMITS.startTimeoutMs.dflt, ...p.spec };
  } else {
    spec = { ...old.spec, ...p.spec };
    // One host or a list: whichever the edit gives replaces the other.
    if (p.spec.hosts !== undefined) delete spec.host;
    if (p.spec.host !== undefined) delete spec.hosts;
  }
  for (const u of p.unset) delete spec[u];
  // 'no' is the default: stored as absent, as register.add stores it.
  if (spec.restart === 'no') delete spec.restart;
  // A plain service that is not running becomes a registered auto-start one, without the
  // address and advertiser of a process that is gone.
  const entry: ServiceView = old.spec === undefined && !isAdvertisedState(old.state)
    ? { kind: 'service', name: old.name, state: 'registered', since: now, spec }
    : { ...old, spec };
  // A launched process stays where it runs: when the edit takes its host out of the spec, the
  // entry keeps that host, so its kill still reaches the agent that started it.
  const ranOn = old.launchedOn ?? old.spec?.host;
  if (entry.pid !== undefined && ranOn !== undefined && spec.host !== ranOn) entry.launchedOn = ranOn;
  // Unhealthy by a check that is gone: nothing would ever probe it back to running.
  if (entry.state === 'unhealthy' && entry.check === undefined && spec.check === undefined) {
    delete entry.reason;
    entry.state = 'running';
    entry.since = now;
  }
  return { ops: [{ t: 'put', e: entry }], entry };
}

export function planAlias(reg: Registry, name: string, target: string, now: number): Op[] {
  if (name === target) throw new DpnsError('ALIAS_CYCLE', `${name} cannot be an alias of itself`, { details: { name } });
  if (reg.get(target) === undefined) throw new DpnsError('NOT_FOUND', `alias target ${target} does not exist`, { details: { name: target } });
  const old = reg.get(name);
  if (old?.kind === 'service') {
    throw new DpnsError('ALREADY_EXISTS', `${name} is a service; delete it before making it an alias`, { details: { name } });
  }
  if (reg.chainLength(target) >= MAX_ALIAS_DEPTH) {
    throw new DpnsError('LIMIT_EXCEEDED', `an alias chain is at most ${MAX_ALIAS_DEPTH} links long; ${target} is already at the end of a chain that long`, {
      details: { name, target, limit: MAX_ALIAS_DEPTH, what: 'aliasChain' },
    });
  }
  if (reg.wouldCycle(name, target)) {
    throw new DpnsError('ALIAS_CYCLE', `making ${name} an alias of ${target} would close a loop (${target} already leads back to ${name})`, {
      details: { name, target },
    });
  }
  // Re-pointing an alias lengthens the chains of the aliases that lead to it as well.
  const through = reg.linksInto(name) + 1 + reg.chainLength(target);
  if (through > MAX_ALIAS_DEPTH) {
    throw new DpnsError('LIMIT_EXCEEDED', `an alias chain is at most ${MAX_ALIAS_DEPTH} links long; with ${name} an alias of ${target}, the longest chain through ${name} would be ${through}`, {
      details: { name, target, limit: MAX_ALIAS_DEPTH, what: 'aliasChain' },
    });
  }
  if (old?.kind === 'alias' && old.target === target) return [];
  const e: AliasView = { kind: 'alias', name, target, since: now };
  return [{ t: 'put', e }];
}

/** `register.info`: the entry, who points at it, and where it leads. */
export function info(reg: Registry, name: string): { entry: EntryView; aliases: string[]; resolved?: string } {
  const entry = reg.get(name);
  if (entry === undefined) throw new DpnsError('NOT_FOUND', `no service or alias named ${name}`, { details: { name } });
  const out: { entry: EntryView; aliases: string[]; resolved?: string } = { entry, aliases: reg.aliasesTo(name) };
  if (entry.kind === 'alias') {
    try {
      out.resolved = reg.resolve(name).service.name;
    } catch {
      // A dangling chain is shown without `resolved`; info must still answer.
    }
  }
  return out;
}
