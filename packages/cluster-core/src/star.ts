// The primary's side of the star (once the server's replicator.ts): one stream per backup,
// the commit index they allow, the writes waiting for it, and the read lease their echoes earn.
// A backup that stops acknowledging is dropped rather than stalling writes.
import type { Effect } from './effects.js';
import type { CoreLog } from './log.js';
import type { Ack, LogPosition, Tick, WireRecord } from './messages.js';
import type { ReplicationMode } from './config.js';
import { leaseUntil } from './read-lease.js';

/** Records per append frame when catching a backup up. */
const CATCH_UP_BATCH = 2000;
/** Lease rounds whose send time is remembered; an echo of an older one is older than any window. */
const LEASE_ROUNDS_KEPT = 64;

interface Stream {
  sid: number;
  /** Highest index the backup has on disk. */
  matchIndex: number;
  /** Highest index sent to it. */
  sentIndex: number;
  /** Once caught up to the head it joined at, sync writes wait for it. */
  inStar: boolean;
  joinIndex: number;
  /** Since when an ack has been outstanding. */
  waitingSince: number | undefined;
  /** A snapshot for it is being made: live records wait, and go after it. */
  snapshotting: boolean;
  /** The index of the snapshot last sent to it (until it acknowledges it). */
  snapshotSent?: number | undefined;
  /** Send time of the newest lease round it echoed (-Infinity: none yet). */
  leaseFrom: number;
}

/** Who votes now (the configuration in effect may change under a star), and how many of them make a majority. */
export interface Electorate {
  readonly voters: ReadonlySet<number>;
  readonly majority: number;
}

export interface StarSettings {
  mode: ReplicationMode;
  /** The primary's SID: its own disk counts towards a majority only while it votes. */
  self: number;
  electorate: () => Electorate;
  epoch: number;
  windowMs: number;
  /** Planted bug 'commit-on-minority': the commit index is the primary's own disk alone. */
  commitOnMinority: boolean;
}

export class Star {
  private readonly streams = new Map<number, Stream>();
  /** Highest index on the primary's own disk. */
  private localDurable: number;
  commitIndex: number;
  private leaseRound = 0;
  private readonly roundSentAt: number[] = [];
  /** What the primary knows to be committed, told to backups in ticks (undefined until its epoch's first record commits). */
  knownCommit: number | undefined;
  /** End of the read lease, recomputed when a backup echoes a round or leaves. */
  leaseEnd: number;

  constructor(private readonly s: StarSettings, private readonly log: CoreLog) {
    // What this member holds counts as committed at once; reads and
    // retried writes are held until the epoch's first record commits, which commits them all.
    this.localDurable = log.lastIndex;
    this.commitIndex = log.lastIndex;
    this.leaseEnd = Number.NEGATIVE_INFINITY;
    this.recomputeLease();
  }

  get size(): number {
    return this.streams.size;
  }

  /** Each backup's highest index on disk, for invariants and status. */
  matchIndexes(): Map<number, number> {
    return new Map([...this.streams].map(([sid, f]) => [sid, f.matchIndex]));
  }

  /** Whether backup `sid` follows and has caught up with the log as it was when it began (a learner ready to vote). */
  caughtUp(sid: number): boolean {
    const f = this.streams.get(sid);
    return f !== undefined && f.inStar && !f.snapshotting;
  }

  /** How far backup `sid` has got: its acknowledged index, and whether a snapshot for it is being made or is on its way. */
  progress(sid: number): { match: number; snapshot: boolean } | undefined {
    const f = this.streams.get(sid);
    if (f === undefined) return undefined;
    if (f.snapshotSent !== undefined && f.matchIndex >= f.snapshotSent) f.snapshotSent = undefined;
    return { match: f.matchIndex, snapshot: f.snapshotting || f.snapshotSent !== undefined };
  }

  /** The configuration changed: the lease and the commit index are recounted; true when the commit index moved. */
  electorateChanged(): boolean {
    this.recomputeLease();
    return this.advance();
  }

  /** A backup asked for the log after `pos`. */
  follow(sid: number, pos: LogPosition, now: number, out: Effect[]): void {
    const f: Stream = { sid, matchIndex: 0, sentIndex: 0, inStar: false, joinIndex: this.log.lastIndex, waitingSince: now, snapshotting: false, leaseFrom: Number.NEGATIVE_INFINITY };
    this.streams.set(sid, f);
    // An earlier link's echoes no longer count: that backup may have stopped following us meanwhile.
    this.recomputeLease();
    const matches = pos.lastIndex <= this.log.lastIndex && this.log.epochAt(pos.lastIndex) === pos.lastEpoch;
    const backlog = matches ? this.log.after(pos.lastIndex) : undefined;
    if (backlog !== undefined) {
      f.matchIndex = pos.lastIndex;
      for (let k = 0; k < backlog.length; k += CATCH_UP_BATCH) out.push({ kind: 'send', to: sid, m: { t: 'append', epoch: this.s.epoch, recs: backlog.slice(k, k + CATCH_UP_BATCH) } });
      f.sentIndex = this.log.lastIndex;
      if (f.matchIndex >= f.sentIndex) f.inStar = true;
    } else {
      f.snapshotting = true;
      out.push({ kind: 'make-snapshot', peer: sid });
    }
  }

  /** The snapshot for backup `sid` was made: send it, then what was appended meanwhile. */
  snapshotMade(sid: number, index: number, data: string, now: number, out: Effect[]): void {
    const f = this.streams.get(sid);
    if (f === undefined || !f.snapshotting) return;
    out.push({ kind: 'send', to: sid, m: { t: 'snap', epoch: this.s.epoch, index, data, last: true, voters: [...this.log.configAt(index).voters] } });
    const after = this.log.after(index);
    if (after === undefined) {
      this.streams.delete(sid);
      this.recomputeLease();
      out.push({ kind: 'close-link', peer: sid, why: 'the log moved on while a snapshot was made; follow again' });
      return;
    }
    for (let k = 0; k < after.length; k += CATCH_UP_BATCH) out.push({ kind: 'send', to: sid, m: { t: 'append', epoch: this.s.epoch, recs: after.slice(k, k + CATCH_UP_BATCH) } });
    f.sentIndex = this.log.lastIndex;
    f.snapshotting = false;
    f.snapshotSent = index;
    f.waitingSince = now;
  }

  /** A record was appended here (not yet durable): stream it to every backup not catching up from a snapshot. */
  push(rec: WireRecord, now: number, out: Effect[]): void {
    for (const f of this.streams.values()) {
      if (f.snapshotting || f.sentIndex >= rec.i) continue;
      out.push({ kind: 'send', to: f.sid, m: { t: 'append', epoch: this.s.epoch, recs: [rec] } });
      if (f.matchIndex >= f.sentIndex) f.waitingSince = now;
      f.sentIndex = rec.i;
    }
  }

  /** A backup acknowledged; true when the commit index moved. */
  ack(sid: number, msg: Ack, now: number): { commitMoved: boolean; leaseMoved: boolean } {
    const f = this.streams.get(sid);
    if (f === undefined) return { commitMoved: false, leaseMoved: false };
    let leaseMoved = false;
    if (msg.seq !== undefined) {
      const sentAt = this.sentAtOf(msg.seq);
      if (sentAt !== undefined && sentAt > f.leaseFrom) {
        f.leaseFrom = sentAt;
        leaseMoved = this.recomputeLease();
      }
    }
    if (!Number.isSafeInteger(msg.index) || msg.index <= f.matchIndex) return { commitMoved: false, leaseMoved };
    f.matchIndex = Math.min(msg.index, f.sentIndex);
    f.waitingSince = f.matchIndex >= f.sentIndex ? undefined : now;
    if (!f.inStar && f.matchIndex >= f.joinIndex) f.inStar = true;
    return { commitMoved: this.advance(), leaseMoved };
  }

  /** The primary's own disk has everything up to `index`; true when the commit index moved. */
  localDurableAt(index: number): boolean {
    if (index > this.localDurable) this.localDurable = index;
    return this.advance();
  }

  /** Sends every backup a lease round now, so their echoes renew the lease. */
  renewLease(now: number, out: Effect[]): void {
    const seq = this.nextRound(now);
    for (const f of this.streams.values()) out.push({ kind: 'send', to: f.sid, m: this.tickFor(f, seq) });
  }

  /** Each heartbeat: a lease round to every backup, and those that stopped acknowledging dropped. Returns the dropped SIDs. */
  tick(now: number, ackTimeoutMs: number, out: Effect[]): number[] {
    const seq = this.nextRound(now);
    const dropped: number[] = [];
    for (const f of this.streams.values()) {
      if (f.inStar && f.waitingSince !== undefined && f.matchIndex < f.sentIndex && now - f.waitingSince > ackTimeoutMs) {
        dropped.push(f.sid);
        continue;
      }
      out.push({ kind: 'send', to: f.sid, m: this.tickFor(f, seq) });
    }
    for (const sid of dropped) {
      this.streams.delete(sid);
      out.push({ kind: 'close-link', peer: sid, why: 'dropped from the star: no acknowledgement in time' });
    }
    if (dropped.length > 0) this.recomputeLease();
    this.advance();
    return dropped;
  }

  /** The link backup `sid` followed on closed. */
  gone(sid: number): void {
    if (!this.streams.delete(sid)) return;
    this.recomputeLease();
    this.advance();
  }

  private tickFor(f: Stream, seq: number): Tick {
    return { t: 'tick', epoch: this.s.epoch, lastIndex: f.sentIndex, seq, ...(this.knownCommit === undefined ? {} : { commit: Math.min(this.knownCommit, f.sentIndex) }) };
  }

  private nextRound(now: number): number {
    this.leaseRound++;
    this.roundSentAt[this.leaseRound % LEASE_ROUNDS_KEPT] = now;
    return this.leaseRound;
  }

  private sentAtOf(seq: number): number | undefined {
    if (!Number.isSafeInteger(seq) || seq <= 0 || seq > this.leaseRound || seq <= this.leaseRound - LEASE_ROUNDS_KEPT) return undefined;
    return this.roundSentAt[seq % LEASE_ROUNDS_KEPT];
  }

  private recomputeLease(): boolean {
    const before = this.leaseEnd;
    const { voters, majority } = this.s.electorate();
    const from: number[] = [];
    for (const f of this.streams.values()) if (f.leaseFrom !== Number.NEGATIVE_INFINITY && voters.has(f.sid)) from.push(f.leaseFrom);
    // Only voters' echoes count; a primary no longer voting (removing itself) needs one more of them.
    this.leaseEnd = leaseUntil(from, voters.has(this.s.self) ? majority : majority + 1, this.s.windowMs);
    return this.leaseEnd > before;
  }

  private advance(): boolean {
    let next: number;
    if (this.s.mode === 'async' || this.s.commitOnMinority) next = this.localDurable;
    else {
      // Counted in the configuration in effect (the newest appended): learners and removed members
      // are streamed to but neither count nor hold writes back.
      const { voters, majority } = this.s.electorate();
      const stored = voters.has(this.s.self) ? [this.localDurable] : [];
      for (const f of this.streams.values()) if (voters.has(f.sid)) stored.push(f.matchIndex);
      stored.sort((a, b) => b - a);
      next = Math.min(stored[majority - 1] ?? 0, this.localDurable);
      for (const f of this.streams.values()) if (f.inStar && voters.has(f.sid)) next = Math.min(next, f.matchIndex);
    }
    if (next <= this.commitIndex) return false;
    this.commitIndex = next;
    return true;
  }
}
