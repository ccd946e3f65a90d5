// Backup mode as clients see it: the roles of a cluster's servers, what a server says about the
// cluster in its hello, what `servers` answers, and the request ids that make a retried write safe.
import type { Static } from '@sinclair/typebox';
import { Type } from './typebox.js';
import { oneOf } from './entries.js';
import { DpnsError } from './errors.js';

/**
 * `primary` takes writes; `backup` follows a primary; `candidate` has no primary it follows
 * (just started, lost its primary, or a primary that lost its majority) and takes no writes.
 */
export const SERVER_ROLES = ['primary', 'backup', 'candidate'] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

/** In every hello: this server's place in the cluster and the primary it knows of. */
export interface ClusterHello {
  /** This server's SID: its place (0-based) in the cluster list. */
  sid: number;
  role: ServerRole;
  epoch: number;
  /** The ws:// URL of the primary this server knows of; absent while there is none. */
  primary?: string;
  /** Every server of the cluster as ws:// URLs, in SID order. */
  servers: string[];
  /** Whether this backup answers findServices, listServices, serviceState and watch itself. */
  readFromBackups: boolean;
  /**
   * True: this server sends a `cluster` notification (params: this object as it is then) on every
   * open connection whenever its role or the primary it knows of changes. Absent on older servers.
   */
  notifies?: boolean;
}

/** One row of `servers`: one member of the cluster as the answering server sees it. */
export const ServerStatus = Type.Object({
  sid: Type.Integer(),
  url: Type.String({ description: 'ws:// URL.' }),
  role: Type.Optional(oneOf(SERVER_ROLES, { description: 'As last reported by that server; absent when it was never heard from.' })),
  epoch: Type.Optional(Type.Integer()),
  lastIndex: Type.Optional(Type.Integer({ description: 'The index of the last record in its log.' })),
  lag: Type.Optional(Type.Integer({ description: 'Records it is behind the primary\'s last index (0 for the primary itself).' })),
  connected: Type.Boolean({ description: 'Whether the answering server hears from it now (always true for itself).' }),
  lastHeardMs: Type.Optional(Type.Number({ description: 'Milliseconds since the answering server last heard from it.' })),
  self: Type.Boolean(),
}, { title: 'ServerStatus' });
export type ServerStatus = Static<typeof ServerStatus>;

/** Longest request id a write may carry. */
export const MAX_REQUEST_ID_LENGTH = 64;

/**
 * Any write may carry `requestId` in its params: a string the client picks once per logical write
 * and sends again on every retry. The cluster remembers the ids of the last writes it applied (in
 * its replicated state), so a write retried after a failover is answered, not applied twice.
 */
export function checkRequestId(v: unknown): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_REQUEST_ID_LENGTH || !/^[\x21-\x7e]+$/.test(v)) {
    throw new DpnsError('INVALID_PARAMS', `params.requestId: expected 1 to ${MAX_REQUEST_ID_LENGTH} printable ASCII characters, got ${JSON.stringify(v)?.slice(0, 80)}`, {
      details: { field: 'params.requestId' },
    });
  }
  return v;
}
