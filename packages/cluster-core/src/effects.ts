// Everything the core asks its driver to do. The driver carries them out in order; those whose
// completion matters (persist, store, install, make-snapshot) are answered with an event.
import type { PeerMessage, Role, WireRecord } from './messages.js';

/**
 * Why a client's request was not carried out. The MEMBER* codes answer only `members` requests:
 * another change (or the primary's own first record) is not committed yet; the member to add did
 * not catch up in time; the change is not one the core makes (the last voter removed, a bad SID).
 */
export type RefusalCode = 'NOT_PRIMARY' | 'NO_QUORUM' | 'MEMBERSHIP_CHANGE_PENDING' | 'MEMBER_NOT_CAUGHT_UP' | 'MEMBERSHIP_CHANGE_INVALID';

/**
 * A client's answer. For a write, `index` is its record's; for a read or a settle, the state to
 * answer from is the one after record `index`. A refusal says whether the request certainly
 * did nothing (`outcome: 'none'`) or may yet take effect (`'unknown'`: it was appended but not
 * committed when this member stopped being sure, so a retry with its requestId is the way on).
 */
export type Answer =
  | { readonly ok: true; readonly index: number }
  | { readonly ok: false; readonly code: RefusalCode; readonly outcome: 'none' | 'unknown'; readonly primary?: number };

export type Effect =
  | { readonly kind: 'send'; readonly to: number; readonly m: PeerMessage }
  | { readonly kind: 'dial'; readonly peer: number }
  | { readonly kind: 'close-link'; readonly peer: number; readonly why: string }
  /** Save the election state (write, fsync, rename); answered by `persisted`. */
  | { readonly kind: 'persist'; readonly epoch: number; readonly votedFor: number | undefined }
  /** Append records to the local log and fsync them; answered by `durable`. */
  | { readonly kind: 'store'; readonly recs: readonly WireRecord[] }
  /** Replace the local state with a snapshot ending at `index` (a `snap` frame's data, untouched); answered by `installed`. */
  | { readonly kind: 'install'; readonly index: number; readonly data: string | Uint8Array }
  /** The whole state for backup `peer`, now or as a stored snapshot at `snapshotFloor` or later; answered by `snapshot-made`. */
  | { readonly kind: 'make-snapshot'; readonly peer: number }
  | { readonly kind: 'role'; readonly role: Role; readonly epoch: number; readonly primary: number | undefined; readonly why: string }
  | { readonly kind: 'answer'; readonly req: number; readonly answer: Answer }
  /**
   * The voters changed (a configuration record appended, a snapshot installed, or the log read at
   * start): from log index `index` on, `voters` vote. `member` says whether this member is one.
   */
  | { readonly kind: 'members'; readonly voters: readonly number[]; readonly index: number; readonly member: boolean }
  /** Step the core with `wake` at (or after) `at`; a later `wake` effect replaces an earlier one. */
  | { readonly kind: 'wake'; readonly at: number }
  /** The disk failed: stop the member. */
  | { readonly kind: 'halt'; readonly why: string };
