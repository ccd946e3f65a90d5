// The member's log as the core knows it: the newest records (appended, perhaps not yet on disk),
// where it ends, how far it is on disk, and the configurations its records made. The disk itself
// belongs to the driver: the core says `store` in an effect and hears `durable` back, in index order.
import { votersOf, type Configuration } from './membership.js';
import type { LogPosition, RecordData, WireRecord } from './messages.js';

/**
 * How far past its capacity the log may grow to keep the records after `keepAfter`: the bound on
 * what that costs when the driver's snapshots stop moving it on.
 */
export const KEEP_LIMIT = 4;

export class CoreLog {
  private recs: WireRecord[] = [];
  /**
   * Records after this index are kept past the capacity (up to KEEP_LIMIT times it): the driver's
   * newest snapshot on disk, which it can then send a backup with the records after it instead of
   * serialising the whole state again. Infinity: none kept past the capacity.
   */
  private keepAfterIndex = Number.POSITIVE_INFINITY;
  /** Index and epoch of the record just before the first kept one (where a snapshot ends). */
  private baseIndex: number;
  private baseEpoch: number;
  /** Highest index on this member's own disk. */
  durable: number;
  /** Every configuration from the one in effect at the base on, oldest first (never empty). */
  private configs: Configuration[];

  constructor(private readonly capacity: number, records: readonly WireRecord[], baseIndex = 0, baseEpoch = 0, baseVoters: readonly number[] = []) {
    this.baseIndex = baseIndex;
    this.baseEpoch = baseEpoch;
    this.configs = [{ index: baseIndex, voters: baseVoters }];
    for (const r of records) this.push(r);
    this.durable = this.lastIndex;
  }

  /** The configuration in effect: the newest in the log, committed or not. */
  get config(): Configuration {
    return this.configs.at(-1) as Configuration;
  }

  /** The configuration in effect after record `index`. */
  configAt(index: number): Configuration {
    for (let k = this.configs.length - 1; k > 0; k--) if ((this.configs[k] as Configuration).index <= index) return this.configs[k] as Configuration;
    return this.configs[0] as Configuration;
  }

  get lastIndex(): number {
    return this.baseIndex + this.recs.length;
  }

  get lastEpoch(): number {
    return this.recs.at(-1)?.d.ep ?? this.baseEpoch;
  }

  position(): LogPosition {
    return { lastIndex: this.lastIndex, lastEpoch: this.lastEpoch };
  }

  /** Appends the next record (its index must follow on). */
  push(r: WireRecord): void {
    if (r.i !== this.lastIndex + 1) throw new Error(`record ${r.i} does not follow ${this.lastIndex}`);
    this.recs.push(r);
    const voters = votersOf(r.d);
    if (voters !== undefined) this.configs.push({ index: r.i, voters: [...voters] });
    if (this.recs.length > this.capacity * 1.25) this.trim();
  }

  /** Keeps the records after `index` past the capacity, within KEEP_LIMIT times it (see keepAfterIndex). */
  keepAfter(index: number): void {
    this.keepAfterIndex = index;
  }

  /** Index of the record just before the first one held: `after()` answers for this index and later ones. */
  get firstAfter(): number {
    return this.baseIndex;
  }

  /** Drops the oldest records down to the capacity, or to those kept for keepAfter(), whichever is more. */
  private trim(): void {
    let drop = this.recs.length - this.capacity;
    // A kept index the log has already dropped cannot be helped.
    if (this.keepAfterIndex >= this.baseIndex && this.recs.length <= this.capacity * KEEP_LIMIT) {
      drop = Math.min(drop, this.keepAfterIndex - this.baseIndex);
      // Held back by the kept records: trimmed again once a quarter of the capacity can go, not a
      // record a push (each trim copies the records held).
      if (drop < this.capacity / 4) return;
    }
    const last = this.recs[drop - 1] as WireRecord;
    this.baseIndex = last.i;
    this.baseEpoch = last.d.ep ?? 0;
    this.recs = this.recs.slice(drop);
    this.configs = [this.configAt(this.baseIndex), ...this.configs.filter((c) => c.index > this.baseIndex)];
  }

  /** Appends `d` at the next index. */
  add(d: RecordData): WireRecord {
    const r = { i: this.lastIndex + 1, d };
    this.push(r);
    return r;
  }

  /** Everything is replaced by a snapshot ending at `index` (epoch `epoch`, voters `voters`), already on disk. */
  reset(index: number, epoch: number, voters: readonly number[]): void {
    this.configs = [{ index, voters: [...voters] }];
    this.recs = [];
    this.baseIndex = index;
    this.baseEpoch = epoch;
    this.durable = index;
  }

  /** Records from `index` on are gone (never on disk); none of them made a configuration. */
  truncateFrom(index: number): void {
    if (index <= this.durable || index <= this.baseIndex) throw new Error(`record ${index} is on disk already; it cannot be taken back`);
    this.recs.length = Math.max(0, index - this.baseIndex - 1);
    this.configs = this.configs.filter((c) => c.index < index);
  }

  /** The epoch of the record at `index`, if the log still knows it. */
  epochAt(index: number): number | undefined {
    if (index === this.baseIndex) return this.baseEpoch;
    const r = this.recs[index - this.baseIndex - 1];
    return r === undefined ? undefined : (r.d.ep ?? 0);
  }

  /** Records after `index`; undefined when they are no longer all held. */
  after(index: number): WireRecord[] | undefined {
    if (index < this.baseIndex) return undefined;
    return this.recs.slice(index - this.baseIndex);
  }
}
