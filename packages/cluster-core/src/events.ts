// Everything that can happen to a member, as the core hears it. The driver (the server's
// ClusterNode, or the simulator) turns sockets, timers, the disk and client requests into these,
// and hands each to `ClusterCore.step` with the member's monotonic time.
import type { MembershipChange } from './membership.js';
import type { PeerMessage, RecordData } from './messages.js';

export type CoreEvent =
  /** The member starts (its election state and log read from disk). */
  | { readonly kind: 'start' }
  /** The heartbeat interval came round. */
  | { readonly kind: 'tick' }
  /** The time the core last asked for (a `wake` effect) has come. */
  | { readonly kind: 'wake' }
  /** A frame from member `from`. */
  | { readonly kind: 'message'; readonly from: number; readonly m: PeerMessage }
  /** A link to member `peer` opened or closed. */
  | { readonly kind: 'link-up'; readonly peer: number }
  | { readonly kind: 'link-down'; readonly peer: number }
  /** The election state of the last `persist` effect is on disk. */
  | { readonly kind: 'persisted' }
  /** The local log is on disk up to `index` (stores complete in index order). */
  | { readonly kind: 'durable'; readonly index: number }
  /** The snapshot of the last `install` effect is on disk; the log now ends at `index`, epoch `lastEpoch`. */
  | { readonly kind: 'installed'; readonly index: number; readonly lastEpoch: number }
  /** A write or an fsync failed: the member must stop. */
  | { readonly kind: 'disk-failed' }
  /**
   * A member that is the only voter: its records from `from` on never reached its disk (it ran out
   * of room) and are gone; their writes are not answered. Anywhere else a failed write is
   * `disk-failed`, since backups may hold the records already.
   */
  | { readonly kind: 'taken-back'; readonly from: number }
  /**
   * The whole state as it was at `index`, asked for by a `make-snapshot` effect for backup `peer`:
   * at any index from `snapshotFloor` on (the log holds every record after it and sends them next).
   */
  | { readonly kind: 'snapshot-made'; readonly peer: number; readonly index: number; readonly data: string }
  /** A client's write: append `data` and answer once it is committed. */
  | { readonly kind: 'write'; readonly req: number; readonly data: RecordData }
  /**
   * A client's write whose requestId the state already holds: nothing is appended, and it is
   * answered like a read, once everything this member has applied is committed.
   */
  | { readonly kind: 'settle'; readonly req: number }
  /** A client's read. */
  | { readonly kind: 'read'; readonly req: number }
  /**
   * A client asks for one member to be added as a voter or removed (docs/CLUSTER.md, "Membership
   * changes"); answered once the configuration record is committed, or refused.
   */
  | ({ readonly kind: 'members'; readonly req: number } & MembershipChange);
