// The entries put or removed since a snapshot, for the next one made from it (snapshot-merge.ts).
// Every write lands here, so adding is two array pushes: a Map or Set of names cost ~1 µs a write
// at a million names (its table grows to an eighth of the registry between snapshots, and each
// insertion misses the cache); a name changed twice is simply there twice until it is read.
import type { EntryView } from '@dpns/protocol';
import { NameSort } from './name-sort.js';

/** Names sorted between two looks at the clock. */
const SORT_STEP = 2048;

function nextTurn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Each changed name once, in name order, with its entry after the last change (undefined: removed). */
export interface ChangedInOrder {
  names: string[];
  entries: (EntryView | undefined)[];
}

export class ChangedEntries {
  private readonly names: string[] = [];
  private readonly entries: (EntryView | undefined)[] = [];

  /** `name` now holds `entry` (undefined: removed). */
  add(name: string, entry: EntryView | undefined): void {
    this.names.push(name);
    this.entries.push(entry);
  }

  /** Changes added, a name counted each time it changed. */
  get changes(): number {
    return this.names.length;
  }

  /**
   * The changed names in order with their latest entries; sorts, so taken once per snapshot. The
   * sort goes a slice at a time: `pause()` is awaited each time it has run for `sliceMs`, so the
   * event loop answers requests meanwhile.
   */
  async inOrder(sliceMs = Infinity, pause: () => Promise<unknown> = nextTurn): Promise<ChangedInOrder> {
    const sort = new NameSort(this.names);
    let started = performance.now();
    while (sort.run(SORT_STEP)) {
      if (performance.now() - started < sliceMs) continue;
      await pause();
      started = performance.now();
    }
    return this.pick(sort.indexes);
  }

  /** Each name once, in the order of `idx` (the names sorted), with its last change's entry. */
  private pick(idx: Uint32Array): ChangedInOrder {
    const out: ChangedInOrder = { names: [], entries: [] };
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k] as number;
      const name = this.names[i] as string;
      // The same name next: a later change of it, which is the one that counts.
      if (k + 1 < idx.length && this.names[idx[k + 1] as number] === name) continue;
      out.names.push(name);
      out.entries.push(this.entries[i]);
    }
    return out;
  }
}
