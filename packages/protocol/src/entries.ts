// The registry's entries as they cross the wire.

/** The life of a service, as DESIGN.md lists it. */
export const SERVICE_STATES = ['registered', 'starting', 'running', 'stopping', 'stopped', 'failed', 'lost'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

/** How an auto-start service is launched by the agent on its host. */
export interface LaunchSpec {
  /** The host whose launch agent starts the program. */
  host: string;
  /** An absolute path, or a name the agent's allowlist maps to one. */
  program: string;
  args: string[];
  env: Record<string, string>;
  /** Absolute working directory; the agent's default when absent. */
  cwd?: string;
  /** The user to run as when the agent runs as root. */
  user?: string;
  /** How long the service has to advertise itself after it is spawned. */
  startTimeoutMs: number;
  /**
   * 'on-failure': when the service's process dies (it is `lost`) or a relaunch fails, the name
   * server launches it again, with back-off. Absent: never relaunched on its own.
   */
  restart?: RestartPolicy;
  /**
   * Set on a spec shown to a connection that is not admin: `args`, the values of `env`, `cwd` and
   * `user` are then the REDACTED marker (redact.ts). Never accepted on input.
   */
  redacted?: true;
}

export const RESTART_POLICIES = ['no', 'on-failure'] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

/** Who keeps a running service's advertisement alive. */
export type Advertiser =
  /** Recorded by an admin for a program that does not speak dpns; stays until unadvertised. */
  | { kind: 'static' }
  /**
   * A live connection; `owner` is the hex Ed25519 key it proved, when it identified itself;
   * `ephemeral` when that key asked for no reservation (identify `reserve: false`).
   */
  | { kind: 'session'; owner?: string; ephemeral?: true };

/**
 * A lost name that an owner key advertised, held for that key: until `until` (epoch ms) only a
 * connection that proves `owner` (or an admin) may advertise it; an admin may release it sooner.
 */
export interface Reservation {
  /** The hex Ed25519 key that advertised the name. */
  owner: string;
  /** Epoch milliseconds when the hold ends on its own. */
  until: number;
}

/** A service entry as `serviceState` and `register.info` show it. */
export interface ServiceView {
  kind: 'service';
  name: string;
  state: ServiceState;
  /** Epoch milliseconds when the entry entered `state`. */
  since: number;
  host?: string;
  port?: number;
  /** Why it is `failed` or `lost`. */
  reason?: string;
  /** Present for an auto-start service. */
  spec?: LaunchSpec;
  /** Present while it is advertised (`running`), and kept while it is `lost`. */
  advertiser?: Advertiser;
  /** The process the launch agent started; kept while it is starting, running, stopping or lost. */
  pid?: number;
  /** The last load figure the running service reported (reportLoad); lower is less loaded. */
  load?: number;
  /** Epoch milliseconds of that report. */
  loadAt?: number;
  /** Present while the name is `lost` and held for the owner key that advertised it (§9.6 of PROTOCOL.md). */
  reservation?: Reservation;
}

/** An alias entry: a name standing for another name. */
export interface AliasView {
  kind: 'alias';
  name: string;
  target: string;
  since: number;
}

export type EntryView = ServiceView | AliasView;

/** One address `findServices` answers with. */
export interface Location {
  /** The name asked for (or matched), which may be an alias. */
  name: string;
  /** The service it resolved to; equal to `name` unless `name` is an alias. */
  service: string;
  host: string;
  port: number;
}
