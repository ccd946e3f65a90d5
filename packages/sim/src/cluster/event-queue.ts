// The simulator's agenda: actions at virtual times, taken earliest first and, at one time, in
// the order they were planned, so a run depends on nothing but its seed.

interface Entry {
  at: number;
  seq: number;
  run: () => void;
}

export class EventQueue {
  private heap: Entry[] = [];
  private seq = 0;
  /** The virtual time of the action being taken. */
  now = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Plans `run` at virtual time `at` (never before now). */
  at(at: number, run: () => void): void {
    const e = { at: Math.max(at, this.now), seq: this.seq++, run };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(e, h[parent] as Entry)) break;
      h[i] = h[parent] as Entry;
      i = parent;
    }
    h[i] = e;
  }

  /** Takes the next action, if any, at or before `until`; false when there is none. */
  runOne(until: number): boolean {
    const h = this.heap;
    const top = h[0];
    if (top === undefined || top.at > until) return false;
    const last = h.pop() as Entry;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && less(h[r] as Entry, h[l] as Entry) ? r : l;
        if (!less(h[c] as Entry, last)) break;
        h[i] = h[c] as Entry;
        i = c;
      }
      h[i] = last;
    }
    this.now = top.at;
    top.run();
    return true;
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
