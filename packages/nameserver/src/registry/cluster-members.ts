// The cluster's configuration as the registry keeps it (docs/CLUSTER.md, "Membership changes"):
// the voters of the newest configuration record applied, and the address of every member ever
// added after the bootstrap list (SIDs are never reused, so an address, once recorded, stays
// right). Kept in the registry so that snapshots carry it: a member that starts from a snapshot,
// its own or its primary's, knows the voters and how to reach them without the records it lacks.

/** The configuration a record of the log set: the voters, and the change that made them. */
export interface ConfigChange {
  voters: number[];
  change: { op: 'add' | 'remove'; sid: number; addr?: string };
}

export interface ClusterMembers {
  /** The voters, in SID order. */
  voters: number[];
  /** HOST:PORT of each member added after the bootstrap list, by SID. */
  addrs: [number, string][];
}

/** Whether `v` is a configuration record's `config` field. */
export function isConfigChange(v: unknown): v is ConfigChange {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Partial<ConfigChange>;
  const sid = (s: unknown): boolean => Number.isSafeInteger(s) && (s as number) >= 0;
  return Array.isArray(c.voters) && c.voters.every(sid) && typeof c.change === 'object' && c.change !== null
    && (c.change.op === 'add' || c.change.op === 'remove') && sid(c.change.sid) && (c.change.addr === undefined || typeof c.change.addr === 'string');
}

/** The members after `c` is applied to `before`. */
export function withChange(before: ClusterMembers | undefined, c: ConfigChange): ClusterMembers {
  const addrs = new Map(before?.addrs ?? []);
  if (c.change.op === 'add' && c.change.addr !== undefined) addrs.set(c.change.sid, c.change.addr);
  return { voters: [...c.voters], addrs: [...addrs].sort((a, b) => a[0] - b[0]) };
}

/** Whether `v` is a snapshot's `cluster` field. */
export function isClusterMembers(v: unknown): v is ClusterMembers {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Partial<ClusterMembers>;
  return Array.isArray(m.voters) && m.voters.every((s) => Number.isSafeInteger(s) && s >= 0)
    && Array.isArray(m.addrs) && m.addrs.every((a) => Array.isArray(a) && Number.isSafeInteger(a[0]) && typeof a[1] === 'string');
}
