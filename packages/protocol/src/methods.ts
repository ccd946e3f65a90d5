// The method table: every method of the dpns protocol declared once, with the schema of its
// params and of its result, and how it is carried (who may call it, whether it writes, which
// servers answer it, whether a retry is answered from the log). The TypeScript types, the
// parsers at the server's edge, the server's role gate, admin check and retry table, the
// client's routing and resending, the reserved module prefixes and docs/openrpc.json all derive
// from it. Adding a method is adding an entry here; the type checker then names the handler
// (nameserver handlers.ts) and the client's result guard (client guards.ts) it still needs.
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { ServerStatus } from './cluster.js';
import { AgentInfo, JOIN_TTL_DEFAULT_MS, JOIN_TTL_MAX_MS } from './enrollment.js';
import { EntryView, Location, oneOf, Reservation, ServiceView, type HealthCheck, type LaunchSpec } from './entries.js';
import { hasWildcard } from './glob.js';
import { ModuleInfo, type ModuleTarget } from './modules.js';
import {
  absolutePath, flag, healthCheck, hex, hostName, integer, launchSpecFields, listOf, members, modulePrefix, name, nonNegative, nullIsAbsent, pattern, tcpPort, text, withDefault,
} from './param-fields.js';
import { paramParser, type Parsed } from './param-parse.js';
import { Sealed } from './tickets.js';
import { Type } from './typebox.js';
import { bad, checkRuleProblem, SPEC_LIMITS } from './validate.js';

/**
 * How a method is carried. A write or launch changes the registry: only the primary answers it,
 * it is logged before it is answered, and the client sends it with a `requestId` (PROTOCOL.md
 * §19.4) so a retry after a failover is safe. Anything else says which servers answer it, and
 * which of the client's connections carries it.
 */
export type MethodTraits =
  /** `replayable`: a retry whose requestId was applied is answered `{revision}` from the log, not applied again. */
  | { kind: 'write'; admin: boolean; replayable: boolean }
  /** Talks to a launch agent and writes several revisions; safe to repeat as it is. */
  | { kind: 'launch'; admin: boolean }
  | {
    /** As PROTOCOL.md §5.1's "kind" column says: `session` set-up, a `read`, `auth` (Figure 7), `modules` management, `cluster` membership changes (§19.8). */
    kind: 'read' | 'session' | 'auth' | 'modules' | 'cluster';
    admin: boolean;
    /** `any` member in any role; a backup that serves `reads` (or the primary); the `primary` only. */
    answeredBy: 'any' | 'reads' | 'primary';
    /** With read-from-backups, the client's connection that carries it (PROTOCOL.md §19.6). */
    channel: 'reads' | 'primary';
    /** Sent again on the next connection after a drop: false for session set-up, watches (they re-subscribe) and module loads. */
    resend: boolean;
    /** When these params may launch a service, and so need the primary whatever `answeredBy` says. */
    mayLaunch?: (rawParams: unknown) => boolean;
  };

/** One method: its docs, its params (members, checked) and result (for types and docs), and its traits. */
export type MethodDef<P extends TObject, R extends TSchema, O> = MethodTraits & {
  summary: string;
  params: P;
  result: R;
  /** Checks that span members and shapes the handler's value; the schema's `Parsed` when absent. */
  finish?: (p: Parsed<P>) => O;
};

function method<P extends TObject, R extends TSchema, O = Parsed<P>>(def: MethodDef<P, R, O>): MethodDef<P, R, O> {
  return def;
}

const none = () => members({});
const revision = Type.Integer({ description: 'The registry revision after this write (PROTOCOL.md §6).' });
const named = (description?: string) => members({ name: name(description) });
const patternOr = (dflt: string, description: string) => withDefault(nullIsAbsent(pattern(description)), dflt);

/** A find of a plain name launches a stopped auto-start service unless told not to. */
function findMayLaunch(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null) return false;
  const p = raw as { pattern?: unknown; launch?: unknown };
  return p.launch !== false && typeof p.pattern === 'string' && !hasWildcard(p.pattern);
}

const { host: specHost, hosts, program, args, env, cwd, user, startTimeoutMs, restart, check, idleStopMs } = launchSpecFields();
const SPEC_FIELDS = { host: specHost, hosts, program, args, env, cwd, user, startTimeoutMs, restart, check, idleStopMs };

/** A whole spec says where it runs once: one `host`, or a list of `hosts`. */
function oneHostField(o: Record<string, unknown>, field: string): void {
  if (o.host !== undefined && o.hosts !== undefined) throw bad(`${field}.hosts`, 'no hosts beside host (give one host, or a list of hosts)', o.hosts);
  if (o.host === undefined && o.hosts === undefined) throw bad(`${field}.host`, 'a string (or hosts: a list of host names and patterns)', undefined);
}

/** An edit moves a spec to one host or to a list, not to both. */
function notBothHostFields(o: Record<string, unknown>, field: string): void {
  if (o.host !== undefined && o.hosts !== undefined) throw bad(`${field}.hosts`, 'no hosts beside host (give one host, or a list of hosts)', o.hosts);
}

/** A whole launch spec, with defaults for what may be left out. */
const fullSpec = members({
  ...SPEC_FIELDS,
  host: Type.Optional(specHost),
  hosts: Type.Optional(hosts),
  args: withDefault(args, []),
  env: withDefault(env, {}),
  cwd: Type.Optional(cwd),
  user: Type.Optional(user),
  startTimeoutMs: withDefault(startTimeoutMs, SPEC_LIMITS.startTimeoutMs.dflt),
  restart: Type.Optional(restart),
  check: Type.Optional(check),
  idleStopMs: Type.Optional(idleStopMs),
}, {
  description: 'How the launch agent on `host` (or on one of `hosts`) starts the service (PROTOCOL.md §7.3).',
  checkOrder: [oneHostField, 'host', 'hosts', 'program', 'args', 'env', 'startTimeoutMs', 'cwd', 'user', 'restart', 'check', 'idleStopMs'],
});

/** Some fields of a launch spec, to change. */
const partialSpec = members({
  host: Type.Optional(specHost), program: Type.Optional(program), args: Type.Optional(args), env: Type.Optional(env), cwd: Type.Optional(cwd),
  user: Type.Optional(user), startTimeoutMs: Type.Optional(startTimeoutMs), restart: Type.Optional(restart), check: Type.Optional(check),
  idleStopMs: Type.Optional(idleStopMs), hosts: Type.Optional(hosts),
}, {
  description: 'The launch spec fields to change; the others keep their values. `host` replaces `hosts` and `hosts` replaces `host`.',
  checkOrder: [notBothHostFields, 'host', 'program', 'args', 'env', 'cwd', 'user', 'startTimeoutMs', 'restart', 'check', 'idleStopMs', 'hosts'],
});

function exactlyOneTarget(p: { prefix?: unknown; path?: unknown }): void {
  if ((p.prefix === undefined) === (p.path === undefined)) throw bad('params', 'exactly one of prefix and path', p.prefix ?? p.path);
}

/** Exactly one of `prefix` and `path`. */
const moduleTarget = members({
  prefix: Type.Optional(modulePrefix('The module\'s prefix. A reserved one is accepted, and answers NOT_FOUND.')),
  path: Type.Optional(absolutePath('The module\'s file: the way to name a module that failed before it declared a prefix.')),
}, { description: 'Exactly one of prefix and path.', checkOrder: [exactlyOneTarget, 'prefix', 'path'] });

function oneTarget(p: { prefix?: string; path?: string }): ModuleTarget {
  exactlyOneTarget(p);
  return p.path !== undefined ? { path: p.path } : { prefix: p.prefix as string };
}

/** The rules across a health check's members, for a check the schema admitted (the walk makes them in healthCheckValue). */
function checkRules(c: Partial<HealthCheck> & { kind: string } | undefined, field: string): HealthCheck | undefined {
  if (c === undefined) return undefined;
  const problem = checkRuleProblem(c, field);
  if (problem !== undefined) throw problem;
  // The parser filled in the nested defaults, though the types know only the top level's.
  return c as HealthCheck;
}

/** A check on an advertisement is for a static entry: a service that speaks dpns is watched through its connection. */
function checkNeedsStatic(p: { static?: unknown; check?: unknown }): void {
  if (p.check !== undefined && p.static !== true) throw bad('params.check', 'a check only with static: true (a service that speaks dpns is watched through its own connection)', p.check);
}

type UnsetField = 'cwd' | 'user' | 'check' | 'idleStopMs';

/** An edit sets or unsets something, and not both for one field. */
function editChangesSomething(p: { spec?: unknown; unset?: unknown }): void {
  const spec = (p.spec ?? {}) as Record<string, unknown>;
  const unset = (p.unset ?? []) as UnsetField[];
  for (const u of unset) if (spec[u] !== undefined) throw bad('params.unset', `not both a value and unset for "${u}"`, unset);
  if (Object.keys(spec).length === 0 && unset.length === 0) throw bad('params.spec', 'at least one field to change', spec);
}

/** What a membership change answers: the member it was about, and the voters once its record is committed. */
const MembershipResult = Type.Object({
  sid: Type.Integer({ description: 'The SID of the member added or removed.' }),
  address: Type.String({ description: 'Its HOST:PORT.' }),
  voters: Type.Array(Type.Integer(), { description: 'The voters once the change is committed, in SID order.' }),
  index: Type.Integer({ description: 'The log index of the configuration record.' }),
});

/** HOST:PORT as members dial each other: a host name, an IPv4 literal or a bracketed IPv6 literal, and a port 1–65535. */
export function memberAddress(v: string, field: string): string {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):([0-9]{1,5})$/.exec(v);
  const port = m === null ? 0 : Number(m[2]);
  if (m === null || port < 1 || port > 65535) throw bad(field, 'HOST:PORT (a host name or IP address, a colon, a port 1-65535), as the other members dial it', v);
  return v;
}

/** The table. Key order is the order of PROTOCOL.md §5 and of docs/openrpc.json. */
export const METHODS = {
  login: method({
    summary: 'Proves the admin credential: `proof` is `adminProof(token, hello.nonce)` (PROTOCOL.md §4.1).',
    params: members({ proof: hex(64) }),
    result: Type.Object({ admin: Type.Literal(true) }),
    kind: 'session', admin: false, answeredBy: 'any', channel: 'primary', resend: false,
  }),
  identify: method({
    summary: 'Proves an Ed25519 key; the connection\'s advertisements are then owned by that key, across reconnects (PROTOCOL.md §4.2).',
    params: members({
      publicKey: hex(64), signature: hex(128),
      reserve: withDefault(flag('Whether a lost name this key advertised is held for it (PROTOCOL.md §9.6).'), true),
    }),
    result: Type.Object({ owner: Type.String() }),
    kind: 'session', admin: false, answeredBy: 'any', channel: 'primary', resend: false,
  }),
  ping: method({
    summary: 'Liveness and the current revision.',
    params: none(),
    result: Type.Object({ revision, time: Type.Number({ description: 'The server\'s clock, epoch milliseconds.' }) }),
    kind: 'read', admin: false, answeredBy: 'any', channel: 'reads', resend: true,
  }),
  servers: method({
    summary: 'Every server of the cluster as this one sees it (a stand-alone server is a cluster of one); answered by any server, primary or not.',
    params: none(),
    result: Type.Object({
      self: Type.Integer(), epoch: Type.Integer(), primary: Type.Optional(Type.Integer()), replication: oneOf(['sync', 'async']), servers: Type.Array(ServerStatus),
    }),
    kind: 'read', admin: false, answeredBy: 'any', channel: 'primary', resend: true,
  }),
  'servers.add': method({
    summary: 'Adds the server at `address` (HOST:PORT, as the others dial it) to the cluster as a voter, with the next unused SID: it is caught up as a learner first; answered once the configuration record is committed (PROTOCOL.md §19.8).',
    params: members({ address: text(261, 'The new member\'s HOST:PORT, started with --join (docs/CLUSTER.md, "Membership changes").') }),
    result: MembershipResult,
    finish: ({ address }) => ({ address: memberAddress(address, 'params.address') }),
    kind: 'cluster', admin: true, answeredBy: 'primary', channel: 'primary', resend: false,
  }),
  'servers.remove': method({
    summary: 'Removes the member with SID `sid` from the cluster\'s voters; answered once the configuration record is committed (PROTOCOL.md §19.8).',
    params: members({ sid: integer(0, 1_000_000, 'The SID of the member to remove (as `servers` lists it).') }),
    result: MembershipResult,
    kind: 'cluster', admin: true, answeredBy: 'primary', channel: 'primary', resend: false,
  }),
  listServices: method({
    summary: 'The names that match a pattern.',
    params: members({ pattern: patternOr('*', 'Names to list (PROTOCOL.md §12.2).') }),
    result: Type.Object({ names: Type.Array(Type.String()) }),
    kind: 'read', admin: false, answeredBy: 'reads', channel: 'reads', resend: true,
  }),
  findServices: method({
    summary: 'The addresses of running services; a plain name of an auto-start service that is not running is launched first, unless `launch` is false.',
    params: members({
      pattern: nullIsAbsent(pattern('A name, or a pattern (PROTOCOL.md §12.2).')),
      launch: withDefault(flag('Whether a plain name of a stopped auto-start service is launched.'), true),
    }),
    result: Type.Object({ services: Type.Array(Location, { description: 'A pattern\'s matches least loaded first.' }) }),
    kind: 'read', admin: false, answeredBy: 'reads', channel: 'reads', resend: true, mayLaunch: findMayLaunch,
  }),
  serviceState: method({
    summary: 'The entries that match a pattern, with their states.',
    params: members({ pattern: patternOr('*', 'Entries to show (PROTOCOL.md §12.2).') }),
    result: Type.Object({ entries: Type.Array(EntryView) }),
    kind: 'read', admin: false, answeredBy: 'reads', channel: 'reads', resend: true,
  }),
  watch: method({
    summary: 'Subscribes to changes of the entries that match a pattern (watch.event notifications, PROTOCOL.md §6).',
    params: members({
      pattern: patternOr('*', 'Entries to watch (PROTOCOL.md §12.2).'),
      initial: withDefault(flag('Whether the answer carries the matching entries as they are now.'), false),
    }),
    result: Type.Object({ watchId: Type.String(), revision, entries: Type.Optional(Type.Array(EntryView)) }),
    kind: 'read', admin: false, answeredBy: 'reads', channel: 'reads', resend: false,
  }),
  unwatch: method({
    summary: 'Ends a watch this connection made.',
    params: members({ watchId: text(32) }),
    result: Type.Object({ ok: Type.Literal(true) }),
    kind: 'session', admin: false, answeredBy: 'any', channel: 'reads', resend: false,
  }),
  advertiseService: method({
    summary: 'Records where a service runs. An auto-start name needs `proof` = ticketProof(ticket, \'advertise\', hello.nonce, name, host, port); with `nonce` (fresh, hex), the answer carries `nameserverProof` = ticketProof(nameserverTicket, \'nameserver\', hello.nonce, nonce, name), so the service can check the name server (PROTOCOL.md §11.3).',
    params: members({
      name: name(), host: hostName(), port: tcpPort(),
      static: withDefault(flag('Recorded by an admin for a program that does not speak dpns; stays until unadvertised.'), false),
      proof: Type.Optional(hex(64)), nonce: Type.Optional(hex(64)),
      check: Type.Optional(healthCheck('A static entry\'s health check (PROTOCOL.md §7.6): while it fails the entry is `unhealthy` and finds leave it out.')),
    }, { checkOrder: ['name', 'host', 'port', 'static', 'proof', 'nonce', 'check', checkNeedsStatic] }),
    result: Type.Object({ revision, nameserverProof: Type.Optional(Type.String()) }),
    finish: (p) => {
      const c = checkRules(p.check, 'params.check');
      checkNeedsStatic(p);
      const { check: _given, ...rest } = p;
      const out: typeof rest & { check?: HealthCheck } = rest;
      if (c !== undefined) out.check = c;
      return out;
    },
    kind: 'write', admin: false, replayable: false,
  }),
  unadvertiseService: method({
    summary: 'Withdraws an advertisement.',
    params: named(),
    result: Type.Object({ revision }),
    kind: 'write', admin: false, replayable: true,
  }),
  reportLoad: method({
    summary: 'Sets the load figure of a running service this connection advertises; findServices of a pattern answers least loaded first. Unchanged values are not written; more than 10 a second per name are RATE_LIMITED.',
    params: members({ name: name(), load: nonNegative('Any finite number >= 0, e.g. a load average or requests in flight.') }, { checkOrder: ['load', 'name'] }),
    result: Type.Object({ revision }),
    kind: 'write', admin: false, replayable: true,
  }),
  launchService: method({
    summary: 'Starts an auto-start service through its host\'s agent; answers once it has advertised.',
    params: named(),
    result: Type.Object({ service: Location, launched: Type.Boolean() }),
    kind: 'launch', admin: false,
  }),
  killService: method({
    summary: 'Stops a launched service through its agent: SIGTERM to its process group, SIGKILL after a grace period.',
    params: named(),
    result: Type.Object({ revision, signal: Type.Optional(oneOf(['SIGTERM', 'SIGKILL'])), alreadyGone: Type.Boolean() }),
    kind: 'launch', admin: true,
  }),
  resetService: method({
    summary: 'Kill, then launch.',
    params: named(),
    result: Type.Object({ service: Location }),
    kind: 'launch', admin: true,
  }),
  authenticateService: method({
    summary: 'The paper\'s Figure 7: checks the running service still holds its ticket, then issues a fresh pair, sealed to the caller\'s X25519 `boxKey` (and to the service under its ticket).',
    params: members({ name: name(), boxKey: hex(64, 'The caller\'s X25519 public key.') }),
    result: Type.Object({ pairId: Type.String(), service: Type.String(), sealed: Sealed }),
    kind: 'auth', admin: false, answeredBy: 'primary', channel: 'primary', resend: true,
  }),
  'register.add': method({
    summary: 'Registers an auto-start service.',
    params: members({ name: name(), spec: fullSpec }),
    result: Type.Object({ revision }),
    finish: ({ name: n, spec: given }) => {
      // Nested defaults are filled in too, though the types know only the top level's.
      const s = given as typeof given & Pick<LaunchSpec, 'args' | 'env' | 'startTimeoutMs'>;
      oneHostField(s, 'params.spec');
      const spec: LaunchSpec = s.hosts === undefined
        ? { host: s.host, program: s.program, args: s.args, env: s.env, startTimeoutMs: s.startTimeoutMs }
        : { hosts: s.hosts, program: s.program, args: s.args, env: s.env, startTimeoutMs: s.startTimeoutMs };
      if (s.cwd !== undefined) spec.cwd = s.cwd;
      if (s.user !== undefined) spec.user = s.user;
      // "no" is what an absent policy means: stored as absent, so the two never differ.
      if (s.restart !== undefined && s.restart !== 'no') spec.restart = s.restart;
      const c = checkRules(s.check, 'params.spec.check');
      if (c !== undefined) spec.check = c;
      if (s.idleStopMs !== undefined) spec.idleStopMs = s.idleStopMs;
      return { name: n, spec };
    },
    kind: 'write', admin: true, replayable: true,
  }),
  'register.delete': method({
    summary: 'Deletes a name: a service that is not running, or an alias.',
    params: named(),
    result: Type.Object({ revision }),
    kind: 'write', admin: true, replayable: true,
  }),
  'register.edit': method({
    summary: 'Changes some fields of a launch spec, or makes a plain entry auto-start.',
    params: members({
      name: name(),
      spec: withDefault(nullIsAbsent(partialSpec), {}),
      unset: withDefault(nullIsAbsent(listOf(['cwd', 'user', 'check', 'idleStopMs'], 'an array of "cwd", "user", "check" and "idleStopMs"', 'Optional fields to remove.')), []),
    }, { checkOrder: ['spec', 'unset', editChangesSomething, 'name'] }),
    result: Type.Object({ revision, entry: ServiceView }),
    finish: (p) => {
      checkRules(p.spec.check, 'params.spec.check');
      notBothHostFields(p.spec, 'params.spec');
      editChangesSomething(p);
      return p as { name: string; spec: Partial<LaunchSpec>; unset: UnsetField[] };
    },
    kind: 'write', admin: true, replayable: true,
  }),
  'register.alias': method({
    summary: 'Makes a name stand for another name.',
    params: members({ name: name(), target: name() }),
    result: Type.Object({ revision }),
    kind: 'write', admin: true, replayable: true,
  }),
  'register.info': method({
    summary: 'An entry with its aliases; the only answer that shows a launch spec\'s args, env values, cwd and user (admins only).',
    params: named(),
    result: Type.Object({ entry: EntryView, aliases: Type.Array(Type.String()), resolved: Type.Optional(Type.String()) }),
    kind: 'read', admin: true, answeredBy: 'reads', channel: 'primary', resend: true,
  }),
  'register.release': method({
    summary: 'Ends the hold of a lost name on its owner key (PROTOCOL.md §9.6) so anyone may advertise it; `released` is the hold that ended, absent when the name was not held (nothing is written).',
    params: named(),
    result: Type.Object({ revision, released: Type.Optional(Reservation) }),
    kind: 'write', admin: true, replayable: false,
  }),
  'modules.list': method({
    summary: 'Every module the server knows of, loaded or failed (docs/MODULES.md).',
    params: none(),
    result: Type.Object({ modules: Type.Array(ModuleInfo) }),
    kind: 'modules', admin: true, answeredBy: 'any', channel: 'primary', resend: true,
  }),
  'modules.load': method({
    summary: 'Loads a module file on the name server\'s host; answers once it runs, or refuses saying why.',
    params: members({ path: absolutePath('The module file, absolute (the CLI makes a relative one absolute).') }),
    result: Type.Object({ module: ModuleInfo }),
    kind: 'modules', admin: true, answeredBy: 'primary', channel: 'primary', resend: false,
  }),
  'modules.unload': method({
    summary: 'Stops a module\'s worker and forgets it; its store file stays.',
    params: moduleTarget,
    result: Type.Object({ prefix: Type.Union([Type.String(), Type.Null()]), path: Type.String() }),
    finish: oneTarget,
    kind: 'modules', admin: true, answeredBy: 'primary', channel: 'primary', resend: false,
  }),
  'modules.reload': method({
    summary: 'Unloads then loads the module\'s file again (new code, fresh worker, counters reset).',
    params: moduleTarget,
    result: Type.Object({ module: ModuleInfo }),
    finish: oneTarget,
    kind: 'modules', admin: true, answeredBy: 'primary', channel: 'primary', resend: false,
  }),
  'agents.list': method({
    summary: 'Every agent trusted for a host (enrolled, trusted by an admin, or static in the config): host, fingerprint, when, how.',
    params: none(),
    result: Type.Object({ agents: Type.Array(AgentInfo) }),
    kind: 'read', admin: false, answeredBy: 'reads', channel: 'primary', resend: true,
  }),
  'agents.joinToken': method({
    summary: 'A single-use join token that enrolls one agent (for `host` only, when given) until `expiresAt`. It comes back sealed to the caller\'s X25519 `boxKey`, never in the clear; the name server keeps only its id and a key derived from it.',
    params: members({
      ttlMs: withDefault(nullIsAbsent(integer(1000, JOIN_TTL_MAX_MS, 'How long the token is good for.', `an integer number of milliseconds from 1000 to ${JOIN_TTL_MAX_MS} (7 days)`)), JOIN_TTL_DEFAULT_MS),
      host: Type.Optional(hostName('The only host the token may enroll.')),
      boxKey: hex(64, 'The caller\'s X25519 public key.'),
    }, { checkOrder: ['ttlMs', 'boxKey', 'host'] }),
    result: Type.Object({ sealed: Sealed, id: Type.String(), expiresAt: Type.Number(), host: Type.Optional(Type.String()) }),
    kind: 'write', admin: true, replayable: false,
  }),
  'agents.enroll': method({
    summary: 'Called by an agent: enrolls `identity` for `host` with a join token, proven by `proof` = HMAC(joinKey(secret), context ‖ hello.nonce ‖ tokenId ‖ host ‖ identity) and `signature` by `identity` over the same text. Spends the token.',
    params: members({ tokenId: hex(16), host: hostName(), identity: hex(64), proof: hex(64), signature: hex(128) }),
    result: Type.Object({ host: Type.String(), fingerprint: Type.String(), enrolledAt: Type.Number(), revision }),
    kind: 'write', admin: false, replayable: false,
  }),
  'agents.trust': method({
    summary: 'Trusts `key` (an agent\'s hex Ed25519 identity) for `host`, replacing any agent enrolled there.',
    params: members({ host: hostName(), key: hex(64) }),
    result: Type.Object({ revision }),
    kind: 'write', admin: true, replayable: false,
  }),
  'agents.revoke': method({
    summary: 'Forgets the agent enrolled for `host`: launches there fail AGENT_UNTRUSTED until one is enrolled again.',
    params: members({ host: hostName() }),
    result: Type.Object({ revision }),
    kind: 'write', admin: true, replayable: false,
  }),
};

type Table = typeof METHODS;
export type MethodName = keyof Table;
export type Params<M extends MethodName> = Table[M] extends { finish?: (p: never) => infer O } ? O : never;
export type Result<M extends MethodName> = Static<Table[M]['result']>;
/** Param and result types of each client→server method. */
export type Methods = { [M in MethodName]: { params: Params<M>; result: Result<M> } };

/** Every method name, in table order. */
export const METHOD_NAMES = Object.keys(METHODS) as MethodName[];

/** The traits of `m`, typed as the union so callers branch on `kind`. */
export function traitsOf(m: MethodName): MethodTraits {
  return METHODS[m];
}

/** True when `m` is a method this protocol version defines. */
export function isMethodName(m: string): m is MethodName {
  return Object.prototype.hasOwnProperty.call(METHODS, m);
}

/** Whether `m` changes the registry: logged before it is answered, answered by the primary only, sent with a requestId. */
export function isWrite(m: MethodName): boolean {
  const k = METHODS[m].kind;
  return k === 'write' || k === 'launch';
}

/** Methods that need a connection that has logged in as admin. */
export const ADMIN_METHODS: ReadonlySet<MethodName> = new Set(METHOD_NAMES.filter((m) => METHODS[m].admin));

/** Methods that change the registry (and so are logged before they are answered). */
export const WRITE_METHODS: ReadonlySet<MethodName> = new Set(METHOD_NAMES.filter(isWrite));

/** Runtime parsers for each method's params. They throw DpnsError with a precise message. */
export const parseParams = Object.fromEntries(
  METHOD_NAMES.map((m) => [m, paramParser(METHODS[m].params as TObject, (METHODS[m] as { finish?: never }).finish)]),
) as { [M in MethodName]: (raw: unknown) => Params<M> };
