// JSON-RPC 2.0 envelopes as dpns uses them, and the notifications the server sends.
import type { WireError } from './errors.js';
import type { EntryView } from './entries.js';
import type { Sealed } from './tickets.js';
import type { ClusterHello } from './cluster.js';

/** The default name server port. */
export const DEFAULT_PORT = 7700;
/** The default largest frame a server or client accepts. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
/** Protocol version, sent in `hello`; bumped on incompatible changes. */
export const PROTOCOL_VERSION = 1;

/** A request id: a string of at most 128 characters or a finite number; dpns refuses null. */
export type RequestId = string | number;

export interface RequestMessage {
  jsonrpc: '2.0';
  id: RequestId;
  method: string;
  params?: unknown;
}

export interface SuccessResponse<R = unknown> {
  jsonrpc: '2.0';
  id: RequestId;
  result: R;
}

export interface ErrorResponse {
  jsonrpc: '2.0';
  id: RequestId | null;
  error: WireError;
}

export type ResponseMessage<R = unknown> = SuccessResponse<R> | ErrorResponse;

/** Sent by the server as the first frame on every connection. */
export interface HelloParams {
  server: 'dpns';
  version: string;
  protocol: number;
  /** 32 random bytes, hex: what `login` and `identify` prove against on this connection. */
  nonce: string;
  heartbeatMs: number;
  maxFrameBytes: number;
  /** The registry's revision when the connection opened. */
  revision: number;
  /** Backup mode: who this server is and who the primary is (absent on servers before backup mode). */
  cluster?: ClusterHello;
}

/**
 * A change seen by watches: one notification per connection and change, naming every watch of
 * that connection whose pattern matches it.
 */
export interface WatchEventParams {
  watchIds: string[];
  /** The revision that made the change; revisions only grow. */
  revision: number;
  type: 'put' | 'delete';
  name: string;
  /** The entry after the change (absent for `delete`). */
  entry?: EntryView;
}

/** One watch's share of a `watch.event`: what a client library hands the watch it names. */
export type SingleWatchEvent = Omit<WatchEventParams, 'watchIds'> & { watchId: string };

/**
 * Sent to a launched service's connection after authenticateService: the pair, sealed under
 * the service's ticket (sealWithTicket), so only the holder of that ticket can read it.
 */
export interface TicketPairParams {
  name: string;
  pairId: string;
  sealed: Sealed;
}

/** Server→client notifications, keyed on `method`. */
export type ServerNotification =
  | { jsonrpc: '2.0'; method: 'hello'; params: HelloParams }
  | { jsonrpc: '2.0'; method: 'watch.event'; params: WatchEventParams }
  | { jsonrpc: '2.0'; method: 'ticket.pair'; params: TicketPairParams };

/**
 * The one request the server sends a client: to a launched service, asking it to prove it still
 * holds its ticket. The answer is `{proof: ticketProof(ticket, 'challenge', challenge, name)}`.
 */
export interface TicketChallengeRequest {
  jsonrpc: '2.0';
  id: string;
  method: 'ticket.challenge';
  params: { name: string; challenge: string };
}

/** Anything a client may receive. */
export type ServerMessage = ResponseMessage | ServerNotification;
