// This server's place in the cluster: a driver of the cluster core (@dpns/cluster-core,
// docs/CLUSTER.md "The cluster core"), which holds every rule — elections, votes, the star, the
// read lease. This file turns sockets, timers, the disk and client requests into the core's
// events, and carries out the effects each step returns, in order: frames go out on the peer's
// link, election state and records reach the disk (fsynced) before the core hears they did, and
// the rest of the server hears of role changes and of its requests' answers.
//
// A member dials every other one and accepts their links: requests (beats, votes, follow, acks)
// go on the link it dialed, answers and the primary's stream on the one it accepted
// (peer-transport.ts). The core sees one link per member: up once ours is dialed, down once either
// closes (the other is then closed too, and the next heartbeat dials again).
import { randomInt } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { DpnsError, type ClusterHello, type Result, type ServerRole, type ServerStatus } from '@dpns/protocol';
import { ClusterCore, quorumOf, failureWindowMs, type Answer, type Beat, type CoreEvent, type Effect, type PeerMessage, type RefusalCode, type WireRecord } from '@dpns/cluster-core';
import type { Logger } from '../log.js';
import { CatchUpPriority } from './catch-up-priority.js';
import type { LogRecord } from '../registry/ops.js';
import { isConfigChange, type ClusterMembers } from '../registry/cluster-members.js';
import type { ClusterConfig } from './cluster-config.js';
import { ElectionState } from './election-state.js';
import { memberListId, PeerLink, type ClusterKey } from './peer-link.js';
import { goesOnDialedLink, PeerTransportLink } from './peer-transport.js';
import type { SnapshotText } from './snapshot-transfer.js';
import type { Replica } from './replica.js';

/** The log as this server found it on disk at start: after the snapshot at `baseIndex` (epoch `baseEpoch`), `records`. */
export interface RecoveredLog {
  baseIndex: number;
  baseEpoch: number;
  records: readonly WireRecord[];
  /** The voters at `baseIndex`, as the snapshot there says (undefined: the --cluster list's). */
  voters?: readonly number[] | undefined;
}

export interface ClusterDeps {
  dataDir: string;
  key: ClusterKey;
  log: Logger;
  now: () => number;
  recovered: RecoveredLog;
  /** Records kept in memory for backups to catch up from; one further behind gets a snapshot. */
  tailCapacity: number;
  sink: Replica;
  /** Everything up to `index` is committed (a record the core made, such as a new epoch's first). */
  settled: (index: number) => void;
  /**
   * A snapshot for a backup (snapshot-transfer.ts) at `floor` or later (the core's log holds
   * every record after `floor`): the newest on disk, or the registry now.
   */
  snapshotForBackup: (floor: number) => Promise<SnapshotText>;
  /** The index of the newest snapshot on disk, if any: the core's log keeps the records after it. */
  storedSnapshotIndex: () => number | undefined;
  /** This server just became primary of `epoch`; resolves once it takes writes. */
  onPrimary: (epoch: number) => Promise<void>;
  /** This server stopped being primary. */
  onStepDown: (why: string) => void;
  /** This server's role or the primary it knows of changed: what `hello()` says now is news to its clients. */
  onClusterChange: () => void;
  /** This server took over from primary `previous`, which is gone. */
  onTakeover: (previous: number) => void;
  /** The disk failed (or the core halted): the server stops. */
  fatal: (err: unknown) => void;
  /** The cluster's configuration as the registry holds it (the newest configuration record applied, or a snapshot's). */
  members: () => ClusterMembers | undefined;
  /** This server's removal from the voters is committed: it takes no further part, and the server stops. */
  removed: (why: string) => void;
}

interface Peer {
  sid: number;
  /** ws://HOST:PORT; undefined for a member whose address this one does not know (it can only be dialed by it). */
  url: string | undefined;
  out: PeerTransportLink | undefined;
  inbound: PeerTransportLink | undefined;
  dialing: boolean;
  lastHeard: number;
  beat: Beat | undefined;
}

/** A SID this server does not know yet: a joining server's until the primary dials it (cluster-config.ts). */
const NO_SID = -1;

/** What requests still waiting get when the server stops. */
const SHUT_DOWN: Answer = { ok: false, code: 'NOT_PRIMARY', outcome: 'unknown' };

/** A client request waiting for the core's answer. */
interface Waiting {
  answer: Answer | undefined;
  resolve: ((a: Answer) => void) | undefined;
}

export class ClusterNode {
  role: ServerRole = 'candidate';
  primarySid: number | undefined;
  /** How many times this server took over from another primary. */
  takeovers = 0;
  /** Backups dropped from the star for not acknowledging. */
  dropped = 0;
  /** The voters as the core last reported them (a `members` effect), in SID order. */
  voters: readonly number[];
  private election!: ElectionState;
  private core!: ClusterCore;
  private readonly peers: Peer[] = [];
  /** Events waiting their turn; a write's carries the index the store gave its record. */
  private readonly events: { ev: CoreEvent; at: number | undefined; index: number | undefined }[] = [];
  private stepping = false;
  private stopped = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private lostPrimary: number | undefined;
  private nextReq = 0;
  private readonly waiting = new Map<number, Waiting>();
  /** A snapshot made for a backup (by SID), from `make-snapshot` until the core sends it (in the same step). */
  private readonly snapshotsMade = new Map<number, SnapshotText>();
  /** The client request of each record the committer appended (by index), until it is committed. */
  private readonly writes = new Map<number, number>();
  /** Records the core made itself and stored here as primary, waiting to be committed. */
  private ownRecords: number[] = [];
  /** The time writeRefusal last looked at, so that a write it let through is taken at that time. */
  private checkedAt: number | undefined;
  /** Resolves start() for a cluster of one: once it is primary and its epoch's first record is committed. */
  private primaryReady: (() => void) | undefined;
  /** The epoch whose onPrimary has run. */
  private primaryOf: number | undefined;
  readonly quorum: number;
  readonly windowMs: number;
  private readonly listId: string;
  /** HOST:PORT of members added after the --cluster list, by SID (from configuration records; never reused). */
  private readonly addrs = new Map<number, string>();
  /** This server's threads run at a lower priority while it takes a primary's snapshot (catch-up-priority.ts). */
  private readonly catchUp: CatchUpPriority;
  /** This server's SID: the --cluster list's place, or (joining) the one it was added with; NO_SID until known. */
  private self: number;
  /** Whether this server has been a voter since it started (so that leaving the voters is a removal). */
  private wasVoter = false;
  /** The configuration record that removed this server, once the core said so. */
  private removedAt: number | undefined;
  private started = false;

  constructor(readonly cfg: ClusterConfig, private readonly d: ClusterDeps) {
    const members = cfg.members.length;
    this.quorum = quorumOf({ members, twoNodeFailover: cfg.twoNodeFailover });
    this.windowMs = failureWindowMs({ heartbeatMs: cfg.clusterHeartbeatMs, misses: cfg.clusterMisses });
    this.listId = memberListId(cfg.members);
    this.voters = cfg.members.map((_, sid) => sid);
    this.self = cfg.self;
    this.catchUp = new CatchUpPriority(d.log);
  }

  /** This server's SID (-1: joining, not dialed by the primary yet). */
  get sid(): number {
    return this.self;
  }

  /** Where member `sid` listens: the --cluster list's entry, or the address its configuration record gave. */
  private addrOf(sid: number): string | undefined {
    return sid >= 0 && sid < this.cfg.members.length ? this.cfg.members[sid] : this.addrs.get(sid);
  }

  /** The address book from the registry (configuration records, snapshots): known members get peers. */
  private learnAddresses(): void {
    for (const [sid, addr] of this.d.members()?.addrs ?? []) this.addrs.set(sid, addr);
    if (this.self === NO_SID && this.cfg.join) {
      // A joining server restarted after its add: its own address is in its log.
      for (const [sid, addr] of this.addrs) if (addr === this.cfg.address) this.self = sid;
    }
    for (const p of this.peers) p.url ??= this.urlOf(p.sid);
  }

  private urlOf(sid: number): string | undefined {
    const a = this.addrOf(sid);
    return a === undefined ? undefined : `ws://${a}`;
  }

  /** The peer for member `sid`, made if this server knows of it. */
  private peerFor(sid: number): Peer | undefined {
    if (sid === this.self || sid < 0) return undefined;
    let p = this.peer(sid);
    if (p === undefined) {
      p = { sid, url: this.urlOf(sid), out: undefined, inbound: undefined, dialing: false, lastHeard: 0, beat: undefined };
      this.peers.push(p);
    }
    return p;
  }

  get epoch(): number {
    return this.core.epoch;
  }

  /** The voters' ws:// URLs, in SID order. */
  get urls(): string[] {
    return this.voters.flatMap((sid) => this.urlOf(sid) ?? []);
  }

  get primaryUrl(): string | undefined {
    return this.primarySid === undefined ? undefined : this.urlOf(this.primarySid);
  }

  /** Reads the persisted epoch and vote; before the port opens, since every hello and beat needs them. */
  async init(): Promise<void> {
    this.election = await ElectionState.open(this.d.dataDir);
    this.learnAddresses();
    this.makeCore();
  }

  /**
   * The core for this server's SID. A joining server that does not know its SID yet gets one that
   * is never stepped (it answers every request NOT_PRIMARY) until the primary dials it with one.
   */
  private makeCore(): void {
    const r = this.d.recovered;
    this.core = new ClusterCore({
      cfg: {
        self: this.self === NO_SID ? Number.MAX_SAFE_INTEGER : this.self, members: this.cfg.members.length, replication: this.cfg.replication,
        heartbeatMs: this.cfg.clusterHeartbeatMs, misses: this.cfg.clusterMisses, twoNodeFailover: this.cfg.twoNodeFailover,
        readFromBackups: this.cfg.readFromBackups, tailCapacity: this.d.tailCapacity, seed: randomInt(2 ** 31),
      },
      epoch: this.election.epoch, votedFor: this.election.votedFor, records: r.records, baseIndex: r.baseIndex, baseEpoch: r.baseEpoch,
      ...(r.voters === undefined ? {} : { voters: r.voters }),
    });
    this.voters = this.core.voters;
    this.wasVoter = this.core.voters.includes(this.self);
    for (const sid of this.voters) this.peerFor(sid);
  }

  async start(): Promise<void> {
    if (this.self === NO_SID) {
      this.d.log.info('joining the cluster: waiting for the primary to dial this server (an admin runs dpns servers add)', {
        address: this.cfg.address, members: this.cfg.members,
      });
      return;
    }
    this.d.log.info('cluster member starting', {
      sid: this.self, members: this.cfg.members, voters: this.voters, epoch: this.core.epoch, quorum: this.core.quorum, replication: this.cfg.replication,
      ...(this.voters.includes(this.self) ? {} : { learner: true }),
    });
    this.started = true;
    this.tickTimer = setInterval(() => this.step({ kind: 'tick' }), this.cfg.clusterHeartbeatMs);
    this.tickTimer.unref();
    // A cluster of one elects itself at once, and is primary when this returns; others first listen for a primary for a while.
    const alone = this.voters.every((sid) => sid === this.self) && this.voters.includes(this.self);
    const ready = alone ? new Promise<void>((resolve) => (this.primaryReady = resolve)) : Promise.resolve();
    this.step({ kind: 'start' });
    await ready;
  }

  /** A joining server was dialed as member `sid`: that is its SID from now on. */
  private learnSid(sid: number): void {
    this.self = sid;
    this.d.log.info('joining the cluster as SID ' + String(sid) + ': catching up from the primary as a learner', { sid, address: this.cfg.address });
    this.makeCore();
    void this.start();
  }

  stop(): void {
    this.stopped = true;
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
    for (const w of this.waiting.values()) w.resolve?.(SHUT_DOWN);
    this.waiting.clear();
    this.primaryReady?.();
    for (const p of this.peers) {
      p.out?.close('name server shutting down');
      p.inbound?.close('name server shutting down');
    }
    this.catchUp.restore();
  }

  // ---- what the rest of the server asks ----

  /** Why this server cannot take a write now, or undefined when it can. */
  writeRefusal(): DpnsError | undefined {
    const now = this.d.now();
    this.checkedAt = now;
    const code = this.core.writeRefusal(now);
    return code === undefined ? undefined : this.refusalError(code);
  }

  private refusalError(code: RefusalCode): DpnsError {
    if (code !== 'NO_QUORUM' || this.role !== 'primary') {
      const primary = this.primaryUrl;
      return new DpnsError('NOT_PRIMARY', primary === undefined
        ? `this server (SID ${this.self}) is a ${this.role} and knows of no primary yet; retry shortly`
        : `this server (SID ${this.self}) is a backup; send writes to the primary at ${primary}`, {
        details: { role: this.role, ...(primary === undefined ? {} : { primary }) },
      });
    }
    return new DpnsError('NO_QUORUM', `this primary hears from fewer than ${this.core.quorum} of the ${this.voters.length} servers, so it takes no writes; it steps down if that lasts`, {
      details: { quorum: this.core.quorum },
    });
  }

  /**
   * Whether this server may answer reads itself: the primary while it holds its read lease, or a
   * backup that serves reads, hears its primary, and has caught up with it since it began
   * following. A primary without a lease sends a lease round at once and the read waits for the
   * echoes, at most one heartbeat; then it is answered, or refused NOT_PRIMARY (a deposed primary
   * learns of its successor meanwhile, and names it).
   */
  readRefusal(): DpnsError | undefined | Promise<DpnsError | undefined> {
    const asked = this.ask((req) => ({ kind: 'read', req }));
    const toError = (a: Answer): DpnsError | undefined => (a.ok ? undefined : this.readError(a));
    return asked instanceof Promise ? asked.then(toError) : toError(asked);
  }

  private readError(a: Answer & { ok: false }): DpnsError {
    if (this.role === 'primary' && a.code === 'NOT_PRIMARY') {
      return new DpnsError('NOT_PRIMARY', `this server (SID ${this.self}) was the primary of epoch ${this.core.epoch} but has not heard from a majority recently enough to be sure it still is, so it answers no reads; ask another server`, {
        details: { role: this.role },
      });
    }
    return this.refusalError(a.code);
  }

  /** A record was appended on the primary (by the committer, after writeRefusal let it through). */
  appended(index: number, rec: LogRecord): void {
    const req = this.nextReq++;
    this.writes.set(index, req);
    this.waiting.set(req, { answer: undefined, resolve: undefined });
    this.step({ kind: 'write', req, data: { ...rec } }, this.checkedAt, index);
  }

  /**
   * Records from `firstIndex` on never reached this server's disk. A server alone forgets them;
   * in a cluster backups may already hold them, so they cannot be taken back (the caller stops).
   */
  takeBack(firstIndex: number): boolean {
    if (this.voters.some((sid) => sid !== this.self)) return false;
    for (const [index, req] of [...this.writes]) {
      if (index < firstIndex) continue;
      this.writes.delete(index);
      this.waiting.delete(req);
    }
    this.step({ kind: 'taken-back', from: firstIndex });
    return true;
  }

  /** The primary's disk has everything up to `index`; resolves once it is committed. */
  committed(index: number): Promise<void> {
    const req = this.writes.get(index);
    if (req === undefined) return Promise.reject(this.writeRefusal() ?? this.notPrimaryError());
    this.step({ kind: 'durable', index });
    const w = this.waiting.get(req);
    const settle = (a: Answer): void => {
      this.writes.delete(index);
      if (!a.ok) throw this.writeError(a);
    };
    if (w === undefined) return Promise.reject(this.notPrimaryError());
    if (w.answer !== undefined) {
      this.waiting.delete(req);
      try {
        settle(w.answer);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    return new Promise<Answer>((resolve) => (w.resolve = resolve)).then(settle);
  }

  private writeError(a: Answer & { ok: false }): DpnsError {
    if (a.code === 'NO_QUORUM') return new DpnsError('NO_QUORUM', 'the write was not stored on a majority of the cluster in time; retry it with the same requestId', {});
    if (a.outcome === 'unknown') return this.notPrimaryError();
    return this.refusalError(a.code);
  }

  private notPrimaryError(): DpnsError {
    return new DpnsError('NOT_PRIMARY', 'this server stopped being the primary before the write was committed; retry it with the same requestId', { details: { role: this.role } });
  }

  hello(): ClusterHello {
    const primary = this.primaryUrl;
    return {
      sid: this.self, role: this.role, epoch: this.core.epoch, servers: this.urls, readFromBackups: this.cfg.readFromBackups, notifies: true,
      ...(primary === undefined ? {} : { primary }),
    };
  }

  /** What the `servers` method answers. */
  serversResult(): Result<'servers'> {
    const primary = this.primarySid;
    return { self: this.self, epoch: this.core.epoch, replication: this.cfg.replication, servers: this.status(), ...(primary === undefined ? {} : { primary }) };
  }

  status(): ServerStatus[] {
    const now = this.d.now();
    const match = this.core.matchIndexes();
    const head = this.role === 'primary' ? this.core.log.lastIndex : Math.max(0, ...this.peers.map((p) => (p.beat?.role === 'primary' ? p.beat.lastIndex : 0)));
    // The voters, and this server while it joins (a learner) or after it was removed.
    const listed = this.voters.includes(this.self) || this.self === NO_SID ? this.voters : [...this.voters, this.self].sort((a, b) => a - b);
    return listed.map((sid): ServerStatus => {
      const url = this.urlOf(sid) ?? '';
      if (sid === this.self) {
        const applied = this.d.sink.applied();
        return { sid, url, self: true, connected: true, role: this.role, epoch: this.core.epoch, lastIndex: applied, lag: Math.max(0, head - applied) };
      }
      const p = this.peerFor(sid) as Peer;
      const out: ServerStatus = { sid, url, self: false, connected: this.fresh(p, now) };
      if (p.lastHeard > 0) out.lastHeardMs = now - p.lastHeard;
      // A member we no longer hear has no role we could vouch for; its last epoch and index still say how far it got.
      if (p.beat !== undefined) Object.assign(out, { epoch: p.beat.epoch, lastIndex: p.beat.lastIndex }, out.connected ? { role: p.beat.role } : {});
      const matched = match.get(sid);
      const last = matched ?? p.beat?.lastIndex;
      if (last !== undefined && head > 0) out.lag = Math.max(0, head - last);
      if (matched !== undefined) out.lastIndex = Math.max(out.lastIndex ?? 0, matched);
      return out;
    });
  }

  /** Replication lag of each backup in records, as the primary sees it (empty elsewhere). */
  lagBySid(): Map<number, number> {
    const out = new Map<number, number>();
    if (this.role !== 'primary') return out;
    const match = this.core.matchIndexes();
    const head = this.core.log.lastIndex;
    for (const p of this.peers) out.set(p.sid, head - (match.get(p.sid) ?? p.beat?.lastIndex ?? 0));
    return out;
  }

  /** When member `sid` was last heard from (0: never). */
  lastHeard(sid: number): number {
    return this.peers.find((x) => x.sid === sid)?.lastHeard ?? 0;
  }

  /** Whether this server is the primary of `epoch` still. */
  isPrimaryOf(epoch: number): boolean {
    return this.role === 'primary' && this.core.epoch === epoch;
  }

  // ---- links ----

  acceptPeer(ws: WebSocket, req: IncomingMessage): void {
    PeerLink.accept(ws, req, this.d.key, this.listId, this.self === NO_SID ? undefined : this.self, this.windowMs + 1000).then((link) => {
      if (this.stopped) return link.close('name server shutting down');
      if (this.self === NO_SID) this.learnSid(link.selfSid);
      else if (link.selfSid !== this.self) return link.close(`this server is SID ${this.self}, not ${link.selfSid}`);
      const p = this.peerFor(link.peerSid) as Peer;
      const t = new PeerTransportLink(link);
      const old = p.inbound;
      p.inbound = t;
      old?.close('replaced by a new link from the same member');
      p.lastHeard = this.d.now();
      t.onMessage = (m) => {
        // Requests come on the link the other end dialed; anything else here is not ours to answer.
        if (goesOnDialedLink(m)) this.heard(p, m);
      };
      t.onClose = () => {
        if (p.inbound !== t) return;
        p.inbound = undefined;
        // The member's stream (if it follows us) went with it: the core hears the link is down.
        p.out?.close('the link from the same member closed');
        if (p.out === undefined) this.step({ kind: 'link-down', peer: p.sid });
      };
    }, (err: unknown) => this.d.log.warn('refused a peer link', { remote: req.socket.remoteAddress, why: (err as Error).message }));
  }

  private dial(p: Peer): void {
    if (p.dialing || p.out !== undefined || this.stopped || p.url === undefined) return;
    p.dialing = true;
    PeerLink.dial(p.url, this.d.key, this.listId, this.self, p.sid, this.windowMs + 1000).then((link) => {
      p.dialing = false;
      if (this.stopped) return link.close('name server shutting down');
      const t = new PeerTransportLink(link);
      p.out = t;
      p.lastHeard = this.d.now();
      t.onMessage = (m) => {
        // Answers and the primary's stream come on the link we dialed; requests never do.
        if (!goesOnDialedLink(m)) this.heard(p, m);
      };
      t.onSnapshotComing = () => this.catchUp.lower();
      t.onClose = (why) => {
        // The primary's stream went with the link: nothing more comes to give the CPU to.
        this.catchUp.restore();
        if (p.out !== t) return;
        p.out = undefined;
        this.d.log.debug('a link to a cluster member closed', { sid: p.sid, why });
        this.step({ kind: 'link-down', peer: p.sid });
      };
      this.step({ kind: 'link-up', peer: p.sid });
    }, (err: unknown) => {
      p.dialing = false;
      const why = (err as Error).message;
      // A member that answers but does not match (another list, another key) is a configuration error worth seeing.
      if (/--cluster list|cluster key|not a dpns cluster member/.test(why)) this.d.log.warn('a cluster member refused us, or we it', { sid: p.sid, why });
      else this.d.log.debug('cannot reach a cluster member', { sid: p.sid, why });
    });
  }

  private heard(p: Peer, m: PeerMessage): void {
    p.lastHeard = this.d.now();
    if (m.t === 'beat') p.beat = m;
    this.step({ kind: 'message', from: p.sid, m });
  }

  // ---- the core ----

  /** Asks the core a client's question; the answer, at once if the core gave it in the same step. */
  private ask(ev: (req: number) => CoreEvent): Answer | Promise<Answer> {
    if (this.stopped) return SHUT_DOWN;
    const req = this.nextReq++;
    const w: Waiting = { answer: undefined, resolve: undefined };
    this.waiting.set(req, w);
    this.step(ev(req));
    if (w.answer !== undefined) {
      this.waiting.delete(req);
      return w.answer;
    }
    return new Promise<Answer>((resolve) => (w.resolve = resolve));
  }

  /**
   * Steps the core with `ev` and carries out its effects. Events that arise while effects are
   * carried out (a link closed by one) wait their turn, so the core sees one event at a time.
   */
  private step(ev: CoreEvent, at?: number, index?: number): void {
    if (this.stopped) return;
    // A write is taken at the time writeRefusal let it through, unless other events come first.
    this.events.push({ ev, at: this.stepping ? undefined : at, index });
    if (this.stepping) return;
    this.stepping = true;
    // The newest snapshot on disk, as it is now (a snapshot written, or one installed): its records are kept.
    const stored = this.d.storedSnapshotIndex();
    if (stored !== undefined) this.core.keepLogAfter(stored);
    try {
      while (this.events.length > 0 && !this.stopped) {
        const next = this.events.shift() as (typeof this.events)[number];
        for (const e of this.core.step(next.ev, next.at ?? this.d.now())) this.apply(e);
        // The core numbers records as the store does: both logs end at the same index, or the member stops.
        if (next.index !== undefined && this.core.log.lastIndex !== next.index) {
          this.d.fatal(new Error(`the cluster core's log ends at ${this.core.log.lastIndex}, the store's at ${next.index}`));
        }
      }
    } finally {
      this.stepping = false;
      this.checkedAt = undefined;
      // A catch-up ends when this backup holds what its primary held when it began to follow (which
      // also renews its time at a lower priority, used up or not), or it follows none.
      if (this.core.role === 'backup' && this.core.followingCaughtUp) this.catchUp.restore(true);
      else if (this.catchUp.lowered && this.core.role !== 'backup') this.catchUp.restore();
    }
    this.settleOwn();
    this.checkReady();
    this.checkMembership();
  }

  private checkReady(): void {
    if (this.primaryReady === undefined || this.primaryOf === undefined || !this.isPrimaryOf(this.primaryOf) || this.core.knownCommitted === undefined) return;
    this.primaryReady();
    this.primaryReady = undefined;
  }

  private apply(e: Effect): void {
    switch (e.kind) {
      case 'send': {
        const p = this.peer(e.to);
        const link = goesOnDialedLink(e.m) ? p?.out : p?.inbound;
        const made = e.m.t === 'snap' ? this.snapshotsMade.get(e.to) : undefined;
        if (made !== undefined && e.m.t === 'snap' && made.index === e.m.index) {
          this.snapshotsMade.delete(e.to);
          link?.sendSnapshot(e.m, made.pieces, made.bytes);
          return;
        }
        link?.send(e.m);
        return;
      }
      case 'dial': {
        const p = this.peerFor(e.peer);
        if (p !== undefined) this.dial(p);
        return;
      }
      case 'close-link': {
        const p = this.peer(e.peer);
        if (e.why.startsWith('dropped from the star')) {
          this.dropped++;
          this.d.log.warn('dropped a backup from the star', { sid: e.peer, why: e.why });
        }
        p?.inbound?.close(e.why);
        p?.out?.close(e.why);
        return;
      }
      case 'persist':
        return this.persist(e.epoch, e.votedFor);
      case 'store':
        return this.store(e.recs);
      case 'install':
        return this.install(e.index, e.data);
      case 'make-snapshot':
        // The core passes a snapshot through to its `snap` frame untouched: its text stays here,
        // in the parts it was made in or the stored file's bytes, and goes from them to the link
        // (one string of a million names' text would cost a copy that holds every request up).
        this.d.snapshotForBackup(this.core.snapshotFloor).then((made) => {
          this.d.log.info('a snapshot for a backup', { sid: e.peer, index: made.index, bytes: made.bytes, source: made.source, ...(made.why === undefined ? {} : { why: made.why }) });
          this.snapshotsMade.set(e.peer, made);
          this.step({ kind: 'snapshot-made', peer: e.peer, index: made.index, data: '' });
          // Not sent (the stream was let go meanwhile): not kept either.
          if (this.snapshotsMade.get(e.peer) === made) void made.pieces.return(undefined);
          this.snapshotsMade.delete(e.peer);
        }, (err: unknown) => {
          this.d.log.error('could not serialise a snapshot for a backup', { sid: e.peer, err });
          this.apply({ kind: 'close-link', peer: e.peer, why: 'no snapshot could be made' });
        });
        return;
      case 'role':
        return this.roleChanged(e.role, e.epoch, e.primary);
      case 'answer': {
        const w = this.waiting.get(e.req);
        if (w === undefined) return;
        if (w.resolve === undefined) {
          w.answer = e.answer;
          return;
        }
        this.waiting.delete(e.req);
        w.resolve(e.answer);
        return;
      }
      case 'members':
        return this.membersChanged(e.voters, e.index, e.member);
      case 'wake':
        if (this.wakeTimer !== undefined) clearTimeout(this.wakeTimer);
        this.wakeTimer = setTimeout(() => {
          this.wakeTimer = undefined;
          this.step({ kind: 'wake' });
        }, Math.max(0, Math.ceil(e.at - this.d.now())));
        this.wakeTimer.unref();
        return;
      case 'halt':
        this.d.log.error('the cluster core stopped this member', { why: e.why });
        this.d.fatal(new Error(`cluster member halted: ${e.why}`));
        this.primaryReady?.();
        return;
    }
  }

  private peer(sid: number): Peer | undefined {
    return this.peers.find((p) => p.sid === sid);
  }

  /** The election state reaches the disk before the core hears it did; elections wait on it, in order. */
  private persist(epoch: number, votedFor: number | undefined): void {
    try {
      this.election.save({ epoch, ...(votedFor === undefined ? {} : { votedFor }) });
    } catch (err) {
      this.d.log.error('could not save the election state', { err });
      this.step({ kind: 'disk-failed' });
      return;
    }
    // Queued behind the effects of the step that asked for it (step() takes one event at a time).
    this.step({ kind: 'persisted' });
  }

  private store(recs: readonly WireRecord[]): void {
    const last = (recs.at(-1) as WireRecord).i;
    // An added member's address comes with its configuration record: known before the record is applied.
    for (const r of recs) {
      const c = r.d.config;
      if (isConfigChange(c) && c.change.op === 'add' && c.change.addr !== undefined) this.addrs.set(c.change.sid, c.change.addr);
    }
    // The committer appended (and fsyncs) its own writes already; it tells us through committed().
    if (last <= this.d.sink.lastIndex()) return;
    let durable: Promise<void>;
    try {
      if (this.role === 'primary') {
        durable = this.d.sink.appendOwn(recs);
        this.ownRecords.push(last);
      } else {
        durable = this.d.sink.append(recs);
      }
    } catch (err) {
      durable = Promise.reject(err as Error);
    }
    durable.then(() => this.step({ kind: 'durable', index: last }), (err: unknown) => {
      this.d.log.error('could not store records', { last, err });
      this.step({ kind: 'disk-failed' });
    });
  }

  private install(index: number, data: string | Uint8Array): void {
    const started = this.d.now();
    // Installed, this backup still has the records written meanwhile to take: step() gives the priority back once it has.
    this.d.sink.install(index, data).then((lastEpoch) => {
      this.d.log.info('installed a snapshot from the primary', { index, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength, ms: this.d.now() - started });
      this.learnAddresses();
      this.step({ kind: 'installed', index, lastEpoch });
    }, (err: unknown) => {
      this.d.log.error('could not install the primary\'s snapshot', { index, err });
      this.step({ kind: 'disk-failed' });
    });
  }

  // ---- membership (docs/CLUSTER.md, "Membership changes") ----

  /** The core says who votes from log index `index` on: links to new voters, and whether this server is still one. */
  private membersChanged(voters: readonly number[], index: number, member: boolean): void {
    const before = this.voters;
    this.voters = voters;
    for (const sid of voters) {
      const p = this.peerFor(sid);
      if (p !== undefined && p.url === undefined) this.d.log.warn('a voter\'s address is unknown: it can only be reached by its own dial', { sid, index });
    }
    const added = voters.filter((sid) => !before.includes(sid));
    const gone = before.filter((sid) => !voters.includes(sid));
    if (added.length > 0 || gone.length > 0) this.d.log.info('the cluster\'s voters changed', { voters, index, added, removed: gone, member });
    if (member) {
      this.wasVoter = true;
      this.removedAt = undefined;
    } else if (this.wasVoter) {
      this.removedAt = index;
    }
  }

  /**
   * Once its removal is committed, a removed server takes no further part. The primary keeps a
   * removed member's link while it is heard (its stream tells it the removal committed, and it then
   * stops); a removed member no longer heard has its links dropped and is not dialed again.
   */
  private checkMembership(): void {
    const committed = this.core.committedSeen;
    if (this.removedAt !== undefined && committed >= this.removedAt && !this.stopped) {
      const why = `this server (SID ${this.self}) was removed from the cluster's voters by the configuration record at index ${this.removedAt}, now committed; it takes no further part and stops (start it again with --join, and an empty data directory, to add it back)`;
      this.d.log.warn('removed from the cluster', { sid: this.self, index: this.removedAt, voters: this.voters });
      this.stop();
      this.d.removed(why);
      return;
    }
    if (this.role !== 'primary') return;
    const known = this.core.knownCommitted ?? -1;
    const configIndex = this.core.configIndex;
    if (known < configIndex) return;
    for (const p of this.peers) {
      if (this.voters.includes(p.sid) || p.sid === this.joining) continue;
      if (this.fresh(p, this.d.now())) continue;
      if (p.out !== undefined || p.inbound !== undefined) {
        p.out?.close('removed from the cluster');
        p.inbound?.close('removed from the cluster');
      }
    }
  }

  /** The member being added while it catches up (its links stay), if any. */
  private joining: number | undefined;

  /**
   * Adds the server at `address` as a voter (op add), or removes member `sid` (op remove); resolves
   * once the configuration record is committed, or rejects with a DpnsError saying why not.
   * An added member gets the next unused SID: one past the highest the cluster ever had (the
   * --cluster list's, and every member added since), so a SID never names two servers.
   */
  async changeMembers(change: { op: 'add'; address: string } | { op: 'remove'; sid: number }): Promise<Result<'servers.add'>> {
    const refusal = this.writeRefusal();
    if (refusal !== undefined) throw refusal;
    let sid: number;
    let address: string;
    if (change.op === 'add') {
      address = change.address;
      const voter = this.voters.find((v) => this.addrOf(v) === address);
      sid = voter ?? this.nextSid();
      if (voter === undefined) this.addrs.set(sid, address);
    } else {
      sid = change.sid;
      if (!this.voters.includes(sid)) {
        throw new DpnsError('MEMBERSHIP_CHANGE_INVALID', `SID ${sid} is not a voter of this cluster (the voters are ${this.voters.join(', ')}; dpns servers lists them): nothing to remove`, { details: { sid, voters: [...this.voters] } });
      }
      address = this.addrOf(sid) ?? '';
    }
    if (change.op === 'add') this.joining = sid;
    let a: Answer;
    try {
      a = await this.ask((req) => ({ kind: 'members', req, op: change.op, sid, ...(change.op === 'add' ? { addr: address } : {}) }));
    } finally {
      if (this.joining === sid) this.joining = undefined;
    }
    if (!a.ok) {
      // An address given for a SID that never made it into a record is forgotten: the SID is free again.
      if (change.op === 'add' && !(this.d.members()?.addrs ?? []).some(([s]) => s === sid) && !this.voters.includes(sid)) this.addrs.delete(sid);
      throw this.membershipError(a, change.op, sid, address);
    }
    return { sid, address, voters: [...this.voters], index: a.index };
  }

  /** One past the highest SID the cluster ever had. */
  private nextSid(): number {
    return Math.max(this.cfg.members.length - 1, ...this.voters, ...this.addrs.keys(), ...(this.d.members()?.addrs ?? []).map(([s]) => s)) + 1;
  }

  private membershipError(a: Answer & { ok: false }, op: 'add' | 'remove', sid: number, address: string): DpnsError {
    const details = { sid, address, voters: [...this.voters] };
    switch (a.code) {
      case 'MEMBERSHIP_CHANGE_PENDING':
        return new DpnsError('MEMBERSHIP_CHANGE_PENDING', 'another membership change (or this primary\'s first record) is not committed yet; nothing was changed: wait for it to finish (dpns servers shows the voters) and try again', { details });
      case 'MEMBER_NOT_CAUGHT_UP':
        return new DpnsError('MEMBER_NOT_CAUGHT_UP', `the server at ${address} (SID ${sid}) did not catch up with the primary within ${this.windowMs * 4} ms; nothing was changed: check that it runs with --join, the same --cluster list and nameserver.key, --self ${address}, and that the primary can reach it there, then try again`, { details });
      case 'MEMBERSHIP_CHANGE_INVALID':
        return new DpnsError('MEMBERSHIP_CHANGE_INVALID', op === 'remove'
          ? `SID ${sid} is the cluster's last voter and cannot be removed; add another member first`
          : `the cluster cannot add SID ${sid} (${address}); nothing was changed`, { details });
      case 'NOT_PRIMARY':
      case 'NO_QUORUM':
        return a.outcome === 'unknown'
          ? new DpnsError('NOT_PRIMARY', `this server stopped being the primary before the change was committed; it may yet take effect: run dpns servers to see the voters, then try again at the new primary`, { details: { role: this.role } })
          : this.refusalError(a.code);
    }
  }

  /** Records the core made itself are settled (watchers, reads held for them) once committed. */
  private settleOwn(): void {
    if (this.ownRecords.length === 0) return;
    const committed = this.core.knownCommitted;
    if (committed === undefined) {
      if (this.role !== 'primary') this.ownRecords = [];
      return;
    }
    while (this.ownRecords.length > 0 && (this.ownRecords[0] as number) <= committed) this.d.settled(this.ownRecords.shift() as number);
  }

  private roleChanged(role: ServerRole, epoch: number, primary: number | undefined): void {
    const was = this.role;
    const wasPrimarySid = this.primarySid;
    this.role = role;
    this.primarySid = primary;
    // Before a primary that steps down closes its connections: their clients learn where to go.
    if (was !== role || wasPrimarySid !== primary) this.d.onClusterChange();
    if (was === 'backup' && role !== 'backup') this.lostPrimary = wasPrimarySid;
    if (role === 'backup') {
      this.d.log.info('following the primary', { primary, epoch });
    } else if (role === 'primary') {
      const previous = this.lostPrimary;
      const tookOver = previous !== undefined && previous !== this.self;
      if (tookOver) this.takeovers++;
      this.d.log.info('became the primary', { epoch, lastIndex: this.core.log.lastIndex, previous: previous ?? null });
      this.d.onPrimary(epoch).then(() => {
        this.primaryOf = epoch;
        this.checkReady();
        if (tookOver && this.isPrimaryOf(epoch)) this.d.onTakeover(previous);
      }, (err: unknown) => this.d.log.error('taking over as primary failed', { epoch, err }));
    } else if (was === 'backup') {
      this.d.log.warn('lost the primary', { primary: wasPrimarySid, epoch });
    }
    if (was === 'primary' && role !== 'primary') {
      this.lostPrimary = this.self;
      const why = `no longer the primary of epoch ${epoch}`;
      this.d.log.warn('stepping down as primary; taking no more writes', { epoch, why });
      // A primary that removed itself steps down in the step that answers the change: the answer
      // goes out first, then the connections are closed.
      if (this.removedAt !== undefined) setImmediate(() => this.d.onStepDown(why));
      else this.d.onStepDown(why);
    }
  }

  // ---- heartbeats ----

  private fresh(p: Peer, now: number): boolean {
    return p.lastHeard > 0 && now - p.lastHeard <= this.windowMs;
  }
}
