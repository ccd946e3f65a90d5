// What members say to each other (PROTOCOL.md §19.7), field for field; the server carries them
// over its PeerLink (peer-transport.ts). A member sends requests on the link it dialed and answers
// on the link it accepted; only the primary ever sends log records. The core does not look inside a
// record beyond its epoch (`ep`), so records are any object carrying one.

export type Role = 'primary' | 'backup' | 'candidate';

/** What a log record holds, as far as the core cares: the epoch of the primary that wrote it. */
export interface RecordData {
  readonly ep?: number;
  readonly [field: string]: unknown;
}

/** Where a member's log ends: the last index and the epoch of the record at it. */
export interface LogPosition {
  lastIndex: number;
  lastEpoch: number;
}

/** Sent to every member each heartbeat: who I am and where my log is. */
export interface Beat extends LogPosition {
  t: 'beat';
  role: Role;
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
export interface WireRecord<D extends RecordData = RecordData> {
  i: number;
  d: D;
}

/** Primary → backup: records following on from the backup's last index. */
export interface Append {
  t: 'append';
  epoch: number;
  recs: WireRecord[];
}

/** Primary → backup: the whole state (one frame here; the server's transport splits it into chunks), when the log cannot bring it up to date. */
export interface SnapshotChunk {
  t: 'snap';
  epoch: number;
  index: number;
  /**
   * The snapshot: opaque here. Text as the core and the simulator make it; bytes when a server's
   * link carried it as bytes (PROTOCOL.md §19.7), which the core hands to `install` untouched.
   */
  data: string | Uint8Array;
  last: boolean;
  /** The voters at `index` (the configuration records before it are gone with the log). */
  voters?: number[];
}

/** Primary → backup, each heartbeat and when the primary wants its read lease renewed now; `seq` is the lease round. */
export interface Tick {
  t: 'tick';
  epoch: number;
  lastIndex: number;
  seq?: number;
  /** How far the primary knows its log to be committed (no further than `lastIndex`). */
  commit?: number;
}

/** Backup → primary: everything up to `index` is on my disk; `seq` echoes a lease round. */
export interface Ack {
  t: 'ack';
  index: number;
  seq?: number;
}

/** The other end will not do what was asked (not the primary, older epoch). */
export interface Refuse {
  t: 'refuse';
  reason: string;
  epoch: number;
}

export type PeerMessage = Beat | VoteRequest | VoteAnswer | Follow | Append | SnapshotChunk | Tick | Ack | Refuse;
