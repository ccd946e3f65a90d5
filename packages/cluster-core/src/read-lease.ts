// The primary's read lease: how long it may answer reads from its own state, sure that no other
// member has been elected. Why it is sound is told in the server's cluster/read-lease.ts and
// PROTOCOL.md §19.2: a backup refuses votes for a failure window after it last heard its
// primary, and it heard round k after the primary sent it at s_k; so once a majority echoed
// rounds sent at s or later, nobody else can be primary before s + window. The lease ends at
// s + window * LEASE_FRACTION, the rest a margin for clock rates and the new primary's delay.

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
