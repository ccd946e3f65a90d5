// This server's place in the cluster: links and heartbeats with every member, its votes, and the
// switch between leading the star (Replicator), following it (Follower) and standing for election
// (Candidacy; the vote rules are in vote-rules.ts).
//
// Safety rests on three rules. A candidate needs the votes of a majority, a member votes at most
// once per epoch (persisted first) and only for a log at least as new as its own, so one epoch
// has at most one primary and it holds every committed record. A primary that stops hearing from
// a majority stops taking writes, so the side of a partition without a majority cannot commit.
// And a prevote round comes first, so a member cut off from the others cannot drive epochs up.
//
// Reads need more than the role: a primary answers them only while it holds its read lease
// (read-lease.ts), earned by a majority echoing heartbeat rounds it sent recently, because a
// primary that was paused (SIGSTOP, a long stall) still believes it is primary when it resumes,
// and another may have been elected and acknowledged writes meanwhile. The lease rests on every
// member that echoed a round refusing votes for a failure window after it last heard the
// primary; so a backup that lets go of its primary early (its stream broke) still honours it for
// the rest of that window, and a member just started honours whatever primary it may have heard
// before it went down.
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { DpnsError, type ClusterHello, type Result, type ServerRole, type ServerStatus } from '@dpns/protocol';
import type { Logger } from '../log.js';
import { failureWindowMs, quorumOf, type ClusterConfig } from './cluster-config.js';
import { ElectionState } from './election-state.js';
import { Follower, type ReplicaSink } from './follower.js';
import type { LogTail } from './log-tail.js';
import { memberListId, PeerLink, type ClusterKey } from './peer-link.js';
import { isPeerMessage, type Beat, type PeerMessage, type VoteRequest } from './peer-messages.js';
import { holdsLease } from './read-lease.js';
import { LeaseGate } from './lease-gate.js';
import { Replicator } from './replicator.js';
import { epochLearned, voteRefusal } from './vote-rules.js';
import { Candidacy } from './candidacy.js';

export interface ClusterDeps {
  dataDir: string;
  key: ClusterKey;
  log: Logger;
  now: () => number;
  tail: LogTail;
  sink: ReplicaSink;
  snapshotJson: () => Promise<{ index: number; json: string }>;
  /** This server just became primary of `epoch`; resolves once it takes writes. */
  onPrimary: (epoch: number) => Promise<void>;
  /** This server stopped being primary. */
  onStepDown: (why: string) => void;
  /** This server took over from primary `previous`, which is gone. */
  onTakeover: (previous: number) => void;
}

interface Peer {
  sid: number;
  url: string;
  out: PeerLink | undefined;
  inbound: PeerLink | undefined;
  dialing: boolean;
  lastHeard: number;
  beat: Beat | undefined;
}

export class ClusterNode {
  role: ServerRole = 'candidate';
  primarySid: number | undefined;
  /** How many times this server took over from another primary. */
  takeovers = 0;
  /** Backups dropped from the star for not acknowledging. */
  dropped = 0;
  private election!: ElectionState;
  private readonly peers: Peer[] = [];
  private replicator: Replicator | undefined;
  private follower: Follower | undefined;
  private followSince = 0;
  private draining: Promise<void> = Promise.resolve();
  private lostPrimary: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly candidacy: Candidacy;
  /** Election state changes and vote answers, one at a time. */
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;
  /** Until when this member refuses votes for a primary it let go of early, or may have heard before a restart. */
  private honourPrimaryUntil = 0;
  /** Until when it does not stand itself, for a primary it let go of early (after a restart, its first stand comes a window late anyway). */
  private standAfter = 0;
  /** Reads that came while this primary held no lease, waiting (at most a heartbeat) for one. */
  private readonly leaseGate: LeaseGate;
  readonly quorum: number;
  readonly windowMs: number;
  private readonly listId: string;

  constructor(readonly cfg: ClusterConfig, private readonly d: ClusterDeps) {
    this.quorum = quorumOf(cfg);
    this.windowMs = failureWindowMs(cfg);
    this.listId = memberListId(cfg.members);
    this.leaseGate = new LeaseGate({
      renew: () => this.replicator?.renewLease(), refusalNow: () => this.readRefusalNow(this.d.now()), maxWaitMs: cfg.clusterHeartbeatMs,
    });
    this.candidacy = new Candidacy({
      clusterHeartbeatMs: cfg.clusterHeartbeatMs, quorum: () => this.electionQuorum(), log: d.log,
      isCandidate: () => this.role === 'candidate' && !this.stopped && this.d.now() > this.standAfter,
      aheadOfUs: () => {
        const now = this.d.now();
        return this.peers.filter((p) => p.sid < this.cfg.self && p.sid !== this.lostPrimary && this.fresh(p, now)).length;
      },
      reachable: () => this.peers.flatMap((p) => (p.out?.open === true ? [{ sid: p.sid, send: (m: VoteRequest) => p.out?.send(m) }] : [])),
      position: () => this.d.sink.position(),
      epoch: () => this.election.epoch,
      voteForSelf: async (epoch) => {
        const voted = this.chain.then(async () => {
          // Between our prevote and now we may have voted in this epoch for another candidate (or
          // moved past it): that vote stands, or two candidates could each win it (found by the
          // simulator, docs/CLUSTER.md).
          const e = this.election;
          if (e.epoch > epoch || (e.epoch === epoch && e.votedFor !== undefined && e.votedFor !== this.cfg.self)) return false;
          await e.save({ epoch, votedFor: this.cfg.self });
          return true;
        });
        this.chain = voted;
        return voted;
      },
      won: (epoch) => this.becomePrimary(epoch),
    });
    cfg.members.forEach((m, sid) => {
      if (sid !== cfg.self) this.peers.push({ sid, url: `ws://${m}`, out: undefined, inbound: undefined, dialing: false, lastHeard: 0, beat: undefined });
    });
  }

  get epoch(): number {
    return this.election.epoch;
  }

  /**
   * With --two-node-failover one member is a majority, but only once the pair has been whole since
   * this one started (Pacemaker's two_node + wait_for_all): two members starting apart would each
   * elect itself alone, in the same epoch.
   */
  private electionQuorum(): number {
    if (this.quorum === 1 && this.peers.length === 1 && this.peers.every((p) => p.lastHeard === 0)) return 2;
    return this.quorum;
  }

  get urls(): string[] {
    return this.cfg.members.map((m) => `ws://${m}`);
  }

  get primaryUrl(): string | undefined {
    return this.primarySid === undefined ? undefined : this.urls[this.primarySid];
  }

  /** Reads the persisted epoch and vote; before the port opens, since every hello and beat needs them. */
  async init(): Promise<void> {
    this.election = await ElectionState.open(this.d.dataDir);
  }

  async start(): Promise<void> {
    this.d.log.info('cluster member starting', {
      sid: this.cfg.self, members: this.cfg.members, epoch: this.election.epoch, quorum: this.quorum, replication: this.cfg.replication,
    });
    this.timer = setInterval(() => this.tick(), this.cfg.clusterHeartbeatMs);
    this.timer.unref();
    // We may have echoed a primary's lease round just before we went down: honour it as if heard now.
    if (this.peers.length > 0) this.honourPrimaryUntil = this.d.now() + this.windowMs;
    for (const p of this.peers) this.dial(p);
    // A cluster of one elects itself at once; others first listen for a primary for a while.
    if (this.peers.length === 0) await this.candidacy.run();
    else this.candidacy.schedule(this.windowMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.candidacy.stop();
    this.leaseGate.settle();
    this.replicator?.close('name server shutting down');
    this.follower?.stop();
    for (const p of this.peers) {
      p.out?.close('name server shutting down');
      p.inbound?.close('name server shutting down');
    }
  }

  // ---- what the rest of the server asks ----

  /** Why this server cannot take a write now, or undefined when it can. */
  writeRefusal(): DpnsError | undefined {
    if (this.role !== 'primary') {
      const primary = this.primaryUrl;
      return new DpnsError('NOT_PRIMARY', primary === undefined
        ? `this server (SID ${this.cfg.self}) is a ${this.role} and knows of no primary yet; retry shortly`
        : `this server (SID ${this.cfg.self}) is a backup; send writes to the primary at ${primary}`, {
        details: { role: this.role, ...(primary === undefined ? {} : { primary }) },
      });
    }
    if (!this.hasMajority()) {
      return new DpnsError('NO_QUORUM', `this primary hears from fewer than ${this.quorum} of the ${this.cfg.members.length} servers, so it takes no writes; it steps down if that lasts`, {
        details: { quorum: this.quorum },
      });
    }
    return undefined;
  }

  /**
   * Whether this server may answer reads itself: the primary while it holds its read lease, or a
   * backup that serves reads, hears its primary, and has caught up with it since it began
   * following. A primary without a lease sends a lease round at once and the read waits for the
   * echoes, at most one heartbeat; then it is answered, or refused NOT_PRIMARY (a deposed primary
   * learns of its successor meanwhile, and names it).
   */
  readRefusal(): DpnsError | undefined | Promise<DpnsError | undefined> {
    const now = this.d.now();
    if (this.role === 'primary' && this.replicator !== undefined && !holdsLease(this.replicator.leaseUntil, now)) return this.leaseGate.wait();
    return this.readRefusalNow(now);
  }

  private readRefusalNow(now: number): DpnsError | undefined {
    if (this.role === 'primary') {
      if (this.replicator !== undefined && holdsLease(this.replicator.leaseUntil, now)) return undefined;
      return new DpnsError('NOT_PRIMARY', `this server (SID ${this.cfg.self}) was the primary of epoch ${this.election.epoch} but has not heard from a majority recently enough to be sure it still is, so it answers no reads; ask another server`, {
        details: { role: this.role },
      });
    }
    if (this.cfg.readFromBackups && this.role === 'backup' && this.follower?.caughtUp === true && now - this.follower.lastHeard <= this.windowMs) return undefined;
    return this.writeRefusal();
  }

  /** A record was appended on the primary. */
  appended(index: number, rec: Parameters<Replicator['push']>[1]): void {
    this.d.tail.push(index, rec);
    this.replicator?.push(index, rec);
  }

  /**
   * Records from `firstIndex` on never reached this server's disk. A server alone forgets them;
   * in a cluster backups may already hold them, so they cannot be taken back (the caller stops).
   */
  takeBack(firstIndex: number): boolean {
    if (this.cfg.members.length > 1) return false;
    this.d.tail.truncateFrom(firstIndex);
    return true;
  }

  /** The primary's disk has everything up to `index`; resolves once it is committed. */
  committed(index: number): Promise<void> {
    const r = this.replicator;
    if (r === undefined) return Promise.reject(this.writeRefusal() ?? new DpnsError('NOT_PRIMARY', 'not the primary'));
    r.localDurableAt(index);
    return r.waitCommitted(index);
  }

  hello(): ClusterHello {
    const primary = this.primaryUrl;
    return {
      sid: this.cfg.self, role: this.role, epoch: this.election.epoch, servers: this.urls, readFromBackups: this.cfg.readFromBackups,
      ...(primary === undefined ? {} : { primary }),
    };
  }

  /** What the `servers` method answers. */
  serversResult(): Result<'servers'> {
    const primary = this.primarySid;
    return { self: this.cfg.self, epoch: this.election.epoch, replication: this.cfg.replication, servers: this.status(), ...(primary === undefined ? {} : { primary }) };
  }

  status(): ServerStatus[] {
    const now = this.d.now();
    const reps = this.replicator?.status();
    const head = this.role === 'primary' ? this.d.sink.position().lastIndex : Math.max(this.follower?.primaryIndex ?? 0, ...this.peers.map((p) => (p.beat?.role === 'primary' ? p.beat.lastIndex : 0)));
    return this.cfg.members.map((m, sid): ServerStatus => {
      const url = `ws://${m}`;
      if (sid === this.cfg.self) {
        const applied = this.d.sink.applied();
        return { sid, url, self: true, connected: true, role: this.role, epoch: this.election.epoch, lastIndex: applied, lag: Math.max(0, head - applied) };
      }
      const p = this.peers.find((x) => x.sid === sid) as Peer;
      const out: ServerStatus = { sid, url, self: false, connected: this.fresh(p, now) };
      if (p.lastHeard > 0) out.lastHeardMs = now - p.lastHeard;
      // A member we no longer hear has no role we could vouch for; its last epoch and index still say how far it got.
      if (p.beat !== undefined) Object.assign(out, { epoch: p.beat.epoch, lastIndex: p.beat.lastIndex }, out.connected ? { role: p.beat.role } : {});
      const match = reps?.get(sid)?.matchIndex;
      const last = match ?? p.beat?.lastIndex;
      if (last !== undefined && head > 0) out.lag = Math.max(0, head - last);
      if (match !== undefined) out.lastIndex = Math.max(out.lastIndex ?? 0, match);
      return out;
    });
  }

  /** Replication lag of each backup in records, as the primary sees it (empty elsewhere). */
  lagBySid(): Map<number, number> {
    const out = new Map<number, number>();
    const reps = this.replicator?.status();
    if (reps === undefined) return out;
    const head = this.d.sink.position().lastIndex;
    for (const p of this.peers) out.set(p.sid, head - (reps.get(p.sid)?.matchIndex ?? p.beat?.lastIndex ?? 0));
    return out;
  }

  /** When member `sid` was last heard from (0: never). */
  lastHeard(sid: number): number {
    return this.peers.find((x) => x.sid === sid)?.lastHeard ?? 0;
  }

  /** Whether this server is the primary of `epoch` still. */
  isPrimaryOf(epoch: number): boolean {
    return this.role === 'primary' && this.election.epoch === epoch;
  }

  // ---- links ----

  acceptPeer(ws: WebSocket, req: IncomingMessage): void {
    PeerLink.accept(ws, req, this.d.key, this.listId, this.cfg.self, this.cfg.members.length, this.windowMs + 1000).then((link) => {
      const p = this.peers.find((x) => x.sid === link.peerSid) as Peer;
      if (this.stopped) return link.close('name server shutting down');
      p.inbound?.close('replaced by a new link from the same member');
      p.inbound = link;
      p.lastHeard = this.d.now();
      link.onMessage = (m) => this.onInbound(p, link, m);
      link.onClose = () => {
        if (p.inbound === link) p.inbound = undefined;
        this.replicator?.unlink(p.sid, link);
      };
    }, (err: unknown) => this.d.log.warn('refused a peer link', { remote: req.socket.remoteAddress, why: (err as Error).message }));
  }

  private dial(p: Peer): void {
    if (p.dialing || p.out !== undefined || this.stopped) return;
    p.dialing = true;
    PeerLink.dial(p.url, this.d.key, this.listId, this.cfg.self, p.sid, this.windowMs + 1000).then((link) => {
      p.dialing = false;
      if (this.stopped) return link.close('name server shutting down');
      p.out = link;
      p.lastHeard = this.d.now();
      link.onMessage = (m) => this.onOutbound(p, m);
      link.onClose = (why) => {
        if (p.out !== link) return;
        p.out = undefined;
        if (this.follower !== undefined && this.primarySid === p.sid) this.primaryLost(`the link to the primary ${why}`);
      };
      this.sendBeat(p);
      if (this.role === 'backup' && this.primarySid === p.sid && this.follower === undefined) this.startFollowing(p);
    }, (err: unknown) => {
      p.dialing = false;
      const why = (err as Error).message;
      // A member that answers but does not match (another list, another key) is a configuration error worth seeing.
      if (/--cluster list|cluster key|not a dpns cluster member/.test(why)) this.d.log.warn('a cluster member refused us, or we it', { sid: p.sid, why });
      else this.d.log.debug('cannot reach a cluster member', { sid: p.sid, why });
    });
  }

  private sendBeat(p: Peer): void {
    const pos = this.d.sink.position();
    const beat: Beat = { t: 'beat', role: this.role, epoch: this.election.epoch, ...pos, ...(this.primarySid === undefined ? {} : { primary: this.primarySid }) };
    p.out?.send(beat);
  }

  private onInbound(p: Peer, link: PeerLink, raw: unknown): void {
    if (!isPeerMessage(raw)) return;
    p.lastHeard = this.d.now();
    const m: PeerMessage = raw;
    switch (m.t) {
      case 'beat':
        p.beat = m;
        return this.considerBeat(p, m);
      case 'prevote':
      case 'vote':
        this.chain = this.chain.then(() => this.answerVote(p, link, m)).catch((err: unknown) => this.d.log.error('answering a vote failed', { err }));
        return;
      case 'follow':
        if (m.epoch > this.election.epoch && this.role === 'primary') this.stepDown(`member ${p.sid} follows epoch ${m.epoch}, newer than ours`);
        if (this.role !== 'primary' || this.replicator === undefined || m.epoch !== this.election.epoch) {
          link.send({ t: 'refuse', epoch: this.election.epoch, reason: `SID ${this.cfg.self} is not the primary of epoch ${m.epoch}` });
          return;
        }
        this.replicator.follow(p.sid, link, m);
        // Reads waiting for a lease (a primary just elected): a round for this backup too, at once.
        if (this.leaseGate.size > 0) this.replicator.renewLease();
        return;
      case 'ack':
        return this.replicator?.ack(p.sid, m);
      case 'append': case 'snap': case 'tick': case 'refuse': case 'prevote-ans': case 'vote-ans':
        // Only ever sent on the link the other end accepted; not ours to answer here.
        return;
    }
  }

  private onOutbound(p: Peer, raw: unknown): void {
    if (!isPeerMessage(raw)) return;
    p.lastHeard = this.d.now();
    const m: PeerMessage = raw;
    const f = this.follower !== undefined && this.primarySid === p.sid ? this.follower : undefined;
    switch (m.t) {
      case 'prevote-ans':
      case 'vote-ans':
        return this.candidacy.onAnswer(p.sid, m);
      case 'append':
        return f?.onAppend(m);
      case 'snap':
        return f?.onSnapshot(m);
      case 'tick':
        return f?.onTick(m.epoch, m.lastIndex, m.seq);
      case 'refuse':
        if (f !== undefined) this.primaryLost(`the primary refused us: ${m.reason}`);
        return;
      case 'beat': case 'prevote': case 'vote': case 'follow': case 'ack':
        // Requests come on the link the other end dialed, never on ours.
        return;
    }
  }

  // ---- roles ----

  private considerBeat(p: Peer, b: Beat): void {
    const mine = this.election.epoch;
    // A member in a newer epoch has left this primary behind: it takes no more of our records, and
    // while it is still heard this primary would count it towards a majority and stay primary
    // forever, committing nothing and refusing the member's votes for its own longer, uncommitted
    // log (found by the simulator, docs/CLUSTER.md). Raft's leader steps down on any newer term.
    if (b.role !== 'primary') {
      if (this.role === 'primary' && b.epoch > mine) this.stepDown(`member ${p.sid} reached the newer epoch ${b.epoch}`);
      return;
    }
    if (b.epoch < mine) return;
    if (this.role === 'primary') {
      if (b.epoch > mine) this.stepDown(`member ${p.sid} is the primary of the newer epoch ${b.epoch}`);
      else return;
    }
    if (this.role === 'backup' && this.primarySid === p.sid && this.follower?.epoch === b.epoch) return;
    this.chain = this.chain.then(async () => {
      if (this.stopped || this.role === 'primary') return;
      if (b.epoch > this.election.epoch) {
        await this.election.save({ epoch: b.epoch });
        // It may have won an older epoch's election while the newer epoch was on its way to disk:
        // left primary, it would take writes beside the newer epoch's primary (the simulator's
        // seed 988,006 found this in the core; docs/CLUSTER.md).
        this.stepDown(`member ${p.sid} is the primary of the newer epoch ${b.epoch}`);
      }
      if (b.epoch < this.election.epoch) return;
      if (this.role === 'backup' && this.primarySid === p.sid && this.follower?.epoch === b.epoch) return;
      this.follower?.stop();
      this.follower = undefined;
      this.role = 'backup';
      this.primarySid = p.sid;
      this.followSince = this.d.now();
      this.candidacy.cancel();
      this.d.log.info('following the primary', { primary: p.sid, epoch: b.epoch });
      if (p.out !== undefined) this.startFollowing(p);
      else this.dial(p);
    }).catch((err: unknown) => this.d.log.error('could not follow a primary', { err }));
  }

  private startFollowing(p: Peer): void {
    const link = p.out as PeerLink;
    const follower = new Follower(p.sid, this.election.epoch, link, this.d.sink, this.d.log, this.d.now, (why) => {
      // The stream broke (a gap, a failed write): drop the link; the next dial follows again. The
      // primary is alive and may hold a lease on our echoes: we honour it for the rest of the window.
      this.honourPrimaryUntil = Math.max(this.honourPrimaryUntil, follower.lastHeard + this.windowMs);
      this.standAfter = this.honourPrimaryUntil;
      link.close(`replication broke: ${why}`);
    });
    this.follower = follower;
    this.draining = this.follower.drained();
  }

  private primaryLost(why: string): void {
    if (this.role !== 'backup') return;
    this.d.log.warn('lost the primary', { primary: this.primarySid, why });
    if (this.follower !== undefined) {
      this.draining = this.follower.drained();
      this.follower.stop();
    }
    this.follower = undefined;
    this.lostPrimary = this.primarySid;
    this.primarySid = undefined;
    this.role = 'candidate';
    this.candidacy.restart();
  }

  private stepDown(why: string): void {
    if (this.role !== 'primary') return;
    this.d.log.warn('stepping down as primary; taking no more writes', { epoch: this.election.epoch, why });
    this.replicator?.close(`stepped down: ${why}`);
    this.replicator = undefined;
    this.role = 'candidate';
    this.primarySid = undefined;
    this.lostPrimary = this.cfg.self;
    this.leaseGate.settle();
    this.d.onStepDown(why);
    this.candidacy.schedule(this.windowMs);
  }

  private async becomePrimary(epoch: number): Promise<void> {
    await this.draining;
    if (this.stopped || this.role !== 'candidate' || this.election.epoch !== epoch) return;
    const previous = this.lostPrimary;
    this.role = 'primary';
    this.primarySid = this.cfg.self;
    this.replicator = new Replicator({
      mode: this.cfg.replication, quorum: this.quorum, epoch, tail: this.d.tail, snapshotJson: this.d.snapshotJson,
      ackTimeoutMs: this.windowMs, windowMs: this.windowMs, log: this.d.log, now: this.d.now,
      onLease: () => {
        // Only a lease that holds now answers the waiting reads: a late echo of an old round may extend one that is still over.
        if (this.leaseGate.size > 0 && this.replicator !== undefined && holdsLease(this.replicator.leaseUntil, this.d.now())) this.leaseGate.settle();
      },
      onDropped: () => {
        this.dropped++;
      },
    });
    const tookOver = previous !== undefined && previous !== this.cfg.self;
    if (tookOver) this.takeovers++;
    this.d.log.info('became the primary', { epoch, lastIndex: this.d.sink.position().lastIndex, previous: previous ?? null });
    for (const p of this.peers) this.sendBeat(p);
    await this.d.onPrimary(epoch);
    if (tookOver && this.role === 'primary') this.d.onTakeover(previous);
  }

  // ---- votes ----

  private async answerVote(p: Peer, link: PeerLink, m: VoteRequest): Promise<void> {
    const me = { log: this.d.sink.position(), epoch: this.election.epoch, votedFor: this.election.votedFor, hearsPrimary: this.hearsPrimary(), primarySid: this.primarySid };
    const refusal = voteRefusal(m, p.sid, me);
    const learned = refusal === undefined ? undefined : epochLearned(m, me);
    if (refusal?.rule === 'log') this.candidacy.standNow();
    if (refusal === undefined && m.t === 'vote') {
      await this.election.save({ epoch: m.epoch, votedFor: p.sid });
      if (this.role === 'primary') this.stepDown(`voted for member ${p.sid} in epoch ${m.epoch}`);
      // A backup that voted in a newer epoch takes no more records from its old primary: acking
      // one now could commit, with that primary, a write the new epoch's primary lacks (found by
      // the simulator, docs/CLUSTER.md).
      else if (this.follower !== undefined && this.follower.epoch < m.epoch) this.primaryLost(`voted for member ${p.sid} in the newer epoch ${m.epoch}`);
    } else if (learned !== undefined) {
      // Refused for its log, but the requester reached a newer epoch: take it up, or neither of us could win (vote-rules.ts).
      await this.election.save({ epoch: learned });
      if (this.role === 'primary') this.stepDown(`member ${p.sid} reached the newer epoch ${learned}`);
      else if (this.follower !== undefined && this.follower.epoch < learned) this.primaryLost(`member ${p.sid} reached the newer epoch ${learned}`);
    }
    link.send({ t: m.t === 'vote' ? 'vote-ans' : 'prevote-ans', epoch: m.epoch, granted: refusal === undefined, ...(refusal === undefined ? {} : { reason: refusal.reason }) });
  }

  private hearsPrimary(): boolean {
    if (this.role === 'primary') return this.hasMajority();
    const now = this.d.now();
    if (now <= this.honourPrimaryUntil) return true;
    return this.role === 'backup' && this.follower !== undefined && now - this.follower.lastHeard <= this.windowMs;
  }

  // ---- heartbeats ----

  private fresh(p: Peer, now: number): boolean {
    return p.lastHeard > 0 && now - p.lastHeard <= this.windowMs;
  }

  private hasMajority(): boolean {
    const now = this.d.now();
    return this.peers.filter((p) => this.fresh(p, now)).length + 1 >= this.quorum;
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.d.now();
    for (const p of this.peers) {
      if (p.out === undefined) this.dial(p);
      else this.sendBeat(p);
    }
    if (this.role === 'primary') {
      if (!this.hasMajority()) this.stepDown(`heard from fewer than ${this.quorum} of ${this.cfg.members.length} servers for ${this.windowMs} ms`);
      else this.replicator?.tick();
    } else if (this.role === 'backup') {
      const heard = this.follower?.lastHeard ?? this.followSince;
      if (now - heard > this.windowMs) this.primaryLost(`nothing from the primary for ${now - heard} ms`);
    } else {
      this.candidacy.schedule(0);
    }
  }
}
