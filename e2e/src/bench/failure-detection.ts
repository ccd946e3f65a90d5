// How soon each system may notice a silent leader in the failover scenarios. dpns runs with its
// default cluster timing, given explicitly so that the etcd row paired with it gets the same
// numbers; etcd runs twice: with dpns's detection window, and with its own defaults.

/** dpns's defaults (`--cluster-heartbeat-ms`, `--cluster-misses`): a member is gone after 4 × 150 ms of silence. */
export const DPNS_HEARTBEAT_MS = 150;
export const DPNS_MISSES = 4;
export const DPNS_WINDOW_MS = DPNS_HEARTBEAT_MS * DPNS_MISSES;

/** Flags giving a dpns server that timing. */
export const DPNS_TIMING_ARGS: readonly string[] = ['--cluster-heartbeat-ms', String(DPNS_HEARTBEAT_MS), '--cluster-misses', String(DPNS_MISSES)];

/** etcd's `--heartbeat-interval` and `--election-timeout`. */
export interface EtcdTiming {
  heartbeatMs: number;
  electionMs: number;
}

/** One etcd configuration the failover rounds run against. */
export interface EtcdVariant {
  /** Appended to the row key (`failover.etcd` + suffix). */
  keySuffix: string;
  /** Short, for the shape column and the round lines. */
  name: string;
  /** Long, for the status line that starts the cluster. */
  describe: string;
  /** undefined: etcd's own defaults, no timing flags at all. */
  timing: EtcdTiming | undefined;
}

/**
 * etcd with dpns's window as its election timeout. etcd refuses an election timeout under five
 * heartbeat intervals, so its heartbeat is a fifth of the window (120 ms), not dpns's 150 ms: the
 * detection window is what is matched. A raft follower waits a random time in [T, 2T) before
 * standing, so etcd still notices later than T on average; that is its algorithm, not a setting.
 */
const ETCD_MATCHED: EtcdVariant = {
  keySuffix: '',
  name: `election ${DPNS_WINDOW_MS} ms`,
  describe: `heartbeat ${DPNS_WINDOW_MS / 5} ms, election timeout ${DPNS_WINDOW_MS} ms, dpns's window`,
  timing: { heartbeatMs: DPNS_WINDOW_MS / 5, electionMs: DPNS_WINDOW_MS },
};

/** etcd as installed: 100 ms heartbeat, 1 s election timeout. */
const ETCD_DEFAULTS: EtcdVariant = {
  keySuffix: '.defaults',
  name: 'etcd defaults',
  describe: 'etcd defaults: heartbeat 100 ms, election timeout 1 s',
  timing: undefined,
};

/** In the order they run. */
export const ETCD_VARIANTS: readonly EtcdVariant[] = [ETCD_MATCHED, ETCD_DEFAULTS];

/** The flags that give an etcd member `timing`. */
export function etcdTimingArgs(timing: EtcdTiming | undefined): string[] {
  return timing === undefined ? [] : ['--heartbeat-interval', String(timing.heartbeatMs), '--election-timeout', String(timing.electionMs)];
}
