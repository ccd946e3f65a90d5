// One cluster member's rules as a state machine: `step(event, now)` returns the effects to carry
// out, and nothing else happens. No clock (time comes in with each event), no timers (a `wake`
// effect asks to be stepped again), no sockets or disk (effects, answered by events), and its
// randomness from a seed. The name server runs on it (its cluster-node.ts is a driver), as the
// simulator does. The rules began as the server's own classes; the orderings their promise chains
// implied are explicit here:
//
// - election-state changes and vote answers run one at a time (`jobs`): a vote is answered only
//   once it is persisted, and a job waits while a persist is on its way to disk;
// - a backup stores one frame at a time and acknowledges it once the disk has it;
// - a member that won an election takes over only once its disk has what it was storing;
// - a new primary holds reads (and retried writes) until its epoch's first record commits.
//
// Safety rests on three rules. A candidate needs the votes of a majority, a member votes at most
// once per epoch (persisted first) and only for a log at least as new as its own, so one epoch
// has at most one primary and it holds every committed record. A primary that stops hearing from
// a majority stops taking writes, so the side of a partition without a majority cannot commit.
// And a prevote round comes first, so a member cut off from the others cannot drive epochs up.
// Reads also need the primary's read lease (read-lease.ts, which says why it is sound); the lease
// rests on every member that echoed a round refusing votes for a failure window after it last
// heard the primary, so a backup that lets go of its primary early (its stream broke) still
// honours it for the rest of that window, and a member just started honours whatever primary it
// may have heard before it went down. Who votes is the log's newest configuration record
// (membership.ts), changed one member at a time. Where the simulator found the server's first
// rules wanting, the core differs, each place marked (docs/CLUSTER.md, "What the simulator found").
import { Candidacy } from './candidacy.js';
import { failureWindowMs, type CoreConfig } from './config.js';
import type { Answer, Effect, RefusalCode } from './effects.js';
import type { CoreEvent } from './events.js';
import { CoreLog } from './log.js';
import { applyChange, bootstrapVoters, majorityOf, type ConfigRecord, type Configuration, type MembershipChange } from './membership.js';
import type { Beat, PeerMessage, RecordData, Role, VoteRequest, WireRecord } from './messages.js';
import { Prng } from './prng.js';
import { holdsLease } from './read-lease.js';
import { Star, type Electorate } from './star.js';
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
  /** The voters at `baseIndex` (where a snapshot ends); the bootstrap set when undefined. */
  readonly voters?: readonly number[];
}

interface Peer {
  readonly sid: number;
  up: boolean;
  lastHeard: number;
  beat: Beat | undefined;
  /** When it last asked for our vote with a log behind ours: while that is fresh it does not go before us. */
  askedBehindAt?: number;
}

/** Work that reads or changes the election state, one at a time. */
type Job = { k: 'vote'; from: number; req: VoteRequest } | { k: 'beat'; from: number; beat: Beat } | { k: 'self-vote'; epoch: number } | { k: 'epoch'; epoch: number };

/** A member being added: the primary streams to it as a learner until it has caught up, then appends the change. */
interface CatchUp {
  readonly req: number;
  readonly change: MembershipChange;
  /** When it is given up on, unless it makes progress before. */
  deadline: number;
  /** Its acknowledged index when it last made progress. */
  match: number;
  /** Since when a snapshot for it has been in the making or on its way. */
  snapshotSince: number | undefined;
}

/** Failure windows a member being added may go without progress. */
const CATCH_UP_WINDOWS = 4;
/** Failure windows a snapshot for it may take to be made, sent and installed (a minute by default: a million names take seconds). */
const SNAPSHOT_WINDOWS = 100;

/** A disk operation under way, in the order the driver completes them. */
interface DiskOp {
  kind: 'store' | 'install';
  index: number;
  stream: BackupStream | undefined;
  /** For an install: the voters at its index, as the snapshot frame said. */
  voters?: readonly number[] | undefined;
}

export class ClusterCore {
  role: Role = 'candidate';
  primarySid: number | undefined;
  /** The persisted epoch and vote. */
  epoch: number;
  votedFor: number | undefined;
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
  /** The configuration last reported in a `members` effect. */
  private configSeen: Configuration | undefined;
  private electorateCache: { cfg: Configuration; e: Electorate } | undefined;
  /** The highest index this member knows to be committed (as primary, or told by its primary); 0 at start. */
  private commitSeen = 0;
  /** A member being added, while it catches up (one change at a time: none other meanwhile). */
  private catchUp: CatchUp | undefined;
  /** Until when this member, outside its newest configuration, may stand: a candidate that counts its vote was refused for its log. */
  private neededUntil = Number.NEGATIVE_INFINITY;

  constructor(init: CoreInit) {
    this.cfg = init.cfg;
    this.epoch = init.epoch;
    this.votedFor = init.votedFor;
    this.windowMs = failureWindowMs(init.cfg);
    this.log = new CoreLog(init.cfg.tailCapacity, init.records, init.baseIndex ?? 0, init.baseEpoch ?? 0, init.voters ?? bootstrapVoters(init.cfg.members));
    this.rng = new Prng(init.cfg.seed);
    for (const sid of this.log.config.voters) if (sid !== init.cfg.self) this.addPeer(sid);
    this.candidacy = new Candidacy({
      heartbeatMs: init.cfg.heartbeatMs,
      quorum: () => this.electionQuorum(),
      selfCounts: () => this.isVoter(this.cfg.self),
      isCandidate: (now) => this.role === 'candidate' && !this.halted && now > this.standAfter && this.mayStand(now),
      aheadOfUs: (now) => this.peers.filter((p) => p.sid < this.cfg.self && p.sid !== this.lostPrimary && this.isVoter(p.sid) && this.fresh(p, now) && !this.knownBehind(p, now)).length,
      reachable: () => this.peers.flatMap((p) => (p.up && this.isVoter(p.sid) ? [p.sid] : [])),
      position: () => this.log.position(),
      epoch: () => this.epoch,
      voteForSelf: (epoch, out) => this.enqueue({ k: 'self-vote', epoch }, 0, out),
      won: (epoch, now, out) => {
        this.winning = epoch;
        this.maybeTakeOver(now, out);
      },
    }, this.rng);
  }

  /** Members (this one included, if it votes) that make a majority of the configuration in effect. */
  get quorum(): number {
    return this.electorate().majority;
  }

  /** The voters in effect (the log's newest configuration, committed or not), in SID order. */
  get voters(): readonly number[] {
    return this.log.config.voters;
  }

  /** The log index of the configuration record in effect (or of the snapshot or start it came from). */
  get configIndex(): number {
    return this.log.config.index;
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

  /** A backup following a primary that has caught up with it since it began following (false elsewhere). */
  get followingCaughtUp(): boolean {
    return this.role === 'backup' && this.stream !== undefined && this.stream.caughtUp;
  }

  /** The highest index this member knows to be committed: as primary, or as its primary's ticks told it. */
  get committedSeen(): number {
    return Math.max(this.commitSeen, this.knownCommitted ?? 0);
  }

  /**
   * The oldest index a `snapshot-made` can answer with: the log holds every record after it, so
   * a snapshot taken there can be followed by them (an older one ends the backup's stream).
   */
  get snapshotFloor(): number {
    return this.log.firstAfter;
  }

  /**
   * The driver's newest snapshot on disk is at `index`: the log keeps the records after it past
   * its capacity (within CoreLog's KEEP_LIMIT), so that snapshot and those records can bring a
   * backup up to date without a new snapshot being made. Memory only; nothing the core says changes.
   */
  keepLogAfter(index: number): void {
    this.log.keepAfter(index);
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
    if (this.log.config !== this.configSeen && !this.halted) this.configChanged(out);
    if (this.catchUp !== undefined) this.checkCatchUp(now, out);
    // Raft's rule for a removed leader: it leads until the change that removed it is committed.
    if (this.role === 'primary' && !this.isVoter(this.cfg.self) && (this.knownCommitted ?? -1) >= this.log.config.index) this.stepDown(now, out);
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
      case 'start': {
        const alone = this.log.config.voters.every((sid) => sid === this.cfg.self);
        // We may have echoed a primary's lease round just before we went down: honour it as if heard now.
        if (!alone) this.honourPrimaryUntil = now + this.windowMs;
        for (const p of this.peers) out.push({ kind: 'dial', peer: p.sid });
        this.candidacy.schedule(alone ? 0 : this.windowMs, now);
        return;
      }
      case 'tick':
        return this.tick(now, out);
      case 'wake':
        // The timer that brought us here is spent: a deadline still ahead (a timer may fire a
        // little early by our clock) must be asked for again, or we would sleep until the next tick.
        this.lastWake = undefined;
        if (now >= (this.pending.gateDeadline ?? Infinity)) this.settleGate(now, out);
        this.candidacy.wake(now, out);
        return;
      case 'message':
        return this.onMessage(ev.from, ev.m, now, out);
      case 'link-up': {
        // A member outside our configuration (one joining, or removed) is a peer while linked.
        const p = this.peer(ev.peer) ?? (ev.peer === this.cfg.self ? undefined : this.addPeer(ev.peer));
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
        if (!this.isVoter(p.sid) && p.sid !== this.catchUp?.change.sid) this.peers.splice(this.peers.indexOf(p), 1);
        return;
      }
      case 'persisted': {
        const done = this.persisting;
        if (done === undefined) return;
        this.persisting = undefined;
        const moved = done.epoch > this.epoch;
        this.epoch = done.epoch;
        this.votedFor = done.votedFor;
        // It won its election while a newer epoch (a newer primary's beat, a refused candidate's)
        // was on its way to disk: it is no primary of that epoch, and must not acknowledge in it
        // (two primaries acknowledged in one epoch at seed 988,006 of the long run).
        if (moved && this.role === 'primary') this.stepDown(now, out);
        done.then(now, out);
        return this.runJobs(now, out);
      }
      case 'durable':
        return this.durable(ev.index, now, out);
      case 'installed': {
        const op = this.disk[0];
        if (op?.kind !== 'install') return;
        this.disk.shift();
        this.log.reset(ev.index, ev.lastEpoch, validVoters(op.voters) ?? this.log.configAt(ev.index).voters);
        op.stream?.diskDone(out);
        this.afterStream(op.stream, now, out);
        this.followOnceDiskIdle(now, out);
        return this.maybeTakeOver(now, out);
      }
      case 'disk-failed':
        this.halted = true;
        out.push({ kind: 'halt', why: 'the disk failed a write' });
        return;
      case 'taken-back':
        if (this.voters.some((sid) => sid !== this.cfg.self) || ev.from <= this.log.durable || ev.from > this.log.lastIndex) {
          this.halted = true;
          out.push({ kind: 'halt', why: `records from ${ev.from} cannot be taken back` });
          return;
        }
        this.log.truncateFrom(ev.from);
        this.pending.forgetFrom(ev.from);
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
      case 'members':
        return this.changeMembers(ev.req, { op: ev.op, sid: ev.sid, ...(ev.addr === undefined ? {} : { addr: ev.addr }) }, now, out);
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
    if (this.star === undefined) return;
    this.pending.committed(this.star.commitIndex, out);
    const known = this.knownCommitted;
    this.star.knownCommit = known;
    if (known !== undefined) this.commitSeen = Math.max(this.commitSeen, known);
  }

  // ---- membership: one change at a time (membership.ts; docs/CLUSTER.md, "Membership changes") ----

  private electorate(): Electorate {
    const c = this.log.config;
    if (this.electorateCache?.cfg !== c) this.electorateCache = { cfg: c, e: { voters: new Set(c.voters), majority: majorityOf(c.voters.length, this.cfg.twoNodeFailover) } };
    return this.electorateCache.e;
  }

  private isVoter(sid: number): boolean {
    return this.electorate().voters.has(sid);
  }

  /**
   * A member outside its newest configuration (one joining, or removed) does not stand, but in two
   * cases where it may be needed to elect a primary at all (Ongaro's thesis, §4.2.2: such a member
   * still stands, without counting its own vote). One: its own removal is that configuration's
   * record and not yet known committed, so it may be the only one holding it, with the longest log
   * (found by the simulator). Two: a candidate that counts it as a voter (by the candidate's older
   * or newer configuration) was refused for its log within the failure window: its log is the newer,
   * and while configurations differ between logs the others may be unable to win without it (seed
   * 945, with candidates learning epochs). Once elected it steps down as soon as its configuration
   * commits, and the others then hold its log, so nobody refuses them for it; a cluster that hears a
   * primary refuses its prevotes.
   */
  private mayStand(now: number): boolean {
    const self = this.cfg.self;
    if (this.isVoter(self)) return true;
    if (now <= this.neededUntil) return true;
    const cfg = this.log.config;
    return cfg.index > this.commitSeen && this.log.configAt(cfg.index - 1).voters.includes(self);
  }

  private changeMembers(req: number, change: MembershipChange, now: number, out: Effect[]): void {
    const refusal = this.writeRefusal(now);
    if (refusal !== undefined || this.star === undefined) return this.answer(req, this.refused(refusal ?? 'NOT_PRIMARY', 'none'), out);
    if (!Number.isSafeInteger(change.sid) || change.sid < 0 || (change.op !== 'add' && change.op !== 'remove')) return this.answer(req, this.refused('MEMBERSHIP_CHANGE_INVALID', 'none'), out);
    const cfg = this.log.config;
    const committed = this.knownCommitted;
    // Not before a record of this primary's own epoch is committed (Ongaro's 2015 fix: a change
    // from an earlier primary, never committed, may otherwise combine with ours into two), and not
    // while the previous change is uncommitted or its learner is still catching up.
    const previousOpen = cfg.index > (committed ?? -1) && this.cfg.plant !== 'two-changes-at-once';
    if (committed === undefined || this.catchUp !== undefined || previousOpen) return this.answer(req, this.refused('MEMBERSHIP_CHANGE_PENDING', 'none'), out);
    if ((change.op === 'add') === cfg.voters.includes(change.sid)) {
      // Already so: answered, like a read, once the configuration that made it so is settled.
      return this.pending.addReader(req, cfg.index, out);
    }
    if (change.op === 'remove' && cfg.voters.length === 1) return this.answer(req, this.refused('MEMBERSHIP_CHANGE_INVALID', 'none'), out);
    if (change.op === 'remove') return this.appendChange(req, change, now, out);
    // A new voter first catches up as a learner, so that adding it does not stall commits.
    this.catchUp = { req, change, deadline: now + this.windowMs * CATCH_UP_WINDOWS, match: 0, snapshotSince: undefined };
    if (this.peer(change.sid) === undefined) {
      this.addPeer(change.sid);
      out.push({ kind: 'dial', peer: change.sid });
    }
  }

  /**
   * The member being added has caught up (append its change), or ran out of time. Time runs out
   * only without progress (Ongaro's thesis, §4.2.1, catches a new server up in rounds for the same
   * reason): its acknowledged index moving gives it another CATCH_UP_WINDOWS, and a snapshot in the
   * making or on its way keeps it waiting up to SNAPSHOT_WINDOWS, since a large registry's takes seconds.
   */
  private checkCatchUp(now: number, out: Effect[]): void {
    const c = this.catchUp as CatchUp;
    if (this.star === undefined) return;
    const p = this.star.progress(c.change.sid);
    if (p !== undefined && p.match > c.match) {
      c.match = p.match;
      c.deadline = Math.max(c.deadline, now + this.windowMs * CATCH_UP_WINDOWS);
    }
    if (p?.snapshot === true) {
      c.snapshotSince ??= now;
      c.deadline = Math.max(c.deadline, Math.min(now + this.windowMs * CATCH_UP_WINDOWS, c.snapshotSince + this.windowMs * SNAPSHOT_WINDOWS));
    } else c.snapshotSince = undefined;
    if (this.star.caughtUp(c.change.sid)) {
      this.catchUp = undefined;
      const refusal = this.writeRefusal(now);
      if (refusal !== undefined) return this.answer(c.req, this.refused(refusal, 'none'), out);
      this.appendChange(c.req, c.change, now, out);
    } else if (now >= c.deadline) {
      this.catchUp = undefined;
      this.answer(c.req, this.refused('MEMBER_NOT_CAUGHT_UP', 'none'), out);
    }
  }

  /** The configuration record goes in the log, and counts from now on (Raft: on append, not on commit). */
  private appendChange(req: number, change: MembershipChange, now: number, out: Effect[]): void {
    const star = this.star as Star;
    const config: ConfigRecord = { voters: applyChange(this.log.config.voters, change), change };
    const rec = this.log.add({ ep: this.epoch, config });
    this.store([rec], undefined, out);
    star.push(rec, now, out);
    this.pending.addWrite(req, rec.i, now + this.windowMs * 2);
    this.configChanged(out);
  }

  /** The configuration in effect changed: say so, link to new voters, recount the primary's majority. */
  private configChanged(out: Effect[]): void {
    const cfg = this.log.config;
    this.configSeen = cfg;
    out.push({ kind: 'members', voters: cfg.voters, index: cfg.index, member: this.isVoter(this.cfg.self) });
    for (const p of [...this.peers]) if (!p.up && !this.isVoter(p.sid) && p.sid !== this.catchUp?.change.sid) this.peers.splice(this.peers.indexOf(p), 1);
    for (const sid of cfg.voters) {
      if (sid === this.cfg.self || this.peer(sid) !== undefined) continue;
      this.addPeer(sid);
      out.push({ kind: 'dial', peer: sid });
    }
    if (this.star?.electorateChanged() === true) this.onCommit(out);
  }

  private addPeer(sid: number): Peer {
    const p: Peer = { sid, up: false, lastHeard: 0, beat: undefined };
    this.peers.push(p);
    return p;
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
    this.followOnceDiskIdle(now, out);
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
        // Only voters' answers count towards a majority.
        if (!this.isVoter(from)) return;
        return this.candidacy.onAnswer(from, m, now, out);
      case 'append':
      case 'snap':
        s?.onFrame(m, now, out);
        return this.afterStream(s, now, out);
      case 'tick':
        s?.onTick(m.epoch, m.lastIndex, m.seq, now, out, m.commit);
        if (s !== undefined) this.commitSeen = Math.max(this.commitSeen, s.primaryCommit);
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
      else this.disk.push({ kind: 'install', index: w.index, stream: s, voters: w.voters });
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
        case 'epoch':
          if (job.epoch > this.epoch && this.role === 'candidate') this.persist(job.epoch, undefined, () => undefined, out);
          break;
      }
    }
  }

  private answerVote(from: number, m: VoteRequest, now: number, out: Effect[]): void {
    const me = { log: this.log.position(), epoch: this.epoch, votedFor: this.votedFor, hearsPrimary: this.hearsPrimary(now), primarySid: this.primarySid, candidateVotes: this.isVoter(from) };
    const refusal = voteRefusal(m, from, me, this.cfg.plant === 'vote-without-log-check');
    if (refusal?.rule === 'log') {
      const asker = this.peer(from);
      if (asker !== undefined) asker.askedBehindAt = now;
      // Outside our newest configuration, we may be needed all the same (mayStand says when).
      if (!this.isVoter(this.cfg.self)) {
        this.neededUntil = now + this.windowMs;
        this.candidacy.schedule(0, now);
      }
      this.candidacy.standNow(now);
    }
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
    // Not from a member outside our configuration: a removed one must not move the cluster's epoch.
    const learned = refusal === undefined || refusal.rule === 'member' ? undefined : epochLearned(m, me);
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
      if (this.role === 'primary' && b.epoch > this.epoch && this.isVoter(p.sid)) this.stepDown(now, out);
      // A candidate takes up a voter's newer epoch (Raft: any newer term). The voter refuses our
      // prevotes for any epoch not newer than its own, and may be unable to stand itself (it voted
      // for a candidate since lost, and its log is behind ours): without this, neither of us could
      // ever win (seeds 583,065 and 733,555 of the long run).
      else if (this.role === 'candidate' && b.epoch > this.epoch && this.isVoter(p.sid) && !this.hearsPrimary(now)) this.enqueue({ k: 'epoch', epoch: b.epoch }, now, out);
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
      const p = this.peer(from) ?? this.addPeer(from);
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
    // A stream let go of may still have records or a snapshot on their way to disk. Asked for now,
    // the primary's log would follow on from our end as it is before they land and be laid over the
    // log as it is after (seed 102,205: an old primary's snapshot, installed after the new primary
    // sent its records from our empty log, kept the old primary's uncommitted record under the new
    // one's). So the primary is asked once that work is done, as a winner waits to take over.
    if (this.disk.some((d) => d.stream !== undefined)) return;
    this.stream = new BackupStream(p.sid, this.epoch, this.log, now, this.cfg.plant === 'ack-before-fsync', p.beat?.role === 'primary' ? p.beat.lastIndex : Number.POSITIVE_INFINITY, out);
  }

  /** A backup that waited for an earlier stream's disk work asks its primary now, if that is done. */
  private followOnceDiskIdle(now: number, out: Effect[]): void {
    if (this.role !== 'backup' || this.stream !== undefined || this.primarySid === undefined) return;
    const p = this.peer(this.primarySid);
    if (p?.up === true) this.startFollowing(p, now, out);
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
    if (this.catchUp !== undefined) this.answer(this.catchUp.req, this.refused('NOT_PRIMARY', 'none'), out);
    this.catchUp = undefined;
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
    this.star = new Star({ mode: this.cfg.replication, self: this.cfg.self, electorate: () => this.electorate(), epoch, windowMs: this.windowMs, commitOnMinority: this.cfg.plant === 'commit-on-minority' }, this.log);
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
    const others = this.peers.filter((p) => this.isVoter(p.sid));
    if (this.quorum === 1 && others.length === 1 && others.every((p) => p.lastHeard === 0)) return 2;
    return this.quorum;
  }

  /** `p` asked for our vote with a log behind ours within the failure window: it cannot win ours. */
  private knownBehind(p: Peer, now: number): boolean {
    return p.askedBehindAt !== undefined && now - p.askedBehindAt <= this.windowMs;
  }

  private fresh(p: Peer, now: number): boolean {
    return p.lastHeard > 0 && now - p.lastHeard <= this.windowMs;
  }

  private hasMajority(now: number): boolean {
    let n = this.isVoter(this.cfg.self) ? 1 : 0;
    for (const p of this.peers) if (this.isVoter(p.sid) && this.fresh(p, now)) n++;
    return n >= this.quorum;
  }

  /**
   * Whether a member heard within the window is in an epoch newer than `epoch`: then our primary
   * may be deposed without knowing it yet (it still hears a majority, in any epoch), and a backup
   * of it answers no reads (docs/CLUSTER.md, "What the simulator found").
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

/** A snapshot frame's voters, if they are a list of SIDs. */
function validVoters(v: unknown): readonly number[] | undefined {
  return Array.isArray(v) && v.every((s) => Number.isSafeInteger(s) && (s as number) >= 0) ? (v as number[]) : undefined;
}
