// One simulated member: the cluster core driven by a virtual clock (with its own skew and
// drift), the simulated network and disk, and requests from simulated clients. It can crash (the
// core and whatever the disk had not made durable are lost), restart from its disk, pause (as
// SIGSTOP: everything that arrives waits, its clock runs on) and resume. One that joins the cluster
// later starts from an empty disk, outside the configuration, when the operator adds it.
import { bootstrapVoters, ClusterCore, votersOf, type Answer, type CoreConfig, type CoreEvent, type Effect, type PeerTransport, type Role, type WireRecord } from '@dpns/cluster-core';
import { Disk } from './disk.js';
import type { EventQueue } from './event-queue.js';
import type { Network } from './network.js';
import type { SimRecord } from './records.js';

export interface MemberWorld {
  readonly q: EventQueue;
  readonly net: Network;
  readonly rand: () => number;
  /** Chance that a store's fsync fails (0 once the faults stop). */
  readonly diskFailRate: number;
  roleChanged(sid: number, role: Role, epoch: number): void;
  /** The voters in effect at member `sid` changed (a `members` effect). */
  membersChanged(sid: number, voters: readonly number[], index: number): void;
  answered(sid: number, req: number, answer: Answer): void;
  /** A write's requestId was found applied at `index`: it is settled instead of appended again. */
  deduped(req: number, index: number): void;
  /** After every step: the invariants that watch members. */
  stepped(m: Member): void;
  note(line: string): void;
}

/** Where an event came from, so that a resumed member takes each source's events in order. */
const DISK = -1;
const CLIENT = -2;
const TIMER = -3;

export type MemberState = 'up' | 'paused' | 'down';

export class Member {
  state: MemberState = 'down';
  core: ClusterCore | undefined;
  readonly disk = new Disk();
  /** The log as appended here (the core's, with the records' contents): what reads and requestIds are answered from. */
  recs: WireRecord<SimRecord>[] = [];
  rids = new Map<string, number>();
  /** The configuration `recs` make (the newest configuration record's index and voters). */
  configIndex = 0;
  voters: readonly number[];
  /** A snapshot is on disk and in `recs` but the core has not yet heard `installed`. */
  installPending = false;
  private links: (PeerTransport | undefined)[];
  private inbox: { src: number; ev: CoreEvent }[] = [];
  private incarnation = 0;
  private lastDiskDone = 0;
  private wakeGen = 0;
  private tickDue = false;
  /** When it last resumed from a pause (virtual ms). */
  resumedAt = Number.NEGATIVE_INFINITY;
  /** Local clock = offset + virtual time * rate. */
  private readonly offset: number;
  private readonly rate: number;

  constructor(readonly sid: number, private readonly cfg: CoreConfig, private readonly w: MemberWorld, skewMs: number, drift: number, slots: number) {
    this.links = new Array<PeerTransport | undefined>(slots).fill(undefined);
    this.voters = bootstrapVoters(cfg.members);
    this.offset = skewMs;
    this.rate = 1 + drift;
  }

  /** Whether this member's process was ever started (one that joins later is not, until then). */
  get everStarted(): boolean {
    return this.incarnation > 0;
  }

  /** This member's monotonic clock now. */
  now(): number {
    return this.offset + this.w.q.now * this.rate;
  }

  private virtualAt(local: number): number {
    return (local - this.offset) / this.rate;
  }

  start(): void {
    this.state = 'up';
    this.incarnation++;
    this.core = new ClusterCore({ cfg: { ...this.cfg, seed: (this.cfg.seed + this.incarnation * 7919) >>> 0 }, epoch: this.disk.epoch, votedFor: this.disk.votedFor, records: this.disk.records });
    this.recs = [...this.disk.records];
    this.rebuildRids();
    this.installPending = false;
    this.lastDiskDone = this.w.q.now;
    this.step({ kind: 'start' });
    this.scheduleTick(this.incarnation);
  }

  crash(why: string): void {
    if (this.state === 'down') return;
    this.w.note(`${this.w.q.now.toFixed(1)} crash ${this.sid} (${why})`);
    this.state = 'down';
    this.core = undefined;
    this.incarnation++;
    this.inbox = [];
    this.tickDue = false;
    let survive = 0;
    while (survive < this.disk.pending && this.w.rand() < 0.5) survive++;
    this.disk.crash(survive);
    this.w.net.dropAll(this.sid, 'the process died');
    this.links.fill(undefined);
  }

  pause(): void {
    if (this.state === 'up') this.state = 'paused';
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'up';
    // Sockets were readable in some order: each source's events in order, the sources interleaved.
    const bySrc = new Map<number, CoreEvent[]>();
    for (const e of this.inbox) {
      const l = bySrc.get(e.src);
      if (l === undefined) bySrc.set(e.src, [e.ev]);
      else l.push(e.ev);
    }
    this.inbox = [];
    const queues = [...bySrc.values()];
    this.resumedAt = this.w.q.now;
    while (queues.length > 0 && this.state === 'up') {
      const k = Math.floor(this.w.rand() * queues.length);
      const qk = queues[k] as CoreEvent[];
      this.step(qk.shift() as CoreEvent);
      if (qk.length === 0) queues.splice(k, 1);
    }
    if (this.tickDue && this.state === 'up') {
      this.tickDue = false;
      this.step({ kind: 'tick' });
    }
  }

  /** A client's request arrives. */
  request(ev: CoreEvent): void {
    this.deliver(CLIENT, ev);
  }

  /** A link opened (the network calls this for both ends). */
  linked(end: PeerTransport): void {
    if (this.state === 'down') {
      end.close('the process is not running');
      return;
    }
    const peer = end.peerSid;
    this.links[peer]?.close('replaced by a new link');
    this.links[peer] = end;
    // Frames read from a link of an earlier process of this member died with it.
    const inc = this.incarnation;
    end.onMessage = (m) => {
      if (this.incarnation === inc) this.deliver(peer, { kind: 'message', from: peer, m });
    };
    end.onClose = () => {
      if (this.links[peer] !== end) return;
      this.links[peer] = undefined;
      this.deliver(peer, { kind: 'link-down', peer });
    };
    this.deliver(peer, { kind: 'link-up', peer });
  }

  private deliver(src: number, ev: CoreEvent): void {
    if (this.state === 'down') return;
    if (this.state === 'paused') {
      this.inbox.push({ src, ev });
      return;
    }
    this.step(ev);
  }

  private scheduleTick(inc: number): void {
    this.w.q.at(this.w.q.now + this.cfg.heartbeatMs / this.rate, () => {
      if (this.incarnation !== inc) return;
      this.scheduleTick(inc);
      if (this.state === 'paused') this.tickDue = true;
      else this.step({ kind: 'tick' });
    });
  }

  private step(event: CoreEvent): void {
    const core = this.core;
    if (core === undefined) return;
    let ev = event;
    if (ev.kind === 'installed') this.installPending = false;
    // The registry's requestId check, as the server makes it when the request is taken.
    if (ev.kind === 'write') {
      const rid = (ev.data as SimRecord).rid;
      const at = rid === undefined ? undefined : this.rids.get(rid);
      if (at !== undefined) {
        this.w.deduped(ev.req, at);
        ev = { kind: 'settle', req: ev.req };
      }
    }
    const effects = core.step(ev, this.now());
    for (const e of effects) this.apply(e);
    if (this.core !== undefined) this.w.stepped(this);
  }

  private apply(e: Effect): void {
    if (this.state === 'down') return;
    switch (e.kind) {
      case 'send':
        this.links[e.to]?.send(e.m);
        return;
      case 'dial':
        this.w.net.dial(this.sid, e.peer);
        return;
      case 'close-link':
        this.links[e.peer]?.close(e.why);
        return;
      case 'persist':
        return this.diskWrite({ kind: 'persist', epoch: e.epoch, votedFor: e.votedFor }, { kind: 'persisted' });
      case 'store': {
        const recs = e.recs as readonly WireRecord<SimRecord>[];
        for (const r of recs) {
          if (r.i !== this.recs.length + 1) throw new Error(`member ${this.sid}: record ${r.i} appended after ${this.recs.length}`);
          this.recs.push(r);
          if (r.d.rid !== undefined && !this.rids.has(r.d.rid)) this.rids.set(r.d.rid, r.i);
          this.noteConfig(r);
        }
        return this.diskWrite({ kind: 'store', recs }, { kind: 'durable', index: (recs.at(-1) as WireRecord).i });
      }
      case 'install': {
        // The simulator's snapshots are text (make-snapshot below); bytes only come from a server's link.
        if (typeof e.data !== 'string') throw new Error(`member ${this.sid}: a snapshot of bytes`);
        const records = JSON.parse(e.data) as WireRecord<SimRecord>[];
        const last = records.at(-1);
        return this.diskWrite({ kind: 'install', records }, { kind: 'installed', index: e.index, lastEpoch: last?.d.ep ?? 0 });
      }
      case 'make-snapshot': {
        const inc = this.incarnation;
        const index = this.recs.length;
        const data = JSON.stringify(this.recs);
        this.w.q.at(this.w.q.now + 1, () => {
          if (this.incarnation === inc) this.deliver(DISK, { kind: 'snapshot-made', peer: e.peer, index, data });
        });
        return;
      }
      case 'role':
        this.w.roleChanged(this.sid, e.role, e.epoch);
        return;
      case 'members':
        this.w.membersChanged(this.sid, e.voters, e.index);
        return;
      case 'answer':
        this.w.answered(this.sid, e.req, e.answer);
        return;
      case 'wake': {
        const gen = ++this.wakeGen;
        const inc = this.incarnation;
        this.w.q.at(this.virtualAt(e.at) + 0.001, () => {
          if (this.incarnation !== inc || gen !== this.wakeGen) return;
          this.deliver(TIMER, { kind: 'wake' });
        });
        return;
      }
      case 'halt':
        this.crash(e.why);
        return;
    }
  }

  /** Writes take 0.2–3 ms each, one after another; a store's fsync may fail. */
  private diskWrite(write: Parameters<Disk['begin']>[0], done: CoreEvent): void {
    this.disk.begin(write);
    const inc = this.incarnation;
    const at = Math.max(this.w.q.now + 0.2 + this.w.rand() * 2.8, this.lastDiskDone);
    this.lastDiskDone = at;
    const fails = write.kind === 'store' && this.w.diskFailRate > 0 && this.w.rand() < this.w.diskFailRate;
    this.w.q.at(at, () => {
      if (this.incarnation !== inc) return;
      // Disks stop failing with the other faults, a write begun before then included.
      if (fails && this.w.diskFailRate > 0) {
        this.disk.fail();
        this.deliver(DISK, { kind: 'disk-failed' });
        return;
      }
      const w = this.disk.complete();
      if (w === undefined) return;
      if (w.kind === 'install') {
        this.recs = [...this.disk.records];
        this.rebuildRids();
        this.installPending = true;
      }
      this.deliver(DISK, done);
    });
  }

  private rebuildRids(): void {
    this.rids = new Map();
    this.configIndex = 0;
    this.voters = bootstrapVoters(this.cfg.members);
    for (const r of this.recs) {
      if (r.d.rid !== undefined && !this.rids.has(r.d.rid)) this.rids.set(r.d.rid, r.i);
      this.noteConfig(r);
    }
  }

  private noteConfig(r: WireRecord<SimRecord>): void {
    const voters = votersOf(r.d);
    if (voters === undefined) return;
    this.configIndex = r.i;
    this.voters = voters;
  }
}
