// The watch fan-out's frames not yet sent, kept per connection. A connection's frames of several
// changes go out in one write, so a burst of writes costs a system call per watching connection,
// not per connection and change; and a connection with a long backlog takes its turn like the
// others, instead of holding up everyone queued behind it.
//
// Nothing is allocated per frame or per change once a connection has had frames: its arrays are
// emptied and kept, not made again. A queue made per change was garbage that outlived the young
// generation while the fan-out ran, and the collections that copied it took ~6 ms each with 1,000
// watching connections (three times what they took with one queue for all).

/** One sink's frames not yet sent: `heads[from..]` with the shared `tails[from..]`, oldest first. */
export interface Waiting<S> {
  readonly sink: S;
  readonly heads: readonly string[];
  readonly tails: readonly Uint8Array[];
  readonly from: number;
}

interface Line<S> extends Waiting<S> {
  heads: string[];
  tails: Uint8Array[];
  from: number;
  /** In the line of sinks with frames waiting. */
  inLine: boolean;
}

/** Frames a sink may keep room for once its backlog is sent; a larger backlog's arrays are let go. */
const KEPT_CAPACITY = 1024;

export class FanoutQueue<S extends object> {
  private readonly bySink = new WeakMap<S, Line<S>>();
  /** Sinks with frames waiting, in the order they came to have them, from `lineFrom`. */
  private line: Line<S>[] = [];
  private lineFrom = 0;
  private frames = 0;

  /** Frames waiting, over all sinks. */
  get length(): number {
    return this.frames;
  }

  push(sink: S, head: string, tail: Uint8Array): void {
    let mine = this.bySink.get(sink);
    if (mine === undefined) this.bySink.set(sink, (mine = { sink, heads: [], tails: [], from: 0, inLine: false }));
    mine.heads.push(head);
    mine.tails.push(tail);
    this.frames++;
    if (!mine.inLine) {
      mine.inLine = true;
      this.line.push(mine);
    }
  }

  /** The sink whose frames have waited longest, with its frames; undefined when none wait. */
  first(): Waiting<S> | undefined {
    return this.line[this.lineFrom];
  }

  /**
   * The first `n` frames of `first()` were sent or dropped. A sink with more waiting goes to the
   * back of the line.
   */
  takenFromFirst(n: number): void {
    const mine = this.line[this.lineFrom];
    if (mine === undefined || n <= 0) return;
    const left = mine.heads.length - mine.from;
    const k = Math.min(n, left);
    this.frames -= k;
    this.lineFrom++;
    if (k === left) {
      mine.inLine = false;
      if (mine.heads.length > KEPT_CAPACITY) {
        mine.heads = [];
        mine.tails = [];
      } else {
        mine.heads.length = 0;
        mine.tails.length = 0;
      }
      mine.from = 0;
    } else {
      mine.from += k;
      // Cut the arrays once most of them is spent: a long backlog is not copied each turn.
      if (mine.from > KEPT_CAPACITY && mine.from * 2 > mine.heads.length) {
        mine.heads = mine.heads.slice(mine.from);
        mine.tails = mine.tails.slice(mine.from);
        mine.from = 0;
      }
      this.line.push(mine);
    }
    if (this.lineFrom === this.line.length) {
      this.line.length = 0;
      this.lineFrom = 0;
    } else if (this.lineFrom > KEPT_CAPACITY && this.lineFrom * 2 > this.line.length) {
      this.line = this.line.slice(this.lineFrom);
      this.lineFrom = 0;
    }
  }
}
