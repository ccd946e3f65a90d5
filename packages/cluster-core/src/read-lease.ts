// The primary's read lease: how long it may answer reads from its own state, sure that no other
// member has been elected (and so no write acknowledged that it has not seen). Pure: the star
// feeds it send times, the core asks it per read.
//
// Why it is sound. A backup refuses every vote while it still hears its primary (vote-rules.ts,
// rule 'primary': now - lastHeard <= window, window = heartbeatMs * misses, on its
// own monotonic clock), and it becomes a candidate itself only after a whole window of silence.
// It received the primary's lease round k at or after the primary sent it at s_k, and its echo of
// k in an `ack` says so. So once a majority (the primary counting itself) has echoed rounds sent
// at s or later, every majority that could elect someone else contains a member that will refuse
// until at least s + window, and nobody else can be primary before then. Measuring s on the
// sender's clock at send time, and not when an ack arrives, is what makes this hold across a
// pause: acks queued while the primary was stopped arrive fresh but carry old rounds.
//
// The margin: the lease ends at s + window * LEASE_FRACTION, not s + window. What it buys is
// room for clocks that run at slightly different rates (NTP slews monotonic clocks by at most
// 0.05 %, a fifth of the window is four hundred times that) and for the delay between a voter
// granting and a new primary answering anything; it keeps the lease longer than one heartbeat
// round at every --cluster-misses >= 2, so a primary that hears its backups never lapses.
// Assumed: a member's monotonic clock keeps running while its process is stopped (true for
// SIGSTOP and for a paused container; not for a host suspended to RAM, whose CLOCK_MONOTONIC stops).

/** The part of the failure window a lease lasts, counted from the send time of the round that earned it. */
export const LEASE_FRACTION = 0.8;

/** How long a lease lasts past the send time of the round a majority acknowledged. */
export function leaseSpanMs(windowMs: number): number {
  return windowMs * LEASE_FRACTION;
}

/**
 * Until when the lease holds, given for each backup the send time of the newest lease round it
 * echoed. The primary counts itself, so it needs `quorum - 1` echoes; quorum 1 always holds it.
 */
export function leaseUntil(ackedSendTimes: readonly number[], quorum: number, windowMs: number): number {
  const need = quorum - 1;
  if (need <= 0) return Number.POSITIVE_INFINITY;
  if (ackedSendTimes.length < need) return Number.NEGATIVE_INFINITY;
  const newestFirst = [...ackedSendTimes].sort((a, b) => b - a);
  return (newestFirst[need - 1] as number) + leaseSpanMs(windowMs);
}

/** Whether a lease computed by `leaseUntil` holds at `now`. */
export function holdsLease(until: number, now: number): boolean {
  return now < until;
}
