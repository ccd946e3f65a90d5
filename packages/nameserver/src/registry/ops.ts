// A change to the registry as it is logged and replayed: whole entries, so replay needs no rules.
import { isConfigChange, type ConfigChange } from './cluster-members.js';
import type { EntryView } from '@dpns/protocol';

/** The secrets of one launch: the service's half and the name server's half of its ticket pair. */
export interface LaunchTickets {
  launchId: string;
  service: string;
  nameserver: string;
}

/** An agent trusted for a host: replicated and logged like entries, so every server knows it. */
export interface AgentRecord {
  host: string;
  /** Hex Ed25519 identity the agent signs its hellos with. */
  key: string;
  /** Epoch milliseconds. */
  at: number;
  how: 'join' | 'trust';
}

/** An unspent join token: its id and the key derived from its secret, never the secret. */
export interface JoinTokenRecord {
  id: string;
  /** joinKey(secret), hex. */
  key: string;
  /** Epoch milliseconds after which it enrolls nothing. */
  expires: number;
  /** The one host it may enroll, when the admin named one. */
  host?: string;
}

/**
 * Tickets travel in the log beside the entries but never in an entry, so no view, watch event
 * or snapshot answer can show them.
 */
export type Op =
  | { t: 'put'; e: EntryView }
  | { t: 'del'; n: string }
  | { t: 'tickets'; n: string; v: LaunchTickets | null }
  | { t: 'agent'; h: string; v: AgentRecord | null }
  | { t: 'join'; id: string; v: JoinTokenRecord | null };

/** One logged record: the ops of one request, applied together or not at all. */
export interface LogRecord {
  ops: Op[];
  /** The epoch of the primary that wrote it (absent in logs from before backup mode: 0). */
  ep?: number;
  /** The client's request id, remembered so a retried write is answered, not applied twice. */
  rid?: string;
  /** A configuration record's (the cluster core's, `ops` empty): the voters from here on (cluster-members.ts). */
  config?: ConfigChange;
}

/** What watchers are told about one op once it is durable. */
export interface Change {
  type: 'put' | 'delete';
  name: string;
  entry?: EntryView;
}

/** Narrows a record read back from the log; the log's checksum already vouched for its bytes. */
export function isLogRecord(v: unknown): v is LogRecord {
  if (typeof v !== 'object' || v === null || !Array.isArray((v as LogRecord).ops)) return false;
  if ((v as LogRecord).config !== undefined && !isConfigChange((v as LogRecord).config)) return false;
  return (v as LogRecord).ops.every(
    (op) => (op.t === 'put' && typeof op.e?.name === 'string') || (op.t === 'del' && typeof op.n === 'string') ||
      (op.t === 'tickets' && typeof op.n === 'string' && (op.v === null || typeof op.v?.service === 'string')) ||
      (op.t === 'agent' && typeof op.h === 'string' && (op.v === null || typeof op.v?.key === 'string')) ||
      (op.t === 'join' && typeof op.id === 'string' && (op.v === null || typeof op.v?.key === 'string')),
  );
}
