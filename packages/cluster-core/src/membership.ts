// Who votes: the cluster's configuration, as its log says (docs/CLUSTER.md, "Membership
// changes"). A configuration record names the voters in full; a member uses the newest one in its
// log, committed or not (Raft's single-server changes take effect on append), and the bootstrap
// set (SIDs 0..members-1) before any. Changes go one member at a time, so that any majority of
// the configuration before a change shares a member with any majority of the one after it.

/** A change a client asks for: one member added as a voter, or one removed. */
export interface MembershipChange {
  readonly op: 'add' | 'remove';
  readonly sid: number;
  /** Opaque to the core (e.g. the new member's HOST:PORT): kept in the record for the drivers. */
  readonly addr?: string | undefined;
}

/** What a configuration record carries, in its `config` field. */
export interface ConfigRecord {
  /** The voters once this record is appended, in SID order. */
  readonly voters: readonly number[];
  /** The change that made them. */
  readonly change: MembershipChange;
}

/** The configuration in effect from log index `index` on. */
export interface Configuration {
  readonly index: number;
  readonly voters: readonly number[];
}

/** The voters a record's data makes, if it is a configuration record. */
export function votersOf(d: { readonly [field: string]: unknown }): readonly number[] | undefined {
  const c = d.config as { voters?: unknown } | undefined;
  if (typeof c !== 'object' || c === null || !Array.isArray(c.voters)) return undefined;
  return c.voters.every((s) => Number.isSafeInteger(s) && (s as number) >= 0) ? (c.voters as number[]) : undefined;
}

/** The voters `change` makes of `voters`, in SID order. */
export function applyChange(voters: readonly number[], change: MembershipChange): number[] {
  const next = new Set(voters);
  if (change.op === 'add') next.add(change.sid);
  else next.delete(change.sid);
  return [...next].sort((a, b) => a - b);
}

/** The bootstrap voters of a cluster of `members`: SIDs 0..members-1. */
export function bootstrapVoters(members: number): number[] {
  return Array.from({ length: members }, (_, sid) => sid);
}

/** Voters (among `voters`) that make a majority; with two-node failover, a pair's either member alone. */
export function majorityOf(voters: number, twoNodeFailover: boolean): number {
  return voters === 2 && twoNodeFailover ? 1 : Math.floor(voters / 2) + 1;
}

/**
 * Whether some majority of `a` and some majority of `b` share no member: then each could elect a
 * primary, or commit, without the other. Two configurations one single-member change apart never
 * can; two changes apart usually can (the simulator's invariant, and the planted bug's proof).
 */
export function majoritiesMayBeDisjoint(a: readonly number[], b: readonly number[]): boolean {
  const inB = new Set(b);
  const both = a.filter((s) => inB.has(s)).length;
  const onlyA = a.length - both;
  const onlyB = b.length - both;
  // Each majority takes what it can from members the other lacks, the rest from the shared ones.
  const needA = Math.max(0, majorityOf(a.length, false) - onlyA);
  const needB = Math.max(0, majorityOf(b.length, false) - onlyB);
  return a.length > 0 && b.length > 0 && needA + needB <= both;
}
