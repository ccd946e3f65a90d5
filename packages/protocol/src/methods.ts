// Every method of the dpns protocol, declared once: its params, its result, who may call
// it, and the runtime parser that turns untrusted params into the typed ones.
import type { EntryView, LaunchSpec, Location, Reservation, ServiceView } from './entries.js';
import { prefixProblem, RESERVED_PREFIXES, type ModuleInfo, type ModuleTarget } from './modules.js';
import type { Sealed } from './tickets.js';
import { JOIN_TTL_DEFAULT_MS, JOIN_TTL_MAX_MS, type AgentInfo } from './enrollment.js';
import type { ServerStatus } from './cluster.js';
import { DpnsError } from './errors.js';
import { compileGlob } from './glob.js';
import { assertName } from './names.js';
import { bad, bool, host, launchSpec, object, onlyKeys, port, SPEC_KEYS, specField, str, type Obj } from './validate.js';

/** Param and result types of each client→server method. */
export interface Methods {
  /** Proves the admin credential: `proof` is `adminProof(token, hello.nonce)`. */
  login: { params: { proof: string }; result: { admin: true } };
  /** Proves an Ed25519 key; the connection's advertisements are then owned by that key, across reconnects. */
  identify: { params: { publicKey: string; signature: string; reserve: boolean }; result: { owner: string } };
  /** Liveness and the current revision. */
  ping: { params: Record<string, never>; result: { revision: number; time: number } };
  /**
   * Every server of the cluster as this one sees it (a stand-alone server is a cluster of one).
   * Answered by any server, primary or not.
   */
  servers: { params: Record<string, never>; result: { self: number; epoch: number; primary?: number; replication: 'sync' | 'async'; servers: ServerStatus[] } };
  listServices: { params: { pattern: string }; result: { names: string[] } };
  /** A plain name of an auto-start service that is not running is launched first, unless `launch` is false. */
  findServices: { params: { pattern: string; launch: boolean }; result: { services: Location[] } };
  serviceState: { params: { pattern: string }; result: { entries: EntryView[] } };
  watch: { params: { pattern: string; initial: boolean }; result: { watchId: string; revision: number; entries?: EntryView[] } };
  unwatch: { params: { watchId: string }; result: { ok: true } };
  /**
   * An auto-start name needs `proof` = ticketProof(ticket, 'advertise', hello.nonce, name, host, port);
   * with `nonce` (fresh, hex), the answer carries `nameserverProof` =
   * ticketProof(nameserverTicket, 'nameserver', hello.nonce, nonce, name), so the service can check us.
   */
  advertiseService: {
    params: { name: string; host: string; port: number; static: boolean; proof?: string; nonce?: string };
    result: { revision: number; nameserverProof?: string };
  };
  unadvertiseService: { params: { name: string }; result: { revision: number } };
  /**
   * Sets the load figure (any finite number >= 0, e.g. a load average or requests in flight) of a
   * running service this connection advertises; `findServices` of a pattern answers least loaded
   * first. Unchanged values are not written; more than 10 a second per name are RATE_LIMITED.
   */
  reportLoad: { params: { name: string; load: number }; result: { revision: number } };
  /** Starts an auto-start service through its host's agent; answers once it has advertised. */
  launchService: { params: { name: string }; result: { service: Location; launched: boolean } };
  /** Stops a launched service through its agent: SIGTERM to its process group, SIGKILL after a grace period. */
  killService: { params: { name: string }; result: { revision: number; signal?: 'SIGTERM' | 'SIGKILL'; alreadyGone: boolean } };
  /** Kill, then launch. */
  resetService: { params: { name: string }; result: { service: Location } };
  /**
   * The paper's Figure 7: checks the running service still holds its ticket, then issues a fresh
   * pair, sealed to the caller's X25519 `boxKey` (and to the service under its ticket).
   */
  authenticateService: { params: { name: string; boxKey: string }; result: { pairId: string; service: string; sealed: Sealed } };
  'register.add': { params: { name: string; spec: LaunchSpec }; result: { revision: number } };
  'register.delete': { params: { name: string }; result: { revision: number } };
  'register.edit': { params: { name: string; spec: Partial<LaunchSpec>; unset: ('cwd' | 'user')[] }; result: { revision: number; entry: ServiceView } };
  'register.alias': { params: { name: string; target: string }; result: { revision: number } };
  /** The only answer that shows a launch spec's args, env values, cwd and user (admins only). */
  'register.info': { params: { name: string }; result: { entry: EntryView; aliases: string[]; resolved?: string } };
  /**
   * Ends the hold of a lost name on its owner key (PROTOCOL.md §9.6) so anyone may advertise it;
   * `released` is the hold that ended, absent when the name was not held (nothing is written).
   */
  'register.release': { params: { name: string }; result: { revision: number; released?: Reservation } };
  /** Every module the server knows of, loaded or failed (docs/MODULES.md). */
  'modules.list': { params: Record<string, never>; result: { modules: ModuleInfo[] } };
  /** Loads a module file on the name server's host; answers once it runs, or refuses saying why. */
  'modules.load': { params: { path: string }; result: { module: ModuleInfo } };
  /** Stops a module's worker and forgets it; its store file stays. */
  'modules.unload': { params: ModuleTarget; result: { prefix: string | null; path: string } };
  /** Unloads then loads the module's file again (new code, fresh worker, counters reset). */
  'modules.reload': { params: ModuleTarget; result: { module: ModuleInfo } };
  /** Every agent trusted for a host (enrolled, trusted by an admin, or static in the config): host, fingerprint, when, how. */
  'agents.list': { params: Record<string, never>; result: { agents: AgentInfo[] } };
  /**
   * A single-use join token that enrolls one agent (for `host` only, when given) until `expiresAt`.
   * The token is shown here once; the name server keeps only its id and a key derived from it.
   */
  /** The token (its secret included) comes back sealed to the caller's X25519 `boxKey`, never in the clear. */
  'agents.joinToken': { params: { ttlMs: number; host?: string; boxKey: string }; result: { sealed: Sealed; id: string; expiresAt: number; host?: string } };
  /**
   * Called by an agent: enrolls `identity` for `host` with a join token, proven by `proof` =
   * HMAC(joinKey(secret), context ‖ hello.nonce ‖ tokenId ‖ host ‖ identity) and `signature` by
   * `identity` over the same text. Spends the token.
   */
  'agents.enroll': {
    params: { tokenId: string; host: string; identity: string; proof: string; signature: string };
    result: { host: string; fingerprint: string; enrolledAt: number; revision: number };
  };
  /** Trusts `key` (an agent's hex Ed25519 identity) for `host`, replacing any agent enrolled there. */
  'agents.trust': { params: { host: string; key: string }; result: { revision: number } };
  /** Forgets the agent enrolled for `host`: launches there fail AGENT_UNTRUSTED until one is enrolled again. */
  'agents.revoke': { params: { host: string }; result: { revision: number } };
}

export type MethodName = keyof Methods;
export type Params<M extends MethodName> = Methods[M]['params'];
export type Result<M extends MethodName> = Methods[M]['result'];

/** Methods that need a connection that has logged in as admin. */
export const ADMIN_METHODS: ReadonlySet<MethodName> = new Set<MethodName>([
  'killService', 'resetService', 'register.add', 'register.delete', 'register.edit', 'register.alias', 'register.info',
  'register.release', 'modules.list', 'modules.load', 'modules.unload', 'modules.reload', 'agents.joinToken', 'agents.trust', 'agents.revoke',
]);

/** Methods that change the registry (and so are logged before they are answered). */
export const WRITE_METHODS: ReadonlySet<MethodName> = new Set<MethodName>([
  'launchService', 'killService', 'resetService', 'advertiseService', 'unadvertiseService', 'reportLoad', 'register.add', 'register.delete', 'register.edit', 'register.alias',
  'register.release', 'agents.joinToken', 'agents.enroll', 'agents.trust', 'agents.revoke',
]);

const P = 'params';

function params(raw: unknown, keys: readonly string[]): Obj {
  // Omitted params mean "no params": JSON-RPC allows it, and `ping` needs none.
  const o = object(raw ?? {}, P);
  onlyKeys(o, keys, P);
  return o;
}

function name(o: Obj, key = 'name'): string {
  const v = o[key];
  assertName(v, `${P}.${key}`);
  return v;
}

function pattern(o: Obj, dflt?: string): string {
  const v = o.pattern ?? dflt;
  // A pattern without wildcards is a name, and is held to the name rules.
  const glob = compileGlob(v, `${P}.pattern`);
  if (glob.isLiteral) assertName(glob.literalPrefix, `${P}.pattern`);
  return v as string;
}

/** Runtime parsers for each method's params. They throw DpnsError with a precise message. */
export const parseParams: { [M in MethodName]: (raw: unknown) => Params<M> } = {
  login: (raw) => {
    const o = params(raw, ['proof']);
    return { proof: hex(o, 'proof', 64) };
  },
  identify: (raw) => {
    const o = params(raw, ['publicKey', 'signature', 'reserve']);
    return { publicKey: hex(o, 'publicKey', 64), signature: hex(o, 'signature', 128), reserve: bool(o, 'reserve', P, true) };
  },
  servers: (raw) => {
    params(raw, []);
    return {};
  },
  ping: (raw) => {
    params(raw, []);
    return {};
  },
  listServices: (raw) => ({ pattern: pattern(params(raw, ['pattern']), '*') }),
  findServices: (raw) => {
    const o = params(raw, ['pattern', 'launch']);
    return { pattern: pattern(o), launch: bool(o, 'launch', P, true) };
  },
  serviceState: (raw) => ({ pattern: pattern(params(raw, ['pattern']), '*') }),
  watch: (raw) => {
    const o = params(raw, ['pattern', 'initial']);
    return { pattern: pattern(o, '*'), initial: bool(o, 'initial', P, false) };
  },
  unwatch: (raw) => ({ watchId: str(params(raw, ['watchId']), 'watchId', P, { max: 32 }) }),
  advertiseService: (raw) => {
    const o = params(raw, ['name', 'host', 'port', 'static', 'proof', 'nonce']);
    const out: Params<'advertiseService'> = { name: name(o), host: host(o, 'host', P), port: port(o, 'port', P), static: bool(o, 'static', P, false) };
    if (o.proof !== undefined) out.proof = hex(o, 'proof', 64);
    if (o.nonce !== undefined) out.nonce = hex(o, 'nonce', 64);
    return out;
  },
  unadvertiseService: (raw) => ({ name: name(params(raw, ['name'])) }),
  reportLoad: (raw) => {
    const o = params(raw, ['name', 'load']);
    const load = o.load;
    if (typeof load !== 'number' || !Number.isFinite(load) || load < 0) throw bad(`${P}.load`, 'a finite number >= 0', load);
    return { name: name(o), load };
  },
  launchService: (raw) => ({ name: name(params(raw, ['name'])) }),
  killService: (raw) => ({ name: name(params(raw, ['name'])) }),
  resetService: (raw) => ({ name: name(params(raw, ['name'])) }),
  authenticateService: (raw) => {
    const o = params(raw, ['name', 'boxKey']);
    return { name: name(o), boxKey: hex(o, 'boxKey', 64) };
  },
  'register.add': (raw) => {
    const o = params(raw, ['name', 'spec']);
    return { name: name(o), spec: launchSpec(o.spec, `${P}.spec`) };
  },
  'register.delete': (raw) => ({ name: name(params(raw, ['name'])) }),
  'register.edit': (raw) => {
    const o = params(raw, ['name', 'spec', 'unset']);
    const s = object(o.spec ?? {}, `${P}.spec`);
    onlyKeys(s, SPEC_KEYS, `${P}.spec`);
    const spec: Partial<LaunchSpec> = {};
    for (const k of SPEC_KEYS) {
      if (s[k] !== undefined) (spec as Record<string, unknown>)[k] = specField(s, k, `${P}.spec`);
    }
    const unsetRaw = o.unset ?? [];
    if (!Array.isArray(unsetRaw) || !unsetRaw.every((u) => u === 'cwd' || u === 'user')) {
      throw bad(`${P}.unset`, 'an array of "cwd" and "user"', unsetRaw);
    }
    const unset = unsetRaw as ('cwd' | 'user')[];
    for (const u of unset) if (spec[u] !== undefined) throw bad(`${P}.unset`, `not both a value and unset for "${u}"`, unset);
    if (Object.keys(spec).length === 0 && unset.length === 0) throw bad(`${P}.spec`, 'at least one field to change', s);
    return { name: name(o), spec, unset };
  },
  'register.alias': (raw) => {
    const o = params(raw, ['name', 'target']);
    return { name: name(o), target: name(o, 'target') };
  },
  'register.info': (raw) => ({ name: name(params(raw, ['name'])) }),
  'register.release': (raw) => ({ name: name(params(raw, ['name'])) }),
  'modules.list': (raw) => {
    params(raw, []);
    return {};
  },
  'modules.load': (raw) => ({ path: absolutePath(params(raw, ['path']), 'path') }),
  'modules.unload': (raw) => moduleTarget(raw),
  'modules.reload': (raw) => moduleTarget(raw),
  'agents.list': (raw) => {
    params(raw, []);
    return {};
  },
  'agents.joinToken': (raw) => {
    const o = params(raw, ['ttlMs', 'host', 'boxKey']);
    const ttl = o.ttlMs ?? JOIN_TTL_DEFAULT_MS;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1000 || ttl > JOIN_TTL_MAX_MS) {
      throw bad(`${P}.ttlMs`, `an integer number of milliseconds from 1000 to ${JOIN_TTL_MAX_MS} (7 days)`, ttl);
    }
    const out: Params<'agents.joinToken'> = { ttlMs: ttl, boxKey: hex(o, 'boxKey', 64) };
    if (o.host !== undefined) out.host = host(o, 'host', P);
    return out;
  },
  'agents.enroll': (raw) => {
    const o = params(raw, ['tokenId', 'host', 'identity', 'proof', 'signature']);
    return {
      tokenId: hex(o, 'tokenId', 16), host: host(o, 'host', P), identity: hex(o, 'identity', 64), proof: hex(o, 'proof', 64), signature: hex(o, 'signature', 128),
    };
  },
  'agents.trust': (raw) => {
    const o = params(raw, ['host', 'key']);
    return { host: host(o, 'host', P), key: hex(o, 'key', 64) };
  },
  'agents.revoke': (raw) => ({ host: host(params(raw, ['host']), 'host', P) }),
};

/** An absolute path on the name server's host. */
function absolutePath(o: Obj, key: string): string {
  const v = str(o, key, P);
  if (!v.startsWith('/')) throw bad(`${P}.${key}`, 'an absolute path (the CLI makes a relative one absolute)', v);
  return v;
}

/** Exactly one of `prefix` and `path`. */
function moduleTarget(raw: unknown): ModuleTarget {
  const o = params(raw, ['prefix', 'path']);
  if ((o.prefix === undefined) === (o.path === undefined)) throw bad(P, 'exactly one of prefix and path', o.prefix ?? o.path);
  if (o.path !== undefined) return { path: absolutePath(o, 'path') };
  // A reserved prefix is well-formed here: no module holds it, so the server answers NOT_FOUND.
  const problem = prefixProblem(o.prefix);
  if (problem !== undefined && !RESERVED_PREFIXES.has(o.prefix as string)) {
    throw new DpnsError('INVALID_PARAMS', `${P}.prefix: ${problem}`, { details: { field: `${P}.prefix` } });
  }
  return { prefix: o.prefix as string };
}

function hex(o: Obj, key: string, len: number): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length !== len || !/^[0-9a-f]+$/.test(v)) {
    throw bad(`${P}.${key}`, `${len} lowercase hex digits`, v);
  }
  return v;
}

/** True when `m` is a method this protocol version defines. */
export function isMethodName(m: string): m is MethodName {
  return Object.prototype.hasOwnProperty.call(parseParams, m);
}
