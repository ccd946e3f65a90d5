// What cluster members say to each other over a PeerLink. A member sends requests on the link it
// dialed and answers on the link it accepted; only the primary ever sends log records.
import type { ServerRole } from '@dpns/protocol';
import type { LogRecord } from '../registry/ops.js';

/** Where a member's log ends: the last index and the epoch of the record at it. */
export interface LogPosition {
  lastIndex: number;
  lastEpoch: number;
}

/** Sent on every dialed link each heartbeat: who I am and where my log is. */
export interface Beat extends LogPosition {
  t: 'beat';
  role: ServerRole;
  epoch: number;
  /** The SID of the primary I follow or am. */
  primary?: number;
}

/** A candidate asking whether it would win (prevote: nothing is persisted) or for the vote itself. */
export interface VoteRequest extends LogPosition {
  t: 'prevote' | 'vote';
  epoch: number;
}

export interface VoteAnswer {
  t: 'prevote-ans' | 'vote-ans';
  epoch: number;
  granted: boolean;
  reason?: string;
}

/** A backup asking the primary for the log after its position. */
export interface Follow extends LogPosition {
  t: 'follow';
  epoch: number;
}

/** One log record as it travels. */
export interface WireRecord {
  i: number;
  d: LogRecord;
}

/** Primary → backup: records following on from the backup's last index. */
export interface Append {
  t: 'append';
  epoch: number;
  recs: WireRecord[];
}

/** Primary → backup: the whole state, in chunks of its JSON, when the log cannot bring it up to date. */
export interface SnapshotChunk {
  t: 'snap';
  epoch: number;
  index: number;
  data: string;
  last: boolean;
}

/** Primary → backup, each heartbeat (and when the primary wants its read lease renewed now). */
export interface Tick {
  t: 'tick';
  epoch: number;
  lastIndex: number;
  /**
   * The primary's read-lease round (read-lease.ts): a backup that gets it echoes it at once in an
   * `ack`. Absent from a primary that keeps no lease (older versions), and then not answered.
   */
  seq?: number;
}

/** Backup → primary: everything up to `index` is on my disk. */
export interface Ack {
  t: 'ack';
  index: number;
  /**
   * The lease round of the tick this ack answers: the backup heard the primary after it sent
   * that round, and so refuses votes for a failure window. Older primaries ignore it (and `index`
   * is then one already acknowledged, which they ignore too).
   */
  seq?: number;
}

/** The other end will not do what was asked (not the primary, older epoch); the link is closed after. */
export interface Refuse {
  t: 'refuse';
  reason: string;
  epoch: number;
}

export type PeerMessage = Beat | VoteRequest | VoteAnswer | Follow | Append | SnapshotChunk | Tick | Ack | Refuse;

const TYPES = new Set(['beat', 'prevote', 'vote', 'prevote-ans', 'vote-ans', 'follow', 'append', 'snap', 'tick', 'ack', 'refuse']);

/** The frame came through the sealed link, so it is from a member; this only guards the shape's tag. */
export function isPeerMessage(v: unknown): v is PeerMessage {
  return typeof v === 'object' && v !== null && TYPES.has((v as { t?: string }).t ?? '');
}
