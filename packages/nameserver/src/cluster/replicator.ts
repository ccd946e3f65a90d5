// The primary's side of the star: one stream per backup, the commit index they allow, and the
// writes waiting for it. A backup that stops acknowledging is dropped rather than stalling writes.
import { DpnsError } from '@dpns/protocol';
import type { Logger } from '../log.js';
import type { LogRecord } from '../registry/ops.js';
import type { LogTail } from './log-tail.js';
import type { PeerLink } from './peer-link.js';
import type { Ack, LogPosition, WireRecord } from './peer-messages.js';
import type { ReplicationMode } from './cluster-config.js';
import { leaseUntil } from './read-lease.js';

/** Records per append frame when catching a backup up. */
const CATCH_UP_BATCH = 2000;
/** Characters of snapshot JSON per frame. */
const SNAPSHOT_CHUNK = 1024 * 1024;
/**
 * Lease rounds whose send time is remembered. An echo of an older round is older than any
 * failure window (one round per heartbeat, and --cluster-misses is far below this), so it
 * earns nothing and is ignored.
 */
const LEASE_ROUNDS_KEPT = 64;

interface FollowerState {
  sid: number;
  link: PeerLink;
  /** Highest index the backup has on disk. */
  matchIndex: number;
  /** Highest index sent to it. */
  sentIndex: number;
  /** Once caught up to the head it joined at, sync writes wait for it. */
  inStar: boolean;
  joinIndex: number;
  /** Since when an ack has been outstanding. */
  waitingSince: number | undefined;
  /** A snapshot for it is being serialised: live records wait, and go after the snapshot. */
  snapshotting: boolean;
  /** Send time of the newest lease round it echoed (-Infinity: none yet on this link). */
  leaseFrom: number;
}

interface Waiter {
  index: number;
  resolve: () => void;
  reject: (e: Error) => void;
  deadline: number;
}

export interface ReplicatorDeps {
  mode: ReplicationMode;
  quorum: number;
  epoch: number;
  tail: LogTail;
  /** The whole state as of the call, as JSON, with its index (what a backup too far behind gets). */
  snapshotJson: () => Promise<{ index: number; json: string }>;
  /** A backup that has not acknowledged for this long is dropped from the star. */
  ackTimeoutMs: number;
  /** The failure window, which a read lease is cut from (read-lease.ts). */
  windowMs: number;
  /** The read lease was renewed (its new end is later than before). */
  onLease: () => void;
  log: Logger;
  now: () => number;
  onDropped: (sid: number, why: string) => void;
}

export class Replicator {
  private readonly followers = new Map<number, FollowerState>();
  private waiters: Waiter[] = [];
  /** Highest index on this server's own disk. */
  private localDurable = 0;
  private commitIndex = 0;
  private pending: WireRecord[] = [];
  private flushScheduled = false;
  private closed = false;
  /** The last lease round sent, and when each recent one was (ring, by round modulo its size). */
  private leaseRound = 0;
  private readonly roundSentAt: number[] = [];
  /** Cached end of the read lease: recomputed when a backup echoes a round or leaves, read per request. */
  private leaseEnd: number;

  constructor(private readonly d: ReplicatorDeps) {
    this.localDurable = d.tail.lastIndex;
    this.commitIndex = d.tail.lastIndex;
    this.leaseEnd = leaseUntil([], d.quorum, d.windowMs);
  }

  /** Until when (monotonic ms) this primary may answer reads itself; O(1). */
  get leaseUntil(): number {
    return this.closed ? Number.NEGATIVE_INFINITY : this.leaseEnd;
  }

  /** Sends a lease round to every backup now (not waiting for the heartbeat), so their echoes renew the lease. */
  renewLease(): void {
    if (this.closed) return;
    const seq = this.nextRound();
    for (const f of this.followers.values()) f.link.send({ t: 'tick', epoch: this.d.epoch, lastIndex: f.sentIndex, seq });
  }

  private nextRound(): number {
    this.leaseRound++;
    this.roundSentAt[this.leaseRound % LEASE_ROUNDS_KEPT] = this.d.now();
    return this.leaseRound;
  }

  private sentAtOf(seq: number): number | undefined {
    if (!Number.isSafeInteger(seq) || seq <= 0 || seq > this.leaseRound || seq <= this.leaseRound - LEASE_ROUNDS_KEPT) return undefined;
    return this.roundSentAt[seq % LEASE_ROUNDS_KEPT];
  }

  private recomputeLease(): void {
    const before = this.leaseEnd;
    this.leaseEnd = leaseUntil([...this.followers.values()].flatMap((f) => (f.leaseFrom === Number.NEGATIVE_INFINITY ? [] : [f.leaseFrom])), this.d.quorum, this.d.windowMs);
    if (this.leaseEnd > before) this.d.onLease();
  }

  get committed(): number {
    return this.commitIndex;
  }

  /** Replication state of each backup, for `servers` and /metrics. */
  status(): Map<number, { matchIndex: number; inStar: boolean }> {
    return new Map([...this.followers].map(([sid, f]) => [sid, { matchIndex: f.matchIndex, inStar: f.inStar }]));
  }

  /** A backup asked for the log after `pos` on its link to us. */
  follow(sid: number, link: PeerLink, pos: LogPosition): void {
    if (this.closed) return;
    this.followers.get(sid)?.link.close('the backup followed again on a new link');
    const tail = this.d.tail;
    const f: FollowerState = {
      sid, link, matchIndex: 0, sentIndex: 0, inStar: false, joinIndex: tail.lastIndex, waitingSince: this.d.now(), snapshotting: false, leaseFrom: Number.NEGATIVE_INFINITY,
    };
    this.followers.set(sid, f);
    // An earlier link's echoes no longer count: that backup may have stopped following us meanwhile.
    this.recomputeLease();
    const matches = pos.lastIndex <= tail.lastIndex && tail.epochAt(pos.lastIndex) === pos.lastEpoch;
    const backlog = matches ? tail.after(pos.lastIndex, Number.MAX_SAFE_INTEGER) : undefined;
    if (backlog !== undefined) {
      f.matchIndex = pos.lastIndex;
      for (let k = 0; k < backlog.length; k += CATCH_UP_BATCH) {
        link.send({ t: 'append', epoch: this.d.epoch, recs: backlog.slice(k, k + CATCH_UP_BATCH) });
      }
      f.sentIndex = tail.lastIndex;
      this.caughtUpTo(f);
      this.d.log.info('backup catching up from the log', { sid, from: pos.lastIndex, records: backlog.length });
      if (f.matchIndex >= f.sentIndex) this.join(f);
    } else {
      f.snapshotting = true;
      this.d.snapshotJson().then(({ index, json }) => this.sendSnapshot(f, pos, index, json), (err: unknown) => {
        this.d.log.error('could not serialise a snapshot for a backup', { sid, err });
        f.link.close('no snapshot could be made');
      });
    }
  }

  /**
   * Tells a backup, right after its catch-up, how far the stream now goes: it serves reads only
   * once it has applied that far (follower.ts), and need not wait for the next heartbeat to learn
   * it. No lease round: nothing waits for its echo.
   */
  private caughtUpTo(f: FollowerState): void {
    f.link.send({ t: 'tick', epoch: this.d.epoch, lastIndex: f.sentIndex });
  }

  private sendSnapshot(f: FollowerState, pos: LogPosition, index: number, json: string): void {
    if (this.closed || this.followers.get(f.sid) !== f) return;
    for (let k = 0; k < json.length || k === 0; k += SNAPSHOT_CHUNK) {
      f.link.send({ t: 'snap', epoch: this.d.epoch, index, data: json.slice(k, k + SNAPSHOT_CHUNK), last: k + SNAPSHOT_CHUNK >= json.length });
    }
    // Records appended while it was being serialised follow it.
    const after = this.d.tail.after(index, Number.MAX_SAFE_INTEGER);
    if (after === undefined) return f.link.close('the log moved on while a snapshot was made; follow again');
    for (let k = 0; k < after.length; k += CATCH_UP_BATCH) f.link.send({ t: 'append', epoch: this.d.epoch, recs: after.slice(k, k + CATCH_UP_BATCH) });
    f.sentIndex = this.d.tail.lastIndex;
    this.caughtUpTo(f);
    f.snapshotting = false;
    f.waitingSince = this.d.now();
    this.d.log.info('backup catching up from a snapshot', { sid: f.sid, backupAt: pos, snapshotIndex: index, bytes: json.length, after: after.length });
  }

  /** A record was appended locally (not yet durable): stream it to the backups. */
  push(index: number, rec: LogRecord): void {
    if (this.closed || this.followers.size === 0) return;
    this.pending.push({ i: index, d: rec });
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Every record appended in this turn of the event loop goes in one frame.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const recs = this.pending;
    this.pending = [];
    if (recs.length === 0 || this.closed) return;
    const last = (recs.at(-1) as WireRecord).i;
    const frame = { t: 'append', epoch: this.d.epoch, recs };
    for (const f of this.followers.values()) {
      if (f.snapshotting || f.sentIndex >= last) continue;
      // A backup that caught up in this turn already has the start of the batch: only the rest.
      const send = f.sentIndex < (recs[0] as WireRecord).i ? recs : recs.filter((r) => r.i > f.sentIndex);
      f.link.send(send === recs ? frame : { ...frame, recs: send });
      if (f.matchIndex >= f.sentIndex) f.waitingSince = this.d.now();
      f.sentIndex = last;
    }
  }

  ack(sid: number, msg: Ack): void {
    const f = this.followers.get(sid);
    if (f === undefined) return;
    if (msg.seq !== undefined) {
      const sentAt = this.sentAtOf(msg.seq);
      if (sentAt !== undefined && sentAt > f.leaseFrom) {
        f.leaseFrom = sentAt;
        this.recomputeLease();
      }
    }
    if (!Number.isSafeInteger(msg.index) || msg.index <= f.matchIndex) return;
    f.matchIndex = Math.min(msg.index, f.sentIndex);
    f.waitingSince = f.matchIndex >= f.sentIndex ? undefined : this.d.now();
    if (!f.inStar && f.matchIndex >= f.joinIndex) this.join(f);
    this.advance();
  }

  private join(f: FollowerState): void {
    f.inStar = true;
    this.d.log.info('backup joined the star', { sid: f.sid, index: f.matchIndex });
  }

  /** The primary's own disk has everything up to `index`. */
  localDurableAt(index: number): void {
    if (index > this.localDurable) this.localDurable = index;
    this.advance();
  }

  /** Resolves once `index` is committed: stored by a majority, and in sync mode by every backup in the star. */
  waitCommitted(index: number): Promise<void> {
    if (index <= this.commitIndex) return Promise.resolve();
    if (this.closed) return Promise.reject(notPrimary());
    return new Promise((resolve, reject) => {
      this.waiters.push({ index, resolve, reject, deadline: this.d.now() + this.d.ackTimeoutMs * 2 });
    });
  }

  private advance(): void {
    let next: number;
    if (this.d.mode === 'async') next = this.localDurable;
    else {
      const stored = [this.localDurable, ...[...this.followers.values()].map((f) => f.matchIndex)].sort((a, b) => b - a);
      next = stored[this.d.quorum - 1] ?? 0;
      next = Math.min(next, this.localDurable);
      for (const f of this.followers.values()) if (f.inStar) next = Math.min(next, f.matchIndex);
    }
    if (next <= this.commitIndex) return;
    this.commitIndex = next;
    let n = 0;
    while (n < this.waiters.length && (this.waiters[n] as Waiter).index <= next) n++;
    if (n > 0) for (const w of this.waiters.splice(0, n)) w.resolve();
  }

  /** Each heartbeat: tick idle backups, drop those that stopped acknowledging, expire writes that cannot commit. */
  tick(): void {
    const now = this.d.now();
    const seq = this.nextRound();
    for (const f of this.followers.values()) {
      // Only a backup in the star holds writes up; one still catching up (a large snapshot takes a while to install) may take its time.
      if (f.inStar && f.waitingSince !== undefined && f.matchIndex < f.sentIndex && now - f.waitingSince > this.d.ackTimeoutMs) {
        this.drop(f, `no acknowledgement for ${now - f.waitingSince} ms (limit ${this.d.ackTimeoutMs} ms)`);
        continue;
      }
      f.link.send({ t: 'tick', epoch: this.d.epoch, lastIndex: f.sentIndex, seq });
    }
    this.advance();
    while (this.waiters.length > 0 && (this.waiters[0] as Waiter).deadline <= now) {
      (this.waiters.shift() as Waiter).reject(new DpnsError('NO_QUORUM', 'the write was not stored on a majority of the cluster in time; retry it with the same requestId', {}));
    }
  }

  private drop(f: FollowerState, why: string): void {
    this.followers.delete(f.sid);
    this.recomputeLease();
    f.link.close(`dropped from the star: ${why}`);
    this.d.log.warn('backup dropped from the star; it rejoins by catching up', { sid: f.sid, why, matchIndex: f.matchIndex, sentIndex: f.sentIndex });
    this.d.onDropped(f.sid, why);
    this.advance();
  }

  /** The link a backup followed on closed. */
  unlink(sid: number, link: PeerLink): void {
    this.gone(sid, link, 'its link closed');
  }

  private gone(sid: number, link: PeerLink, why: string): void {
    const f = this.followers.get(sid);
    if (f?.link !== link) return;
    this.followers.delete(sid);
    this.recomputeLease();
    this.d.log.info('backup left the star', { sid, why });
    this.advance();
  }

  /** No longer primary: every waiting write fails (its outcome is unknown; a retry with its requestId is safe). */
  close(why: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.followers.values()) f.link.close(why);
    this.followers.clear();
    for (const w of this.waiters.splice(0)) w.reject(notPrimary());
  }
}

function notPrimary(): DpnsError {
  return new DpnsError('NOT_PRIMARY', 'this server stopped being the primary before the write was committed; retry it with the same requestId', { details: { role: 'candidate' } });
}
