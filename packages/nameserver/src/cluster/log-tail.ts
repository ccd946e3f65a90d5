// The newest log records, kept in memory so that a backup that was away briefly catches up from
// the log instead of a whole snapshot. Older records than the tail holds mean a snapshot.
import type { LogRecord } from '../registry/ops.js';
import type { WireRecord } from './peer-messages.js';

export class LogTail {
  private recs: WireRecord[] = [];
  /** Index and epoch of the record just before the first kept one (what a snapshot ends at). */
  private baseIndex: number;
  private baseEpoch: number;

  constructor(private readonly capacity: number, baseIndex = 0, baseEpoch = 0) {
    this.baseIndex = baseIndex;
    this.baseEpoch = baseEpoch;
  }

  get lastIndex(): number {
    return this.baseIndex + this.recs.length;
  }

  get lastEpoch(): number {
    return this.recs.at(-1)?.d.ep ?? this.baseEpoch;
  }

  push(i: number, d: LogRecord): void {
    if (i !== this.lastIndex + 1) {
      // Not contiguous (a snapshot was installed): start over from just before it.
      this.reset(i - 1, this.lastEpoch);
    }
    this.recs.push({ i, d });
    if (this.recs.length > this.capacity * 1.25) {
      const drop = this.recs.length - this.capacity;
      const last = this.recs[drop - 1] as WireRecord;
      this.baseIndex = last.i;
      this.baseEpoch = last.d.ep ?? 0;
      this.recs = this.recs.slice(drop);
    }
  }

  /** Forget the records from `index` on (they were taken back before reaching the disk). */
  truncateFrom(index: number): void {
    if (index <= this.baseIndex) {
      // Past what the tail holds (a short tail, a long batch): the log now ends just before
      // `index`. Only a server alone takes records back, and its epoch does not change while
      // it runs, so the base epoch stays right.
      this.recs = [];
      this.baseIndex = Math.max(0, index - 1);
    } else {
      this.recs.length = Math.min(this.recs.length, index - this.baseIndex - 1);
    }
  }

  /** Forget everything; the log now ends at `index` (epoch `epoch`), as after a snapshot install. */
  reset(index: number, epoch: number): void {
    this.recs = [];
    this.baseIndex = index;
    this.baseEpoch = epoch;
  }

  /** The epoch of the record at `index`, if the tail still knows it. */
  epochAt(index: number): number | undefined {
    if (index === this.baseIndex) return this.baseEpoch;
    const r = this.recs[index - this.baseIndex - 1];
    return r === undefined ? undefined : (r.d.ep ?? 0);
  }

  /** Records after `index`, at most `max`; undefined when they are no longer all held. */
  after(index: number, max: number): WireRecord[] | undefined {
    if (index < this.baseIndex) return undefined;
    const from = index - this.baseIndex;
    return this.recs.slice(from, from + max);
  }
}
