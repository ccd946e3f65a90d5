// The registry's entries as they cross the wire: each shape a JSON Schema (the method table's
// results and docs/openrpc.json use them) and its TypeScript type derived from it.
import type { Static, TLiteral, TUnion } from '@sinclair/typebox';
import { Type } from './typebox.js';

/** The life of a service, as DESIGN.md lists it. */
export const SERVICE_STATES = ['registered', 'starting', 'running', 'stopping', 'stopped', 'failed', 'lost', 'unhealthy'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

/**
 * The states of a service that is advertised at an address: `running`, and `unhealthy` (still
 * advertised, but its health check failed; finds leave it out).
 */
export function isAdvertisedState(s: ServiceState): boolean {
  return s === 'running' || s === 'unhealthy';
}

export const RESTART_POLICIES = ['no', 'on-failure'] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

/** A schema that is one of `values`. */
export function oneOf<const V extends readonly string[]>(
  values: V, options: { title?: string; description?: string } = {},
): TUnion<{ -readonly [K in keyof V]: TLiteral<V[K]> }> {
  return Type.Union(values.map((v) => Type.Literal(v)), options) as never;
}

/** How the name server probes a service's advertised address (PROTOCOL.md §7.6). */
export const CHECK_KINDS = ['tcp', 'http'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

/**
 * Bounds of a health check. The smallest interval keeps an admin from making the server probe in
 * a tight loop; a timeout is always shorter than its interval, so at most one probe per entry is
 * ever in flight without probes queueing up behind each other.
 */
export const CHECK_LIMITS = {
  intervalMs: { min: 1000, max: 3_600_000, dflt: 5000 },
  timeoutMs: { min: 100, max: 60_000, dflt: 2000 },
  threshold: { min: 1, max: 100, dflt: 3 },
  /** Longest HTTP path. */
  path: 1024,
} as const;

/** A health check as answers show it (every field filled in). */
export const HealthCheck = Type.Object({
  kind: oneOf(CHECK_KINDS, { description: 'tcp: a connection is accepted; http: GET `path` answers 2xx or 3xx (redirects are not followed).' }),
  path: Type.Optional(Type.String({ description: 'The HTTP path, for kind http.' })),
  intervalMs: Type.Integer({ description: 'Milliseconds between the starts of two probes.' }),
  timeoutMs: Type.Integer({ description: 'How long one probe may take; less than intervalMs.' }),
  threshold: Type.Integer({ description: 'Failed probes in a row that make the service `unhealthy`.' }),
}, { title: 'HealthCheck' });
export type HealthCheck = Static<typeof HealthCheck>;

/** How an auto-start service is launched by the agent on its host, as answers show it. */
export const LaunchSpec = Type.Object({
  /** One of `host` and `hosts` is present, never both. */
  host: Type.Optional(Type.String({ description: 'The host whose launch agent starts the program (absent when `hosts` is given).' })),
  /**
   * Services that follow their hosts: each launch goes to the least loaded reachable host whose
   * agent is trusted and that one of these names or patterns takes in (PROTOCOL.md §10.6).
   */
  hosts: Type.Optional(Type.Array(Type.String(), { description: 'Host names and patterns (* any run, ? one character); each launch picks the least loaded reachable enrolled host among them (PROTOCOL.md §10.6). Absent when `host` is given.' })),
  program: Type.String({ description: 'An absolute path, or a name the agent\'s allowlist maps to one.' }),
  args: Type.Array(Type.String()),
  env: Type.Record(Type.String(), Type.String()),
  cwd: Type.Optional(Type.String({ description: 'Absolute working directory; the agent\'s default when absent.' })),
  user: Type.Optional(Type.String({ description: 'The user to run as when the agent runs as root.' })),
  startTimeoutMs: Type.Integer({ description: 'How long the service has to advertise itself after it is spawned.' }),
  /**
   * 'on-failure': when the service's process dies (it is `lost`) or a relaunch fails, the name
   * server launches it again, with back-off. Absent: never relaunched on its own.
   */
  restart: Type.Optional(oneOf(RESTART_POLICIES, { description: 'on-failure: relaunched, with back-off, when its process dies or a relaunch fails.' })),
  /** Probed at the address the launched service advertises; with restart on-failure, an unhealthy one is killed and launched again. */
  check: Type.Optional(HealthCheck),
  /**
   * Scale to zero: a `running` service that no client has found, resolved or authenticated for
   * this long, and whose reported load is zero or absent, is stopped (state `stopped`, reason
   * `idle for …`); the next lookup launches it again.
   */
  idleStopMs: Type.Optional(Type.Integer({ description: 'Stopped (reason idle) after this many milliseconds without a find, DNS answer, launchService or authenticateService, while its load is 0 or unreported (PROTOCOL.md §7.7).' })),
  /**
   * Set on a spec shown to a connection that is not admin: `args`, the values of `env`, `cwd` and
   * `user` are then the REDACTED marker (redact.ts). Never accepted on input.
   */
  redacted: Type.Optional(Type.Literal(true, { description: 'args, env values, cwd and user are redacted (PROTOCOL.md §7.5).' })),
}, { title: 'LaunchSpec' });
export type LaunchSpec = Static<typeof LaunchSpec>;

/** Who keeps a running service's advertisement alive. */
export const Advertiser = Type.Union([
  /** Recorded by an admin for a program that does not speak dpns; stays until unadvertised. */
  Type.Object({ kind: Type.Literal('static') }),
  /**
   * A live connection; `owner` is the hex Ed25519 key it proved, when it identified itself;
   * `ephemeral` when that key asked for no reservation (identify `reserve: false`).
   */
  Type.Object({ kind: Type.Literal('session'), owner: Type.Optional(Type.String()), ephemeral: Type.Optional(Type.Literal(true)) }),
], { title: 'Advertiser' });
export type Advertiser = Static<typeof Advertiser>;

/**
 * A lost name that an owner key advertised, held for that key: until `until` (epoch ms) only a
 * connection that proves `owner` (or an admin) may advertise it; an admin may release it sooner.
 */
export const Reservation = Type.Object({
  owner: Type.String({ description: 'The hex Ed25519 key that advertised the name.' }),
  until: Type.Number({ description: 'Epoch milliseconds when the hold ends on its own.' }),
}, { title: 'Reservation' });
export type Reservation = Static<typeof Reservation>;

/** A service entry as `serviceState` and `register.info` show it. */
export const ServiceView = Type.Object({
  kind: Type.Literal('service'),
  name: Type.String(),
  state: oneOf(SERVICE_STATES),
  since: Type.Number({ description: 'Epoch milliseconds when the entry entered `state`.' }),
  host: Type.Optional(Type.String()),
  port: Type.Optional(Type.Integer()),
  reason: Type.Optional(Type.String({ description: 'Why it is `failed`, `lost` or `unhealthy`, or `stopping`/`stopped` by its idle stop (`idle for 10m0s`).' })),
  /** A static entry's health check (an auto-start service's is in its spec). */
  check: Type.Optional(HealthCheck),
  /** Present for an auto-start service. */
  spec: Type.Optional(LaunchSpec),
  /** Present while it is advertised (`running`), and kept while it is `lost`. */
  advertiser: Type.Optional(Advertiser),
  pid: Type.Optional(Type.Integer({ description: 'The process the launch agent started; kept while it is starting, running, stopping or lost.' })),
  /**
   * For a spec with `hosts`: the host whose agent started the current process (the one the
   * launch picked); kill and reap go there. Kept as `pid` is.
   */
  launchedOn: Type.Optional(Type.String({ description: 'The host whose agent started the process, for a spec with hosts (PROTOCOL.md §10.6); kept while pid is.' })),
  load: Type.Optional(Type.Number({ description: 'The last load figure the running service reported (reportLoad); lower is less loaded.' })),
  loadAt: Type.Optional(Type.Number({ description: 'Epoch milliseconds of that report.' })),
  /** Present while the name is `lost` and held for the owner key that advertised it (§9.6 of PROTOCOL.md). */
  reservation: Type.Optional(Reservation),
}, { title: 'ServiceView' });
export type ServiceView = Static<typeof ServiceView>;

/** An alias entry: a name standing for another name. */
export const AliasView = Type.Object({
  kind: Type.Literal('alias'),
  name: Type.String(),
  target: Type.String(),
  since: Type.Number(),
}, { title: 'AliasView' });
export type AliasView = Static<typeof AliasView>;

export const EntryView = Type.Union([ServiceView, AliasView], { title: 'EntryView' });
export type EntryView = Static<typeof EntryView>;

/** One address `findServices` answers with. */
export const Location = Type.Object({
  name: Type.String({ description: 'The name asked for (or matched), which may be an alias.' }),
  service: Type.String({ description: 'The service it resolved to; equal to `name` unless `name` is an alias.' }),
  host: Type.String(),
  port: Type.Integer(),
}, { title: 'Location' });
export type Location = Static<typeof Location>;
