// A backup's side of the star: asks its primary for the log after its own, stores what comes
// (on its own disk, before acknowledging), and installs a snapshot when the log cannot bring it
// up to date or its own log went a different way (records a deposed primary never committed).
import type { Logger } from '../log.js';
import type { PeerLink } from './peer-link.js';
import type { Append, LogPosition, SnapshotChunk, WireRecord } from './peer-messages.js';

/** What the server does with replicated data. */
export interface ReplicaSink {
  /** Where the local log ends now (appended, perhaps not yet on disk). */
  position(): LogPosition;
  /** The last index on disk and applied: what reads here see. */
  applied(): number;
  /** Appends contiguous records to the local log; resolves once they are on disk and applied. */
  append(recs: WireRecord[]): Promise<void>;
  /** Replaces the whole local state with a snapshot (JSON of the registry) at `index`. */
  install(index: number, json: string): Promise<void>;
}

export class Follower {
  /** Last time anything came from the primary. */
  lastHeard: number;
  /** The primary's last index as it last said. */
  primaryIndex = 0;
  /** The highest index acknowledged to the primary: what a lease echo repeats, so it claims nothing new. */
  private acked = 0;
  /**
   * How far this server must have applied before it answers reads: the primary's last index as
   * the first tick on this link gave it (undefined until then). Until it gets there it holds only
   * what it had when it began following, which after a restart, or after it was dropped from the
   * star, may lack writes the primary acknowledged long ago.
   */
  private readsFrom: number | undefined;
  private chunks: string[] = [];
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly primarySid: number,
    readonly epoch: number,
    private readonly link: PeerLink,
    private readonly sink: ReplicaSink,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly onBroken: (why: string) => void,
  ) {
    this.lastHeard = now();
    link.send({ t: 'follow', epoch, ...sink.position() });
  }

  /**
   * Whether this server has caught up with its primary since it began following it: applied at
   * least what the primary had sent it when its first tick came. Only then may it serve reads
   * (PROTOCOL.md §19.3). Once true it stays true on this link: from then on it lags only by the
   * writes in flight, since its next acknowledgement puts it in the star, where every write the
   * primary acknowledges waits for it (a backup too slow for that is dropped: its link closes).
   */
  get caughtUp(): boolean {
    return this.readsFrom !== undefined && this.sink.applied() >= this.readsFrom;
  }

  /** Everything stored so far, durable and applied (awaited before this server takes over). */
  drained(): Promise<void> {
    return this.queue;
  }

  stop(): void {
    this.stopped = true;
  }

  onAppend(msg: Append): void {
    this.heard(msg.epoch);
    if (this.stopped || !Array.isArray(msg.recs) || msg.recs.length === 0) return;
    this.primaryIndex = Math.max(this.primaryIndex, (msg.recs.at(-1) as WireRecord).i);
    this.queue = this.queue.then(async () => {
      if (this.stopped) return;
      const { lastIndex } = this.sink.position();
      const recs = msg.recs.filter((r) => r.i > lastIndex);
      if (recs.length === 0) return;
      if ((recs[0] as WireRecord).i !== lastIndex + 1) return this.broken(`the primary sent record ${(recs[0] as WireRecord).i} after our ${lastIndex}`);
      await this.sink.append(recs);
      this.ackIndex((recs.at(-1) as WireRecord).i);
    }).catch((err: unknown) => this.broken(`storing replicated records failed: ${String(err)}`));
  }

  onSnapshot(msg: SnapshotChunk): void {
    this.heard(msg.epoch);
    if (this.stopped) return;
    this.chunks.push(typeof msg.data === 'string' ? msg.data : '');
    if (!msg.last) return;
    const json = this.chunks.join('');
    this.chunks = [];
    this.primaryIndex = Math.max(this.primaryIndex, msg.index);
    this.queue = this.queue.then(async () => {
      if (this.stopped) return;
      const started = this.now();
      await this.sink.install(msg.index, json);
      this.log.info('installed a snapshot from the primary', { index: msg.index, bytes: json.length, ms: this.now() - started });
      this.ackIndex(msg.index);
    }).catch((err: unknown) => this.broken(`installing the primary's snapshot failed: ${String(err)}`));
  }

  onTick(epoch: number, lastIndex: number, seq: number | undefined): void {
    if (!this.heard(epoch)) return;
    if (Number.isSafeInteger(lastIndex)) this.primaryIndex = Math.max(this.primaryIndex, lastIndex);
    // A tick's index is what the primary has sent on this link; 0 while it is still making a
    // snapshot for us (a primary's log always holds at least its epoch's first record).
    if (this.readsFrom === undefined && Number.isSafeInteger(lastIndex) && lastIndex > 0) this.readsFrom = lastIndex;
    // Echoed at once, not behind the disk queue: it vouches only that we heard the primary after
    // it sent round `seq` (lastHeard was just set), which is what the primary's read lease needs.
    if (seq !== undefined && Number.isSafeInteger(seq) && !this.stopped) this.link.send({ t: 'ack', index: this.acked, seq });
  }

  private ackIndex(index: number): void {
    this.acked = Math.max(this.acked, index);
    this.link.send({ t: 'ack', index });
  }

  /** Whether the frame is from the primary we follow; if so it counts as hearing from it. */
  private heard(epoch: number): boolean {
    if (epoch !== this.epoch) {
      this.broken(`the primary's frames carry epoch ${epoch}, we follow epoch ${this.epoch}`);
      return false;
    }
    this.lastHeard = this.now();
    return true;
  }

  private broken(why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.log.warn('replication from the primary broke off; following again', { primary: this.primarySid, why });
    this.onBroken(why);
  }
}
