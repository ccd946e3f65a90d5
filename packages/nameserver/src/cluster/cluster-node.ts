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
import type { LogRecord } from '../registry/ops.js';
import type { ClusterConfig } from './cluster-config.js';
import { ElectionState } from './election-state.js';
import { memberListId, PeerLink, type ClusterKey } from './peer-link.js';
import { goesOnDialedLink, PeerTransportLink } from './peer-transport.js';
import type { Replica } from './replica.js';

/** The log as this server found it on disk at start: after the snapshot at `baseIndex` (epoch `baseEpoch`), `records`. */
export interface RecoveredLog {
  baseIndex: number;
  baseEpoch: number;
  records: readonly WireRecord[];
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
  snapshotJson: () => Promise<{ index: number; json: string }>;
  /** This server just became primary of `epoch`; resolves once it takes writes. */
  onPrimary: (epoch: number) => Promise<void>;
  /** This server stopped being primary. */
  onStepDown: (why: string) => void;
  /** This server took over from primary `previous`, which is gone. */
  onTakeover: (previous: number) => void;
  /** The disk failed (or the core halted): the server stops. */
  fatal: (err: unknown) => void;
}

interface Peer {
  sid: number;
  url: string;
  out: PeerTransportLink | undefined;
  inbound: PeerTransportLink | undefined;
  dialing: boolean;
  lastHeard: number;
  beat: Beat | undefined;
}

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

  constructor(readonly cfg: ClusterConfig, private readonly d: ClusterDeps) {
    const members = cfg.members.length;
    this.quorum = quorumOf({ members, twoNodeFailover: cfg.twoNodeFailover });
    this.windowMs = failureWindowMs({ heartbeatMs: cfg.clusterHeartbeatMs, misses: cfg.clusterMisses });
    this.listId = memberListId(cfg.members);
    this.voters = cfg.members.map((_, sid) => sid);
    cfg.members.forEach((m, sid) => {
      if (sid !== cfg.self) this.peers.push({ sid, url: `ws://${m}`, out: undefined, inbound: undefined, dialing: false, lastHeard: 0, beat: undefined });
    });
  }

  get epoch(): number {
    return this.core.epoch;
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
    const members = this.cfg.members.length;
    const r = this.d.recovered;
    this.core = new ClusterCore({
      cfg: {
        self: this.cfg.self, members, replication: this.cfg.replication, heartbeatMs: this.cfg.clusterHeartbeatMs, misses: this.cfg.clusterMisses,
        twoNodeFailover: this.cfg.twoNodeFailover, readFromBackups: this.cfg.readFromBackups,
        tailCapacity: this.d.tailCapacity, seed: randomInt(2 ** 31),
      },
      epoch: this.election.epoch, votedFor: this.election.votedFor, records: r.records, baseIndex: r.baseIndex, baseEpoch: r.baseEpoch,
    });
  }

  async start(): Promise<void> {
    this.d.log.info('cluster member starting', {
      sid: this.cfg.self, members: this.cfg.members, epoch: this.core.epoch, quorum: this.quorum, replication: this.cfg.replication,
    });
    this.tickTimer = setInterval(() => this.step({ kind: 'tick' }), this.cfg.clusterHeartbeatMs);
    this.tickTimer.unref();
    // A cluster of one elects itself at once, and is primary when this returns; others first listen for a primary for a while.
    const alone = this.peers.length === 0;
    const ready = alone ? new Promise<void>((resolve) => (this.primaryReady = resolve)) : Promise.resolve();
    this.step({ kind: 'start' });
    await ready;
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
        ? `this server (SID ${this.cfg.self}) is a ${this.role} and knows of no primary yet; retry shortly`
        : `this server (SID ${this.cfg.self}) is a backup; send writes to the primary at ${primary}`, {
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
      return new DpnsError('NOT_PRIMARY', `this server (SID ${this.cfg.self}) was the primary of epoch ${this.core.epoch} but has not heard from a majority recently enough to be sure it still is, so it answers no reads; ask another server`, {
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
    if (this.cfg.members.length > 1) return false;
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
      sid: this.cfg.self, role: this.role, epoch: this.core.epoch, servers: this.urls, readFromBackups: this.cfg.readFromBackups,
      ...(primary === undefined ? {} : { primary }),
    };
  }

  /** What the `servers` method answers. */
  serversResult(): Result<'servers'> {
    const primary = this.primarySid;
    return { self: this.cfg.self, epoch: this.core.epoch, replication: this.cfg.replication, servers: this.status(), ...(primary === undefined ? {} : { primary }) };
  }

  status(): ServerStatus[] {
    const now = this.d.now();
    const match = this.core.matchIndexes();
    const head = this.role === 'primary' ? this.core.log.lastIndex : Math.max(0, ...this.peers.map((p) => (p.beat?.role === 'primary' ? p.beat.lastIndex : 0)));
    return this.cfg.members.map((m, sid): ServerStatus => {
      const url = `ws://${m}`;
      if (sid === this.cfg.self) {
        const applied = this.d.sink.applied();
        return { sid, url, self: true, connected: true, role: this.role, epoch: this.core.epoch, lastIndex: applied, lag: Math.max(0, head - applied) };
      }
      const p = this.peers.find((x) => x.sid === sid) as Peer;
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
    PeerLink.accept(ws, req, this.d.key, this.listId, this.cfg.self, this.cfg.members.length, this.windowMs + 1000).then((link) => {
      const p = this.peers.find((x) => x.sid === link.peerSid) as Peer;
      if (this.stopped) return link.close('name server shutting down');
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
    if (p.dialing || p.out !== undefined || this.stopped) return;
    p.dialing = true;
    PeerLink.dial(p.url, this.d.key, this.listId, this.cfg.self, p.sid, this.windowMs + 1000).then((link) => {
      p.dialing = false;
      if (this.stopped) return link.close('name server shutting down');
      const t = new PeerTransportLink(link);
      p.out = t;
      p.lastHeard = this.d.now();
      t.onMessage = (m) => {
        // Answers and the primary's stream come on the link we dialed; requests never do.
        if (!goesOnDialedLink(m)) this.heard(p, m);
      };
      t.onClose = (why) => {
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
    }
    this.settleOwn();
    this.checkReady();
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
        (goesOnDialedLink(e.m) ? p?.out : p?.inbound)?.send(e.m);
        return;
      }
      case 'dial': {
        const p = this.peer(e.peer);
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
        this.d.snapshotJson().then(({ index, json }) => this.step({ kind: 'snapshot-made', peer: e.peer, index, data: json }), (err: unknown) => {
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
        // The server takes no membership changes yet (docs/CLUSTER.md): the voters are the --cluster list, unless the log says otherwise.
        this.voters = e.voters;
        if (e.voters.length !== this.cfg.members.length || e.voters.some((sid, k) => sid !== k)) {
          this.d.log.warn('the log names other voters than the --cluster list', { voters: e.voters, index: e.index, member: e.member });
        }
        return;
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
    this.election.save({ epoch, ...(votedFor === undefined ? {} : { votedFor }) }).then(() => this.step({ kind: 'persisted' }), (err: unknown) => {
      this.d.log.error('could not save the election state', { err });
      this.step({ kind: 'disk-failed' });
    });
  }

  private store(recs: readonly WireRecord[]): void {
    const last = (recs.at(-1) as WireRecord).i;
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

  private install(index: number, json: string): void {
    const started = this.d.now();
    this.d.sink.install(index, json).then((lastEpoch) => {
      this.d.log.info('installed a snapshot from the primary', { index, bytes: json.length, ms: this.d.now() - started });
      this.step({ kind: 'installed', index, lastEpoch });
    }, (err: unknown) => {
      this.d.log.error('could not install the primary\'s snapshot', { index, err });
      this.step({ kind: 'disk-failed' });
    });
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
    if (was === 'backup' && role !== 'backup') this.lostPrimary = wasPrimarySid;
    if (role === 'backup') {
      this.d.log.info('following the primary', { primary, epoch });
    } else if (role === 'primary') {
      const previous = this.lostPrimary;
      const tookOver = previous !== undefined && previous !== this.cfg.self;
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
      this.lostPrimary = this.cfg.self;
      const why = `no longer the primary of epoch ${epoch}`;
      this.d.log.warn('stepping down as primary; taking no more writes', { epoch, why });
      this.d.onStepDown(why);
    }
  }

  // ---- heartbeats ----

  private fresh(p: Peer, now: number): boolean {
    return p.lastHeard > 0 && now - p.lastHeard <= this.windowMs;
  }
}
