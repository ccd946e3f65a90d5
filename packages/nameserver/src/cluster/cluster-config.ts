// Who is in the cluster and how it behaves, as the operator configured it.

export type ReplicationMode = 'sync' | 'async';

export interface ClusterConfig {
  /** Every member's HOST:PORT, in SID order (a member's SID is its place here). */
  members: string[];
  /**
   * This server's SID: its place in `members`, or for a joining server (`join`) the SID it was
   * added with, found in its log's configuration records, or -1 until the primary dials it with it.
   */
  self: number;
  /** This server's HOST:PORT, as the other members dial it. */
  address: string;
  /** A server joining a running cluster: not in `members`, it starts empty as a learner (docs/CLUSTER.md, "Membership changes"). */
  join: boolean;
  /** sync: a write is answered once every connected backup (and a majority) stored it; async: at once. */
  replication: ReplicationMode;
  /** Interval of the heartbeats between members. */
  clusterHeartbeatMs: number;
  /** Heartbeats missed before a member counts as gone. */
  clusterMisses: number;
  /**
   * In a cluster of two, a majority is both servers, so by default neither takes over from the other
   * (a partition between them must not make two primaries). With this set, either one alone is
   * enough: the survivor takes over, and a partition can then make two primaries that both take writes.
   */
  twoNodeFailover: boolean;
  /** Backups answer findServices, listServices, serviceState and watch themselves. */
  readFromBackups: boolean;
}

/** How members behave unless the operator says otherwise: the defaults of the settings table (settings.ts). */
export const CLUSTER_DEFAULTS: Readonly<Omit<ClusterConfig, 'members' | 'self' | 'address' | 'join'>> = {
  replication: 'sync', clusterHeartbeatMs: 150, clusterMisses: 4, twoNodeFailover: false, readFromBackups: false,
};

/** A stand-alone server: a cluster of one. */
export function standalone(self: string): ClusterConfig {
  return { members: [self], self: 0, address: self, join: false, ...CLUSTER_DEFAULTS };
}

/** Servers (this one included) that must hold a record before it counts as committed, and that must be reachable for a primary to take writes. */
export function quorumOf(cfg: ClusterConfig): number {
  const n = cfg.members.length;
  return n === 2 && cfg.twoNodeFailover ? 1 : Math.floor(n / 2) + 1;
}

/** How long a member may stay silent before it counts as gone. */
export function failureWindowMs(cfg: ClusterConfig): number {
  return cfg.clusterHeartbeatMs * cfg.clusterMisses;
}
