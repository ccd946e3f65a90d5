// How one member of the cluster is set up, as the core sees it: who it is, how many members there
// are, the heartbeat and failure window, and (for the simulator only) one planted bug.

export type ReplicationMode = 'sync' | 'async';

/**
 * Known bugs the simulator must be able to find (docs/CLUSTER.md, "Planted bugs"). The server
 * never sets one; each breaks exactly one rule of the core.
 */
export const PLANTED_BUGS = ['vote-without-log-check', 'ack-before-fsync', 'read-without-lease', 'commit-on-minority'] as const;
export type PlantedBug = (typeof PLANTED_BUGS)[number];

export function isPlantedBug(v: string): v is PlantedBug {
  return (PLANTED_BUGS as readonly string[]).includes(v);
}

export interface CoreConfig {
  /** This member's SID: its place in the member list. */
  readonly self: number;
  /** How many members the cluster has. */
  readonly members: number;
  readonly replication: ReplicationMode;
  /** Interval of the heartbeats between members. */
  readonly heartbeatMs: number;
  /** Heartbeats missed before a member counts as gone. */
  readonly misses: number;
  /** In a cluster of two, either member alone is a majority (PROTOCOL.md §19.2). */
  readonly twoNodeFailover: boolean;
  /** Backups answer reads while they hear their primary. */
  readonly readFromBackups: boolean;
  /** Records a primary keeps in memory for backups to catch up from; older ones mean a snapshot. */
  readonly tailCapacity: number;
  /** Seeds the core's own randomness (election retry delays). */
  readonly seed: number;
  /** Simulator only: the one bug to plant. */
  readonly plant?: PlantedBug | undefined;
}

/** Members (this one included) that must hold a record before it counts as committed, and that a primary must hear to take writes. */
export function quorumOf(cfg: Pick<CoreConfig, 'members' | 'twoNodeFailover'>): number {
  return cfg.members === 2 && cfg.twoNodeFailover ? 1 : Math.floor(cfg.members / 2) + 1;
}

/** How long a member may stay silent before it counts as gone. */
export function failureWindowMs(cfg: Pick<CoreConfig, 'heartbeatMs' | 'misses'>): number {
  return cfg.heartbeatMs * cfg.misses;
}
