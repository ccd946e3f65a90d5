// The client's options, with their defaults, checked once at construction.
import type { ClientOptions as WsOptions } from 'ws';
import { DpnsError, type OwnerKey } from '@dpns/protocol';
import { parseEndpoint, type Endpoint } from './endpoints.js';

export interface DpnsClientOptions {
  /**
   * Name servers as "host:port", tried in order; default ["127.0.0.1:7700"]. Of a cluster, give
   * all members (or some: the others are learned from the servers' hellos): the client finds the
   * primary, follows it through failovers, and resends writes safely (see channel.ts).
   */
  servers?: string[];
  /** The admin credential; when set, the client logs in on every connection. */
  token?: string;
  /** How long a request may wait for its answer, including time spent reconnecting; default 10000. */
  requestTimeoutMs?: number;
  /**
   * How long a call that may launch a service (findServices, launchService, resetService) may wait:
   * the launch can take up to the service's start timeout. The larger of this and requestTimeoutMs; default 65000.
   */
  launchTimeoutMs?: number;
  /** How long one dial (TCP, WebSocket handshake, hello) may take; default 5000. */
  connectTimeoutMs?: number;
  /** Delays between reconnect attempts: exponential from min to max, with jitter; default 50..2000. */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /**
   * Keep retrying the first connection too (a service started before its name server).
   * Default false: the first `connect()` fails with CONNECTION_LOST after one round of the servers.
   */
  waitForServer?: boolean;
  /** The largest frame accepted from the server, in bytes; default 64 MiB. */
  maxPayload?: number;
  /**
   * Let a backup answer reads (list, state, find without launching, watch) when its server
   * serves reads (`--read-from-backups`); writes still go to the primary, over a second
   * connection made when first needed. A backup may lag the primary a little: see read-routing.ts.
   * Default false: everything goes to the primary.
   */
  readFromBackups?: boolean;
  /** Further options for the `ws` WebSocket (headers, TLS, agent). */
  ws?: WsOptions;
  /**
   * The key this client's advertisements are owned by (`ownerKeyFromSeed`). Default: a fresh key
   * per client, which a restarted process cannot prove again, so a name it lost stays reserved
   * for the old key until the reservation ends or an admin runs `dpns release`.
   */
  ownerKey?: OwnerKey;
}

export interface NormalizedOptions {
  endpoints: Endpoint[];
  token: string | undefined;
  requestTimeoutMs: number;
  /** Already the larger of launchTimeoutMs and requestTimeoutMs. */
  launchTimeoutMs: number;
  connectTimeoutMs: number;
  backoff: { minDelayMs: number; maxDelayMs: number };
  waitForServer: boolean;
  readFromBackups: boolean;
  ws: WsOptions;
  ownerKey: OwnerKey | undefined;
}

export const DEFAULT_SERVER = '127.0.0.1:7700';

/** Applies defaults and refuses nonsense (INVALID_PARAMS naming the option). */
export function normalizeOptions(o: DpnsClientOptions = {}): NormalizedOptions {
  const servers = o.servers === undefined || o.servers.length === 0 ? [DEFAULT_SERVER] : o.servers;
  const minDelayMs = positive('reconnect.minDelayMs', o.reconnect?.minDelayMs, 50);
  const maxDelayMs = positive('reconnect.maxDelayMs', o.reconnect?.maxDelayMs, 2000);
  if (maxDelayMs < minDelayMs) throw invalid('reconnect.maxDelayMs', `at least minDelayMs (${minDelayMs})`, maxDelayMs);
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token === '')) throw invalid('token', 'a non-empty string', o.token);
  const requestTimeoutMs = positive('requestTimeoutMs', o.requestTimeoutMs, 10_000);
  return {
    endpoints: servers.map(parseEndpoint),
    token: o.token,
    requestTimeoutMs,
    launchTimeoutMs: Math.max(requestTimeoutMs, positive('launchTimeoutMs', o.launchTimeoutMs, 65_000)),
    connectTimeoutMs: positive('connectTimeoutMs', o.connectTimeoutMs, 5000),
    backoff: { minDelayMs, maxDelayMs },
    waitForServer: o.waitForServer ?? false,
    readFromBackups: bool('readFromBackups', o.readFromBackups),
    ws: { maxPayload: positive('maxPayload', o.maxPayload, 64 * 1024 * 1024), ...o.ws },
    ownerKey: o.ownerKey,
  };
}

function bool(field: string, v: boolean | undefined): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw invalid(field, 'true or false', v);
  return v;
}

function positive(field: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw invalid(field, 'a positive number', v);
  return v;
}

function invalid(field: string, expected: string, got: unknown): DpnsError {
  return new DpnsError('INVALID_PARAMS', `option ${field}: expected ${expected}, got ${JSON.stringify(got)}`, { details: { field } });
}
