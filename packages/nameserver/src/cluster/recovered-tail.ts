// The newest records of a restart's replay, as the member's log keeps them: the replay pushes its
// records to a CoreLog of the log's capacity, which lets go of the older ones as they come. A
// restart replays every record after the newest snapshot (up to ~125,000 at a million names);
// held all until the log was made, they lived long enough for the garbage collector to copy each
// twice, ~0.5 s of the restart.
import type { CoreLog } from '@dpns/cluster-core';
import type { RecoveredLog } from './cluster-node.js';

/** What a replay left in `log`, as the cluster member starts from it: the records it holds and the base before them. */
export function recoveredLogOf(log: CoreLog): RecoveredLog {
  const base = log.firstAfter;
  return { baseIndex: base, baseEpoch: log.epochAt(base) ?? 0, voters: log.configAt(base).voters, records: log.after(base) ?? [] };
}
