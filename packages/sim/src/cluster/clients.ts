// Simulated clients: each makes one request at a time on a few names (advertise, unadvertise,
// find), sends it to the member it believes is the primary, follows NOT_PRIMARY to the member
// named, retries with the same requestId after a refusal or a silence, and records what it saw.
// Reads answered by a primary go to the linearizability check; reads a backup answered are held
// to the staleness bound of PROTOCOL.md §19.3.
import type { Answer } from '@dpns/cluster-core';
import type { RegistryInput, RegistryOperation, RegistryOutput } from '../registry-model.js';
import type { EventQueue } from './event-queue.js';
import type { Invariants } from './invariants.js';
import type { Member } from './member.js';
import { addressAt } from './records.js';

export interface ClientSettings {
  readonly clients: number;
  readonly names: number;
  /** Requests per client. */
  readonly ops: number;
  /** A client waits this long between requests, up to twice it. */
  readonly thinkMs: number;
  /** A request unanswered this long is given up on that member. */
  readonly attemptMs: number;
  /** A request is given up altogether this long after it was made. */
  readonly giveUpMs: number;
  /** Some clients read from any member (--read-from-backups). */
  readonly backupReaders: boolean;
  /** The failure window: how stale a backup's read may be. */
  readonly windowMs: number;
}

interface Op {
  readonly client: number;
  readonly input: RegistryInput;
  readonly rid: string;
  readonly call: number;
  /** The write may have taken effect (an attempt was appended, or went unanswered). */
  maybeApplied: boolean;
  req: number;
  target: number;
  done: boolean;
  /** For a retried write found already applied: the index it was applied at. */
  appliedAt: number | undefined;
}

export class Clients {
  readonly history: RegistryOperation[] = [];
  /** Operations finished, for the run's summary. */
  completed = 0;
  private nextReq = 1;
  private readonly inFlight = new Map<number, { op: Op; member: Member }>();
  /** Operations made and not yet finished (in flight, or waiting to be retried). */
  private readonly open = new Set<Op>();
  private readonly belief: number[];

  constructor(
    private readonly q: EventQueue,
    private readonly members: readonly Member[],
    private readonly rand: () => number,
    private readonly s: ClientSettings,
    private readonly inv: Invariants,
    private readonly note: (line: string) => void,
  ) {
    this.belief = Array.from({ length: s.clients }, () => Math.floor(rand() * members.length));
  }

  start(): void {
    for (let c = 0; c < this.s.clients; c++) this.next(c, 0);
  }

  private next(client: number, made: number): void {
    if (made >= this.s.ops) return;
    this.q.at(this.q.now + this.s.thinkMs * (1 + this.rand()), () => this.make(client, made));
  }

  private make(client: number, made: number): void {
    const name = `n${Math.floor(this.rand() * this.s.names)}`;
    const r = this.rand();
    const input: RegistryInput = r < 0.35 ? { op: 'advertise', name, address: `10.0.0.${client}:${made}` } : r < 0.5 ? { op: 'unadvertise', name } : { op: 'find', name };
    const backupRead = input.op === 'find' && this.s.backupReaders && client % 2 === 1;
    const op: Op = { client, input, rid: `c${client}-${made}`, call: this.q.now, maybeApplied: false, req: 0, target: backupRead ? this.anyStarted(-1) : (this.belief[client] as number), done: false, appliedAt: undefined };
    this.open.add(op);
    this.attempt(op, made);
  }

  private attempt(op: Op, made: number): void {
    if (this.q.now - op.call > this.s.giveUpMs) return this.finish(op, made, undefined, undefined);
    const m = this.members[op.target] as Member;
    const req = this.nextReq++;
    op.req = req;
    op.appliedAt = undefined;
    this.inFlight.set(req, { op, member: m });
    if (op.input.op === 'find') m.request({ kind: 'read', req });
    else m.request({ kind: 'write', req, data: { rid: op.rid, op: { name: op.input.name, addr: op.input.op === 'advertise' ? op.input.address : undefined } } });
    this.q.at(this.q.now + this.s.attemptMs, () => {
      if (op.done || op.req !== req) return;
      this.inFlight.delete(req);
      // Silence: the write may have been appended there; try another member.
      if (op.input.op !== 'find') op.maybeApplied = true;
      op.target = this.anyStarted(op.target);
      this.attempt(op, made);
    });
  }

  /** The member found request `req`'s write already applied at `index`. */
  deduped(req: number, index: number): void {
    const f = this.inFlight.get(req);
    if (f !== undefined) f.op.appliedAt = index;
  }

  /** Member `sid` answered request `req`. */
  answered(sid: number, req: number, a: Answer): void {
    const f = this.inFlight.get(req);
    if (f === undefined) return;
    this.inFlight.delete(req);
    const { op, member } = f;
    if (op.done || op.req !== req) return;
    const made = Number(op.rid.slice(op.rid.indexOf('-') + 1));
    if (!a.ok) {
      // This attempt is over: its silence timer must not start another beside the retry.
      op.req = 0;
      if (a.outcome === 'unknown') op.maybeApplied = true;
      op.target = a.primary ?? this.anyStarted(op.target);
      if (op.input.op !== 'find' || !this.s.backupReaders || op.client % 2 === 0) this.belief[op.client] = op.target;
      this.q.at(this.q.now + 2 + this.rand() * 8, () => this.attempt(op, made));
      return;
    }
    const recs = member.recs;
    let out: RegistryOutput;
    switch (op.input.op) {
      case 'advertise':
        out = { op: 'advertise' };
        break;
      case 'unadvertise': {
        const at = op.appliedAt ?? a.index;
        out = { op: 'unadvertise', existed: addressAt(recs, at - 1, op.input.name) !== undefined };
        break;
      }
      case 'find':
        out = { op: 'find', address: addressAt(recs, a.index, op.input.name) };
        break;
    }
    if (op.input.op !== 'find') {
      const at = op.appliedAt ?? a.index;
      if (recs[at - 1]?.d.rid !== op.rid) this.inv.fail(`${this.q.now.toFixed(1)}: member ${sid} acknowledged ${op.rid} at ${at}, which holds ${recs[at - 1]?.d.rid ?? 'nothing'}`);
      this.inv.acknowledged(member, at, op.rid, this.q.now, this.members.filter((x) => x.core?.role === 'primary'));
    }
    if (member.core?.role === 'backup') {
      // §19.3: a backup lags by the writes in flight, and by at most one failure window of
      // silence; one that resumes from a pause may answer from its old state for the moment it
      // takes to process what arrived meanwhile (here: up to one failure window).
      const due = this.inv.ackedBefore(op.call - this.s.windowMs * 1.1);
      const arrived = this.q.now - member.resumedAt <= this.s.windowMs;
      if (due !== undefined && !arrived && (a.index < due.index || recs[due.index - 1]?.d.rid !== due.rid)) {
        this.inv.fail(`${this.q.now.toFixed(1)}: backup ${sid} answered a read called at ${op.call.toFixed(1)} from index ${a.index}, missing ${due.rid} (index ${due.index}) acknowledged at ${due.at.toFixed(1)}, over a failure window before`);
      }
      this.finish(op, made, undefined, undefined, true);
      return;
    }
    this.finish(op, made, this.q.now, out);
  }

  /** A member other than `not` whose process was ever started (one that joins later is unknown to clients until then). */
  private anyStarted(not: number): number {
    const started = this.members.filter((m) => m.everStarted && m.sid !== not);
    return started.length === 0 ? not : (started[Math.floor(this.rand() * started.length)] as Member).sid;
  }

  /**
   * The run is over: a write still unanswered was sent, so it may have taken effect, and a read
   * that saw it may be in the history; it goes in with no answer, as one given up on does (seed
   * 114,170 failed the check for a read that saw a write in flight at the end).
   */
  endOfRun(): void {
    for (const op of this.open) {
      if (op.input.op !== 'find') this.history.push({ client: op.client, input: op.input, call: op.call });
    }
    this.open.clear();
  }

  private finish(op: Op, made: number, ret: number | undefined, out: RegistryOutput | undefined, skipHistory = false): void {
    op.done = true;
    this.open.delete(op);
    this.completed++;
    if (!skipHistory) {
      if (out !== undefined) this.history.push({ client: op.client, input: op.input, call: op.call, return: ret, output: out });
      // A write that may have happened stays in the history with no answer; one that surely did not is left out.
      else if (op.maybeApplied) this.history.push({ client: op.client, input: op.input, call: op.call });
    }
    if (out === undefined && !skipHistory) this.note(`${this.q.now.toFixed(1)} client ${op.client} gave up ${op.rid}`);
    this.next(op.client, made + 1);
  }
}
