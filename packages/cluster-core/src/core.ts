// One cluster member's rules as a state machine: `step(event, now)` returns the effects to carry
// out, and nothing else happens. No clock (time comes in with each event), no timers (a `wake`
// effect asks to be stepped again), no sockets or disk (effects, answered by events), and its
// randomness from a seed. The same rules as the server's cluster/ (cluster-node.ts, candidacy.ts,
// replicator.ts, follower.ts), with the orderings their promise chains imply made explicit:
//
// - election-state changes and vote answers run one at a time (`jobs`): a vote is answered only
//   once it is persisted, and a job waits while a persist is on its way to disk;
// - a backup stores one frame at a time and acknowledges it once the disk has it;
// - a member that won an election takes over only once its disk has what it was storing;
// - a new primary holds reads (and retried writes) until its epoch's first record commits.
//
// Safety rests on three rules (cluster-node.ts says why): one vote per epoch, persisted first and
// only for a log at least as new; a primary that hears no majority takes no writes; a prevote
// first. Reads also need the primary's read lease (read-lease.ts). Where the simulator found the
// server's rules wanting, the core differs, each place marked (docs/CLUSTER.md, "What the
// simulator found").
import { Candidacy } from './candidacy.js';
import { failureWindowMs, quorumOf, type CoreConfig } from './config.js';
import type { Answer, Effect, RefusalCode } from './effects.js';
import type { CoreEvent } from './events.js';
import { CoreLog } from './log.js';
import type { Beat, PeerMessage, RecordData, Role, VoteRequest, WireRecord } from './messages.js';
import { Prng } from './prng.js';
import { holdsLease } from './read-lease.js';
import { Star } from './star.js';
import { BackupStream } from './backup-stream.js';
import { answer, PendingRequests } from './requests.js';
import { epochLearned, voteRefusal } from './vote-rules.js';

/** What a member reads from its disk when it starts. */
export interface CoreInit {
  readonly cfg: CoreConfig;
  readonly epoch: number;
  readonly votedFor: number | undefined;
  /** The log as on disk, after the snapshot it starts from (if any). */
  readonly records: readonly WireRecord[];
  readonly baseIndex?: number;
  readonly baseEpoch?: number;
}

interface Peer {
  readonly sid: number;
  up: boolean;
  lastHeard: number;
  beat: Beat | undefined;
}

/** Work that reads or changes the election state, one at a time. */
type Job = { k: 'vote'; from: number; req: VoteRequest } | { k: 'beat'; from: number; beat: Beat } | { k: 'self-vote'; epoch: number };

/** A disk operation under way, in the order the driver completes them. */
interface DiskOp {
  kind: 'store' | 'install';
  index: number;
  stream: BackupStream | undefined;
}

export class ClusterCore {
  role: Role = 'candidate';
  primarySid: number | undefined;
  /** The persisted epoch and vote. */
  epoch: number;
  votedFor: number | undefined;
  readonly quorum: number;
  readonly windowMs: number;
  readonly log: CoreLog;
  private readonly cfg: CoreConfig;
  private readonly peers: Peer[] = [];
  private readonly rng: Prng;
  private readonly candidacy: Candidacy;
  private star: Star | undefined;
  private stream: BackupStream | undefined;
  private followSince = 0;
  private lostPrimary: number | undefined;
  /** Until when this member refuses votes for a primary it let go of early, or may have heard before a restart. */
  private honourPrimaryUntil = Number.NEGATIVE_INFINITY;
  /** Until when it does not stand itself, for a primary it let go of early. */
  private standAfter = Number.NEGATIVE_INFINITY;
  private readonly jobs: Job[] = [];
  /** The persist on its way to disk, and what to do once it is there. */
  private persisting: { epoch: number; votedFor: number | undefined; then: (now: number, out: Effect[]) => void } | undefined;
  private readonly disk: DiskOp[] = [];
  /** An election won, waiting for the disk to have what this member was storing. */
  private winning: number | undefined;
  private readonly pending = new PendingRequests();
  private halted = false;
  private lastWake: number | undefined;

  constructor(init: CoreInit) {
    this.cfg = init.cfg;
    this.epoch = init.epoch;
    this.votedFor = init.votedFor;
    this.quorum = quorumOf(init.cfg);
    this.windowMs = failureWindowMs(init.cfg);
    this.log = new CoreLog(init.cfg.tailCapacity, init.records, init.baseIndex ?? 0, init.baseEpoch ?? 0);
    this.rng = new Prng(init.cfg.seed);
    for (let sid = 0; sid < init.cfg.members; sid++) if (sid !== init.cfg.self) this.peers.push({ sid, up: false, lastHeard: 0, beat: undefined });
    this.candidacy = new Candidacy({
      heartbeatMs: init.cfg.heartbeatMs,
      quorum: () => this.electionQuorum(),
      isCandidate: (now) => this.role === 'candidate' && !this.halted && now > this.standAfter,
      aheadOfUs: (now) => this.peers.filter((p) => p.sid < this.cfg.self && p.sid !== this.lostPrimary && this.fresh(p, now)).length,
      reachable: () => this.peers.flatMap((p) => (p.up ? [p.sid] : [])),
      position: () => this.log.position(),
      epoch: () => this.epoch,
      voteForSelf: (epoch, out) => this.enqueue({ k: 'self-vote', epoch }, 0, out),
      won: (epoch, now, out) => {
        this.winning = epoch;
        this.maybeTakeOver(now, out);
      },
    }, this.rng);
  }

  /** The primary's commit index (undefined elsewhere). */
  get commitIndex(): number | undefined {
    return this.star?.commitIndex;
  }

  /**
   * What this primary knows to be committed: its commit index once its epoch's first record is
   * committed (before that, records of earlier epochs in its log may not be); undefined elsewhere.
   */
  get knownCommitted(): number | undefined {
    return this.star !== undefined && this.pending.settled >= 0 ? this.star.commitIndex : undefined;
  }

  /** Each backup's acknowledged index, as this primary knows it. */
  matchIndexes(): Map<number, number> {
    return this.star?.matchIndexes() ?? new Map();
  }

  /** Carries `ev` at monotonic time `now`; returns what to do. */
  step(ev: CoreEvent, now: number): Effect[] {
    const out: Effect[] = [];
    if (this.halted) return out;
    this.handle(ev, now, out);
    if ((this.candidacy.deadline() ?? Infinity) <= now) this.candidacy.wake(now, out);
    const wake = Math.min(this.candidacy.deadline() ?? Infinity, this.pending.gateDeadline ?? Infinity);
    if (wake !== Infinity && wake !== this.lastWake) {
      this.lastWake = wake;
      out.push({ kind: 'wake', at: wake });
    }
    return out;
  }

  /** Why this member cannot take a write now, or undefined when it can. */
  writeRefusal(now: number): RefusalCode | undefined {
    if (this.role !== 'primary') return 'NOT_PRIMARY';
    return this.hasMajority(now) ? undefined : 'NO_QUORUM';
  }

  private handle(ev: CoreEvent, now: number, out: Effect[]): void {
    switch (ev.kind) {
      case 'start':
        // We may have echoed a primary's lease round just before we went down: honour it as if heard now.
        if (this.peers.length > 0) this.honourPrimaryUntil = now + this.windowMs;
        for (const p of this.peers) out.push({ kind: 'dial', peer: p.sid });
        this.candidacy.schedule(this.peers.length === 0 ? 0 : this.windowMs, now);
        return;
      case 'tick':
        return this.tick(now, out);
      case 'wake':
        if (now >= (this.pending.gateDeadline ?? Infinity)) this.settleGate(now, out);
        this.candidacy.wake(now, out);
        return;
      case 'message':
        return this.onMessage(ev.from, ev.m, now, out);
      case 'link-up': {
        const p = this.peer(ev.peer);
        if (p === undefined) return;
        p.up = true;
        p.lastHeard = now;
        this.sendBeat(p, out);
        if (this.role === 'backup' && this.primarySid === p.sid && this.stream === undefined) this.startFollowing(p, now, out);
        return;
      }
      case 'link-down': {
        const p = this.peer(ev.peer);
        if (p === undefined || !p.up) return;
        p.up = false;
        if (this.stream !== undefined && this.primarySid === p.sid) this.primaryLost(now, out);
        this.star?.gone(p.sid);
        if (this.star !== undefined) this.onCommit(out);
        return;
      }
      case 'persisted': {
        const done = this.persisting;
        if (done === undefined) return;
        this.persisting = undefined;
        this.epoch = done.epoch;
        this.votedFor = done.votedFor;
        done.then(now, out);
        return this.runJobs(now, out);
      }
      case 'durable':
        return this.durable(ev.index, now, out);
      case 'installed': {
        const op = this.disk[0];
        if (op?.kind !== 'install') return;
        this.disk.shift();
        this.log.reset(ev.index, ev.lastEpoch);
        op.stream?.diskDone(out);
        this.afterStream(op.stream, now, out);
        return this.maybeTakeOver(now, out);
      }
      case 'disk-failed':
        this.halted = true;
        out.push({ kind: 'halt', why: 'the disk failed a write' });
        return;
      case 'snapshot-made':
        this.star?.snapshotMade(ev.peer, ev.index, ev.data, now, out);
        return;
      case 'write':
        return this.write(ev.req, ev.data, now, out);
      case 'settle': {
        const refusal = this.writeRefusal(now);
        if (refusal !== undefined) return this.answer(ev.req, this.refused(refusal, 'none'), out);
        return this.pending.addReader(ev.req, this.log.lastIndex, out);
      }
      case 'read':
        if (this.role === 'primary' && this.star !== undefined && !holdsLease(this.star.leaseEnd, now) && this.cfg.plant !== 'read-without-lease') {
          if (this.pending.waitForLease(ev.req, now + this.cfg.heartbeatMs)) this.star.renewLease(now, out);
          return;
        }
        return this.admitRead(ev.req, now, out);
    }
  }

  // ---- clients ----

  private write(req: number, data: RecordData, now: number, out: Effect[]): void {
    const refusal = this.writeRefusal(now);
    if (refusal !== undefined || this.star === undefined) return this.answer(req, this.refused(refusal ?? 'NOT_PRIMARY', 'none'), out);
    const rec = this.log.add({ ...data, ep: this.epoch });
    this.store([rec], undefined, out);
    this.star.push(rec, now, out);
    this.pending.addWrite(req, rec.i, now + this.windowMs * 2);
  }

  private admitRead(req: number, now: number, out: Effect[]): void {
    const refusal = this.readRefusalNow(now);
    if (refusal !== undefined) return this.answer(req, this.refused(refusal, 'none'), out);
    if (this.role !== 'primary') return this.answer(req, { ok: true, index: this.log.durable }, out);
    this.pending.addReader(req, this.log.lastIndex, out);
  }

  private readRefusalNow(now: number): RefusalCode | undefined {
    if (this.role === 'primary') {
      if (this.cfg.plant === 'read-without-lease') return this.writeRefusal(now) === 'NOT_PRIMARY' ? 'NOT_PRIMARY' : undefined;
      return this.star !== undefined && holdsLease(this.star.leaseEnd, now) ? undefined : 'NOT_PRIMARY';
    }
    if (this.cfg.readFromBackups && this.role === 'backup' && this.stream !== undefined && this.stream.caughtUp && now - this.stream.lastHeard <= this.windowMs && !this.newerEpochHeard(this.stream.epoch, now)) return undefined;
    return this.writeRefusal(now);
  }

  /** The lease was renewed, the wait ran out, or the role changed: every waiting read gets its answer now. */
  private settleGate(now: number, out: Effect[]): void {
    for (const req of this.pending.takeLeaseWaiters()) this.admitRead(req, now, out);
  }

  private refused(code: RefusalCode, outcome: 'none' | 'unknown'): Answer {
    return { ok: false, code, outcome, ...(this.primarySid === undefined || this.primarySid === this.cfg.self ? {} : { primary: this.primarySid }) };
  }

  private answer(req: number, a: Answer, out: Effect[]): void {
    answer(req, a, out);
  }

  /** The commit index may have moved: answer the writes it covers, then the reads that waited for them. */
  private onCommit(out: Effect[]): void {
    if (this.star !== undefined) this.pending.committed(this.star.commitIndex, out);
  }

  // ---- the disk ----

  private store(recs: readonly WireRecord[], stream: BackupStream | undefined, out: Effect[]): void {
    out.push({ kind: 'store', recs });
    this.disk.push({ kind: 'store', index: (recs.at(-1) as WireRecord).i, stream });
  }

  private durable(index: number, now: number, out: Effect[]): void {
    if (index > this.log.durable) this.log.durable = Math.min(index, this.log.lastIndex);
    while (this.disk.length > 0 && (this.disk[0] as DiskOp).kind === 'store' && (this.disk[0] as DiskOp).index <= index) {
      const op = this.disk.shift() as DiskOp;
      op.stream?.diskDone(out);
      this.afterStream(op.stream, now, out);
    }
    if (this.star?.localDurableAt(this.log.durable) === true) this.onCommit(out);
    this.maybeTakeOver(now, out);
  }

  // ---- links and messages ----

  private peer(sid: number): Peer | undefined {
    return this.peers.find((p) => p.sid === sid);
  }

  private sendBeat(p: Peer, out: Effect[]): void {
    if (!p.up) return;
    out.push({ kind: 'send', to: p.sid, m: { t: 'beat', role: this.role, epoch: this.epoch, ...this.log.position(), ...(this.primarySid === undefined ? {} : { primary: this.primarySid }) } });
  }

  private onMessage(from: number, m: PeerMessage, now: number, out: Effect[]): void {
    const p = this.peer(from);
    if (p === undefined) return;
    p.lastHeard = now;
    const s = this.stream !== undefined && this.primarySid === from ? this.stream : undefined;
    switch (m.t) {
      case 'beat':
        p.beat = m;
        return this.considerBeat(p, m, now, out);
      case 'prevote':
      case 'vote':
        return this.enqueue({ k: 'vote', from, req: m }, now, out);
      case 'follow':
        if (m.epoch > this.epoch && this.role === 'primary') this.stepDown(now, out);
        if (this.role !== 'primary' || this.star === undefined || m.epoch !== this.epoch) {
          out.push({ kind: 'send', to: from, m: { t: 'refuse', epoch: this.epoch, reason: `SID ${this.cfg.self} is not the primary of epoch ${m.epoch}` } });
          return;
        }
        this.star.follow(from, m, now, out);
        // Reads waiting for a lease (a primary just elected): a round for this backup too, at once.
        if (this.pending.gateOpen) this.star.renewLease(now, out);
        return;
      case 'ack': {
        if (this.star === undefined) return;
        const moved = this.star.ack(from, m, now);
        if (moved.commitMoved) this.onCommit(out);
        if (moved.leaseMoved && this.pending.gateOpen && holdsLease(this.star.leaseEnd, now)) this.settleGate(now, out);
        return;
      }
      case 'prevote-ans':
      case 'vote-ans':
        return this.candidacy.onAnswer(from, m, now, out);
      case 'append':
      case 'snap':
        s?.onFrame(m, now, out);
        return this.afterStream(s, now, out);
      case 'tick':
        s?.onTick(m.epoch, m.lastIndex, m.seq, now, out);
        return this.afterStream(s, now, out);
      case 'refuse':
        if (s !== undefined) this.primaryLost(now, out);
        return;
    }
  }

  /** A stream that issued disk work or broke: note the work; let go of a broken stream's link. */
  private afterStream(s: BackupStream | undefined, now: number, out: Effect[]): void {
    if (s === undefined) return;
    const w = s.waiting;
    if (w !== undefined && !this.disk.some((d) => d.stream === s)) {
      if (w.kind === 'store') this.disk.push({ kind: 'store', index: w.last, stream: s });
      else this.disk.push({ kind: 'install', index: w.index, stream: s });
    }
    if (s.broke !== undefined && s === this.stream && this.primarySid !== undefined) {
      // The primary is alive and may hold a lease on our echoes: honour it for the rest of the window.
      this.honourPrimaryUntil = Math.max(this.honourPrimaryUntil, s.lastHeard + this.windowMs);
      this.standAfter = this.honourPrimaryUntil;
      const primary = this.primarySid;
      s.broke = undefined;
      out.push({ kind: 'close-link', peer: primary, why: 'replication broke' });
      this.linkDown(primary, now, out);
    }
  }

  private linkDown(sid: number, now: number, out: Effect[]): void {
    this.handle({ kind: 'link-down', peer: sid }, now, out);
  }

  // ---- election state: one change at a time, persisted before it counts ----

  private enqueue(job: Job, now: number, out: Effect[]): void {
    this.jobs.push(job);
    this.runJobs(now, out);
  }

  private persist(epoch: number, votedFor: number | undefined, then: (now: number, out: Effect[]) => void, out: Effect[]): void {
    this.persisting = { epoch, votedFor, then };
    out.push({ kind: 'persist', epoch, votedFor });
  }

  private runJobs(now: number, out: Effect[]): void {
    while (this.persisting === undefined && this.jobs.length > 0 && !this.halted) {
      const job = this.jobs.shift() as Job;
      switch (job.k) {
        case 'vote':
          this.answerVote(job.from, job.req, now, out);
          break;
        case 'beat':
          this.followBeat(job.from, job.beat, now, out);
          break;
        case 'self-vote':
          // Between the prevote and this, we may have moved past the epoch, or voted in it for
          // another candidate: a second vote in one epoch could elect two primaries (found by the
          // simulator: docs/CLUSTER.md, "What the simulator found").
          if (job.epoch < this.epoch || (job.epoch === this.epoch && this.votedFor !== undefined && this.votedFor !== this.cfg.self)) this.candidacy.selfVoteRefused(now);
          else this.persist(job.epoch, this.cfg.self, (t, o) => this.candidacy.selfVoted(job.epoch, t, o), out);
          break;
      }
    }
  }

  private answerVote(from: number, m: VoteRequest, now: number, out: Effect[]): void {
    const me = { log: this.log.position(), epoch: this.epoch, votedFor: this.votedFor, hearsPrimary: this.hearsPrimary(now), primarySid: this.primarySid };
    const refusal = voteRefusal(m, from, me, this.cfg.plant === 'vote-without-log-check');
    if (refusal?.rule === 'log') this.candidacy.standNow(now);
    const send = (o: Effect[]): void => {
      o.push({ kind: 'send', to: from, m: { t: m.t === 'vote' ? 'vote-ans' : 'prevote-ans', epoch: m.epoch, granted: refusal === undefined, ...(refusal === undefined ? {} : { reason: refusal.reason }) } });
    };
    if (refusal === undefined && m.t === 'vote') {
      this.persist(m.epoch, from, (t, o) => {
        if (this.role === 'primary') this.stepDown(t, o);
        // A backup that voted in a newer epoch takes no more records from its old primary: acking
        // one now could commit, with that primary, a write the new epoch's primary lacks (found by
        // the simulator: docs/CLUSTER.md, "What the simulator found").
        else if (this.stream !== undefined && this.stream.epoch < this.epoch) this.primaryLost(t, o);
        send(o);
      }, out);
      return;
    }
    const learned = refusal === undefined ? undefined : epochLearned(m, me);
    if (learned !== undefined) {
      this.persist(learned, undefined, (t, o) => {
        if (this.role === 'primary') this.stepDown(t, o);
        else if (this.stream !== undefined && this.stream.epoch < this.epoch) this.primaryLost(t, o);
        send(o);
      }, out);
      return;
    }
    send(out);
  }

  private considerBeat(p: Peer, b: Beat, now: number, out: Effect[]): void {
    // A member in a newer epoch has left this primary behind: it takes no more of our records, and
    // while it is still heard this primary would count it towards a majority and stay primary
    // forever, committing nothing and refusing the member's votes for its own longer, uncommitted
    // log (found by the simulator, docs/CLUSTER.md). Raft's leader steps down on any newer term.
    if (b.role !== 'primary') {
      if (this.role === 'primary' && b.epoch > this.epoch) this.stepDown(now, out);
      return;
    }
    if (b.epoch < this.epoch) return;
    if (this.role === 'primary') {
      if (b.epoch > this.epoch) this.stepDown(now, out);
      else return;
    }
    if (this.role === 'backup' && this.primarySid === p.sid && this.stream?.epoch === b.epoch) return;
    this.enqueue({ k: 'beat', from: p.sid, beat: b }, now, out);
  }

  private followBeat(from: number, b: Beat, now: number, out: Effect[]): void {
    if (this.role === 'primary') return;
    const then = (t: number, o: Effect[]): void => {
      if (this.role === 'primary' || b.epoch < this.epoch) return;
      if (this.role === 'backup' && this.primarySid === from && this.stream?.epoch === b.epoch) return;
      if (this.stream !== undefined) this.stream.stopped = true;
      this.stream = undefined;
      this.setRole('backup', from, o);
      this.followSince = t;
      this.candidacy.cancel();
      const p = this.peer(from) as Peer;
      if (p.up) this.startFollowing(p, t, o);
      else o.push({ kind: 'dial', peer: from });
    };
    if (b.epoch > this.epoch) this.persist(b.epoch, undefined, then, out);
    else then(now, out);
  }

  // ---- roles ----

  private setRole(role: Role, primary: number | undefined, out: Effect[]): void {
    this.role = role;
    this.primarySid = primary;
    out.push({ kind: 'role', role, epoch: this.epoch, primary, why: '' });
  }

  private startFollowing(p: Peer, now: number, out: Effect[]): void {
    this.stream = new BackupStream(p.sid, this.epoch, this.log, now, this.cfg.plant === 'ack-before-fsync', p.beat?.role === 'primary' ? p.beat.lastIndex : Number.POSITIVE_INFINITY, out);
  }

  private primaryLost(now: number, out: Effect[]): void {
    if (this.role !== 'backup') return;
    if (this.stream !== undefined) this.stream.stopped = true;
    this.stream = undefined;
    this.lostPrimary = this.primarySid;
    this.setRole('candidate', undefined, out);
    this.candidacy.restart(now);
  }

  private stepDown(now: number, out: Effect[]): void {
    if (this.role !== 'primary') return;
    const star = this.star;
    this.star = undefined;
    // Writes waiting for their commit: their outcome is unknown (a retry with the requestId is
    // safe). Reads waiting to be released: their connections are closed, they never hear back.
    this.pending.abandon(this.refused('NOT_PRIMARY', 'unknown'), out);
    if (star !== undefined) for (const sid of star.matchIndexes().keys()) out.push({ kind: 'close-link', peer: sid, why: 'stepped down' });
    this.lostPrimary = this.cfg.self;
    this.setRole('candidate', undefined, out);
    this.settleGate(now, out);
    this.candidacy.schedule(this.windowMs, now);
  }

  /** The election is won and the disk has what this member was storing: take over. */
  private maybeTakeOver(now: number, out: Effect[]): void {
    const epoch = this.winning;
    if (epoch === undefined || this.disk.some((d) => d.stream !== undefined)) return;
    this.winning = undefined;
    if (this.role !== 'candidate' || this.epoch !== epoch) return this.candidacy.finished(now);
    this.setRole('primary', this.cfg.self, out);
    this.star = new Star({ mode: this.cfg.replication, quorum: this.quorum, epoch, windowMs: this.windowMs, commitOnMinority: this.cfg.plant === 'commit-on-minority' }, this.log);
    for (const p of this.peers) this.sendBeat(p, out);
    // The epoch's first record (empty): once it is committed, everything before it is too.
    if (this.writeRefusal(now) === undefined) {
      const rec = this.log.add({ ep: epoch });
      this.store([rec], undefined, out);
      this.pending.addWrite(-1, rec.i, now + this.windowMs * 2);
    }
    this.candidacy.finished(now);
  }

  // ---- heartbeats ----

  /** With two-node failover one member is a majority, but only once the pair has been whole since this one started. */
  private electionQuorum(): number {
    if (this.quorum === 1 && this.peers.length === 1 && this.peers.every((p) => p.lastHeard === 0)) return 2;
    return this.quorum;
  }

  private fresh(p: Peer, now: number): boolean {
    return p.lastHeard > 0 && now - p.lastHeard <= this.windowMs;
  }

  private hasMajority(now: number): boolean {
    let n = 1;
    for (const p of this.peers) if (this.fresh(p, now)) n++;
    return n >= this.quorum;
  }

  /**
   * Whether a member heard within the window is in an epoch newer than `epoch`: then our primary
   * may be deposed without knowing it yet (it still hears a majority, in any epoch), and a backup
   * of it answers no reads (the server does not check this yet: docs/CLUSTER.md).
   */
  private newerEpochHeard(epoch: number, now: number): boolean {
    return this.peers.some((p) => p.beat !== undefined && p.beat.epoch > epoch && this.fresh(p, now));
  }

  private hearsPrimary(now: number): boolean {
    if (this.role === 'primary') return this.hasMajority(now);
    if (now <= this.honourPrimaryUntil) return true;
    return this.role === 'backup' && this.stream !== undefined && now - this.stream.lastHeard <= this.windowMs;
  }

  private tick(now: number, out: Effect[]): void {
    for (const p of this.peers) {
      if (!p.up) out.push({ kind: 'dial', peer: p.sid });
      else this.sendBeat(p, out);
    }
    if (this.role === 'primary') {
      if (!this.hasMajority(now)) return this.stepDown(now, out);
      const star = this.star as Star;
      star.tick(now, this.windowMs, out);
      this.onCommit(out);
      this.pending.expire(now, this.refused('NO_QUORUM', 'unknown'), out);
    } else if (this.role === 'backup') {
      const heard = this.stream?.lastHeard ?? this.followSince;
      if (now - heard > this.windowMs) this.primaryLost(now, out);
    } else {
      this.candidacy.schedule(0, now);
    }
  }
}
