// The entries the table shows: the current watch's snapshot, kept in name order, with watch
// events applied in batches of one animation frame, so a burst of 10,000 changes costs one
// sort and one render, not 10,000 of each.
import type { EntryView, WatchEventParams } from './protocol.js';

/** Past this many new or deleted names in one batch, re-sorting beats splicing one by one. */
const SPLICE_LIMIT = 64;

export class EntryStore {
  private entries = new Map<string, EntryView>();
  /** Names in code-unit order, as the server sorts them. */
  private names: string[] = [];
  private pending = new Map<string, WatchEventParams>();
  private frame: number | undefined;
  private readonly listeners = new Set<() => void>();
  /** Bumped on every change, so a view knows to render again. */
  version = 0;

  get size(): number {
    return this.names.length;
  }

  /** The entry at row `i` in name order. */
  at(i: number): EntryView | undefined {
    const name = this.names[i];
    return name === undefined ? undefined : this.entries.get(name);
  }

  get(name: string): EntryView | undefined {
    return this.entries.get(name);
  }

  /** The row of `name`, or -1. */
  indexOf(name: string): number {
    const i = lowerBound(this.names, name);
    return this.names[i] === name ? i : -1;
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Replaces everything with a watch's initial entries (sorted by name, as the server sends them). */
  reset(entries: EntryView[]): void {
    this.cancelFrame();
    this.pending.clear();
    this.entries = new Map(entries.map((e) => [e.name, e]));
    this.names = entries.map((e) => e.name);
    if (!isSorted(this.names)) this.names.sort(compare);
    this.changed();
  }

  /** Queues a change for the next frame; a later change of the same name replaces it. */
  enqueue(ev: WatchEventParams): void {
    // Re-inserting moves the name to the end, so the batch applies in arrival order.
    this.pending.delete(ev.name);
    this.pending.set(ev.name, ev);
    // requestAnimationFrame does not run in a hidden tab: the queue then holds at most one
    // event per name and is applied when the tab is shown again.
    this.frame ??= window.requestAnimationFrame(() => {
      this.frame = undefined;
      this.flush();
    });
  }

  /** Applies the queued changes now. */
  flush(): void {
    if (this.pending.size === 0) return;
    // One event per name (enqueue keeps the last), so `added` and `removed` never share a name.
    const batch = [...this.pending.values()];
    this.pending.clear();
    const added: string[] = [];
    const removed = new Set<string>();
    for (const ev of batch) {
      const had = this.entries.has(ev.name);
      if (ev.type === 'delete' || ev.entry === undefined) {
        if (had) {
          this.entries.delete(ev.name);
          removed.add(ev.name);
        }
      } else {
        this.entries.set(ev.name, ev.entry);
        if (!had) added.push(ev.name);
      }
    }
    if (added.length + removed.size > SPLICE_LIMIT) {
      this.names = [...this.entries.keys()].sort(compare);
    } else {
      for (const name of removed) {
        const i = this.indexOf(name);
        if (i >= 0) this.names.splice(i, 1);
      }
      for (const name of added) this.names.splice(lowerBound(this.names, name), 0, name);
    }
    this.changed();
  }

  /** Stops any queued frame; the store is not used after this. */
  dispose(): void {
    this.cancelFrame();
    this.listeners.clear();
  }

  private cancelFrame(): void {
    if (this.frame !== undefined) window.cancelAnimationFrame(this.frame);
    this.frame = undefined;
  }

  private changed(): void {
    this.version++;
    for (const fn of this.listeners) fn();
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isSorted(names: string[]): boolean {
  for (let i = 1; i < names.length; i++) if ((names[i - 1] as string) > (names[i] as string)) return false;
  return true;
}

/** The first index whose name is not below `name`. */
function lowerBound(names: string[], name: string): number {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((names[mid] as string) < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
