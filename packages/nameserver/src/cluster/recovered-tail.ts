// The newest records of a restart's replay, as the member's log keeps them (CoreLog): the records
// before them are let go as they are replayed. A restart replays every record after the newest
// snapshot (up to ~125,000 at a million names); held all until the log was made, they lived
// long enough for the garbage collector to copy each twice, ~0.5 s of the restart.
import { votersOf, type WireRecord } from '@dpns/cluster-core';
import type { RecoveredLog } from './cluster-node.js';

export class RecoveredTail {
  private recs: WireRecord[] = [];
  private baseIndex: number;
  private baseEpoch: number;
  private voters: readonly number[] | undefined;

  /** The log's `capacity`, and where the replay starts: the snapshot's index, epoch and voters. */
  constructor(private readonly capacity: number, base: Omit<RecoveredLog, 'records'>) {
    this.baseIndex = base.baseIndex;
    this.baseEpoch = base.baseEpoch;
    this.voters = base.voters;
  }

  /** The next record replayed. */
  push(r: WireRecord): void {
    this.recs.push(r);
    // Let go of in batches: each drop copies the records kept.
    if (this.recs.length >= this.capacity * 2) this.drop();
  }

  /** The newest `capacity` records, after a base that the records let go of moved on as CoreLog moves its own. */
  log(): RecoveredLog {
    this.drop();
    return { baseIndex: this.baseIndex, baseEpoch: this.baseEpoch, records: this.recs, ...(this.voters === undefined ? {} : { voters: this.voters }) };
  }

  private drop(): void {
    const drop = this.recs.length - this.capacity;
    if (drop <= 0) return;
    for (let k = 0; k < drop; k++) this.voters = votersOf((this.recs[k] as WireRecord).d) ?? this.voters;
    const last = this.recs[drop - 1] as WireRecord;
    this.baseIndex = last.i;
    this.baseEpoch = last.d.ep ?? 0;
    this.recs = this.recs.slice(drop);
  }
}
