// A backup's side of the star (once the server's follower.ts): it asks its primary for the
// log after its own, stores what comes one frame at a time (on its own disk before
// acknowledging), and installs a snapshot when the log cannot bring it up to date.
import type { Effect } from './effects.js';
import type { CoreLog } from './log.js';
import type { Append, SnapshotChunk, WireRecord } from './messages.js';

type Frame = Append | SnapshotChunk;

/** The disk operation a stream is waiting for: records stored up to `last`, or a snapshot installed at `index`. */
export type StreamDiskOp = { readonly kind: 'store'; readonly last: number } | { readonly kind: 'install'; readonly index: number; readonly voters: readonly number[] | undefined };

export class BackupStream {
  /** Last time anything came from the primary. */
  lastHeard: number;
  /** The primary's last index as it last said. */
  primaryIndex = 0;
  /** How far the primary said its log is committed. */
  primaryCommit = 0;
  /** The highest index acknowledged: what a lease echo repeats, so it claims nothing new. */
  private acked = 0;
  /**
   * The primary's last index as its beat said when this backup began following it, until this
   * backup's disk has that much and a record of the primary's epoch; then undefined, and the
   * backup has caught up. Until then it is behind by however long it was away, so it answers no
   * reads (docs/CLUSTER.md, "What the simulator found").
   */
  private catchUpTo: number | undefined;
  private readonly queue: Frame[] = [];
  /** What this stream waits for from the disk. */
  waiting: StreamDiskOp | undefined;
  stopped = false;
  /** Why the stream broke, once it has (the core then lets go of the link). */
  broke: string | undefined;

  constructor(
    readonly primarySid: number,
    readonly epoch: number,
    private readonly log: CoreLog,
    now: number,
    /** Planted bug 'ack-before-fsync'. */
    private readonly ackEarly: boolean,
    primaryHead: number,
    out: Effect[],
  ) {
    this.lastHeard = now;
    this.catchUpTo = primaryHead;
    out.push({ kind: 'send', to: primarySid, m: { t: 'follow', epoch, ...log.position() } });
  }

  onFrame(m: Frame, now: number, out: Effect[]): void {
    if (!this.heard(m.epoch, now)) return;
    if (this.stopped) return;
    if (m.t === 'append') {
      if (!Array.isArray(m.recs) || m.recs.length === 0) return;
      this.primaryIndex = Math.max(this.primaryIndex, (m.recs.at(-1) as WireRecord).i);
    } else {
      this.primaryIndex = Math.max(this.primaryIndex, m.index);
    }
    this.queue.push(m);
    this.pump(out);
  }

  /** Whether this backup has caught up with its primary since it began following it. */
  get caughtUp(): boolean {
    return this.catchUpTo === undefined;
  }

  onTick(epoch: number, lastIndex: number, seq: number | undefined, now: number, out: Effect[], commit?: number): void {
    if (!this.heard(epoch, now)) return;
    if (Number.isSafeInteger(lastIndex)) this.primaryIndex = Math.max(this.primaryIndex, lastIndex);
    if (commit !== undefined && Number.isSafeInteger(commit)) this.primaryCommit = Math.max(this.primaryCommit, commit);
    // A backup that held everything already (one restarted while nothing was written) stores nothing
    // more, so it learns here that it has caught up.
    this.checkCaughtUp();

    // Echoed at once, not behind the disk: it vouches only that we heard the primary after it sent round `seq`.
    if (seq !== undefined && Number.isSafeInteger(seq) && !this.stopped) out.push({ kind: 'send', to: this.primarySid, m: { t: 'ack', index: this.acked, seq } });
  }

  /** The disk finished what this stream waited for. */
  diskDone(out: Effect[]): void {
    const w = this.waiting;
    if (w === undefined) return;
    this.waiting = undefined;
    if (this.stopped) return;
    if (!(this.ackEarly && w.kind === 'store')) this.ackIndex(w.kind === 'store' ? w.last : w.index, out);
    this.pump(out);
  }

  /**
   * Frames are taken in order, the next only once the disk has the ones before; the records of
   * every append frame that arrived meanwhile go to the disk together (one write and fsync, where
   * one a frame held a backup to one fsync per record a primary wrote).
   */
  private pump(out: Effect[]): void {
    if (this.waiting !== undefined || this.stopped) return;
    const batch: WireRecord[] = [];
    while (this.queue.length > 0) {
      const m = this.queue[0] as Frame;
      if (m.t === 'snap') {
        if (batch.length > 0) break;
        this.queue.shift();
        this.waiting = { kind: 'install', index: m.index, voters: m.voters };
        out.push({ kind: 'install', index: m.index, data: m.data });
        return;
      }
      this.queue.shift();
      const lastIndex = this.log.lastIndex;
      // Raft's consistency check: a record we hold must be the primary's at that index, or our log
      // differs from the primary's below where its records follow on (following again, we are
      // sent a snapshot). The core asks its primary only once the disk is idle, so this never
      // fires unless a rule is broken; it keeps a divergent log from being extended.
      for (const r of m.recs) {
        if (r.i > lastIndex) break;
        const ours = this.log.epochAt(r.i);
        if (ours !== undefined && ours !== (r.d.ep ?? 0)) return this.storeThenBreak(batch, `our record ${r.i} is of epoch ${ours}, the primary's of epoch ${r.d.ep ?? 0}`, out);
      }
      const recs = m.recs.filter((r) => r.i > lastIndex);
      if (recs.length === 0) continue;
      if ((recs[0] as WireRecord).i !== lastIndex + 1) return this.storeThenBreak(batch, `the primary sent record ${(recs[0] as WireRecord).i} after our ${lastIndex}`, out);
      for (const r of recs) {
        this.log.push(r);
        batch.push(r);
      }
    }
    this.store(batch, out);
  }

  /** Sends records taken into the log to the disk. */
  private store(batch: WireRecord[], out: Effect[]): void {
    if (batch.length === 0) return;
    const last = (batch.at(-1) as WireRecord).i;
    this.waiting = { kind: 'store', last };
    out.push({ kind: 'store', recs: batch });
    if (this.ackEarly) this.ackIndex(last, out);
  }

  /** A frame that breaks the stream after others were taken: those still go to the disk (the log holds them), as they did one frame at a time. */
  private storeThenBreak(batch: WireRecord[], why: string, out: Effect[]): void {
    this.store(batch, out);
    this.broken(why);
  }

  private checkCaughtUp(): void {
    if (this.catchUpTo !== undefined && this.log.durable >= this.catchUpTo && this.log.lastEpoch === this.epoch) this.catchUpTo = undefined;
  }

  private ackIndex(index: number, out: Effect[]): void {
    this.acked = Math.max(this.acked, index);
    this.checkCaughtUp();
    out.push({ kind: 'send', to: this.primarySid, m: { t: 'ack', index } });
  }

  /** Whether the frame is from the primary we follow; if so it counts as hearing from it. */
  private heard(epoch: number, now: number): boolean {
    if (epoch !== this.epoch) {
      this.broken(`the primary's frames carry epoch ${epoch}, we follow epoch ${this.epoch}`);
      return false;
    }
    this.lastHeard = now;
    return true;
  }

  private broken(why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.broke = why;
  }
}
