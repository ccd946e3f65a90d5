// The operator of a simulated run that changes members (docs/CLUSTER.md, "Membership changes"):
// among the other faults, it grows the cluster to five voters, shrinks it back to three, or adds
// or removes one member at random (the primary included; at least three voters stay, so that one
// member lost for good at the end leaves a majority), starting a new member's process just
// before asking for it. Each change goes to the member it believes is the primary and is retried
// on a refusal or a silence, as `dpns servers add/remove` would be. An impatient operator sends a
// grow's or shrink's changes all at once: the primary must take them one at a time.
import type { Answer } from '@dpns/cluster-core';
import type { EventQueue } from './event-queue.js';
import type { Member } from './member.js';

export interface OperatorSettings {
  /** Changes are asked for until this virtual time. */
  readonly untilMs: number;
  /** Time between jobs, up to twice it. */
  readonly everyMs: number;
  /** A request unanswered this long is sent again, elsewhere. */
  readonly attemptMs: number;
  /** The first request ID the operator uses (apart from the clients'). */
  readonly firstReq: number;
}

interface Change {
  readonly op: 'add' | 'remove';
  readonly sid: number;
  req: number;
  target: number;
  done: boolean;
  /** What to do once it is acknowledged (a patient operator's next change). */
  then: () => void;
}

export class Operator {
  private nextReq: number;
  private readonly inFlight = new Map<number, Change>();
  /** Changes of the current job not yet acknowledged. */
  private open = 0;
  /** Changes acknowledged, for the run's summary. */
  done = 0;

  constructor(
    private readonly q: EventQueue,
    private readonly members: readonly Member[],
    private readonly rand: () => number,
    private readonly s: OperatorSettings,
    private readonly note: (line: string) => void,
  ) {
    this.nextReq = s.firstReq;
  }

  start(): void {
    this.plan();
  }

  /** Whether request `req` is the operator's. */
  owns(req: number): boolean {
    return req >= this.s.firstReq;
  }

  private plan(): void {
    const at = this.q.now + this.s.everyMs * (1 + this.rand());
    if (at < this.s.untilMs) this.q.at(at, () => this.job());
  }

  /** The voters as the newest configuration any running member holds says (`dpns servers` would ask the primary). */
  private voters(): readonly number[] {
    let best: Member | undefined;
    for (const m of this.members) if (m.core !== undefined && (best === undefined || m.configIndex > best.configIndex)) best = m;
    return best?.voters ?? [];
  }

  private job(): void {
    if (this.open > 0) return this.plan();
    const voters = this.voters();
    if (voters.length === 0) return this.plan();
    const others = this.members.filter((m) => !voters.includes(m.sid)).map((m) => m.sid);
    const r = this.rand();
    let changes: Change[];
    if (r < 0.35 && others.length > 0) changes = others.map((sid) => this.change('add', sid));
    else if (r < 0.7 && voters.length > 3) changes = this.shuffle([...voters]).slice(0, voters.length - 3).map((sid) => this.change('remove', sid));
    else if ((voters.length > 3 && this.rand() < 0.5) || others.length === 0) changes = [this.change('remove', voters[Math.floor(this.rand() * voters.length)] as number)];
    else changes = [this.change('add', others[Math.floor(this.rand() * others.length)] as number)];
    const impatient = changes.length > 1 && this.rand() < 0.5;
    this.note(`${this.q.now.toFixed(1)} operator${impatient ? ' (impatient)' : ''}: ${changes.map((c) => `${c.op} ${c.sid}`).join(', ')} (voters [${voters.join(',')}])`);
    this.open = changes.length;
    if (impatient) for (const c of changes) this.send(c);
    else this.chain(changes);
  }

  private chain(changes: Change[]): void {
    const c = changes.shift();
    if (c === undefined) return;
    c.then = () => this.chain(changes);
    this.send(c);
  }

  private change(op: 'add' | 'remove', sid: number): Change {
    const primary = this.members.find((x) => x.core?.role === 'primary');
    return { op, sid, req: 0, target: primary?.sid ?? this.elsewhere(-1), done: false, then: () => undefined };
  }

  private send(c: Change): void {
    // Past the fault phase, nothing more is asked; and at least three voters stay (a removal
    // retried after others went through is given up), so that one member lost for good at the end
    // leaves a majority.
    const voters = this.voters();
    if (this.q.now >= this.s.untilMs || (c.op === 'remove' && voters.includes(c.sid) && voters.length <= 3)) {
      this.finish(c);
      this.q.at(this.q.now, c.then);
      return;
    }
    const m = this.members[c.sid] as Member;
    // A new member's process is started just before it is asked for.
    if (c.op === 'add' && !m.everStarted) {
      this.note(`${this.q.now.toFixed(1)} start ${c.sid} to join`);
      m.start();
    }
    const req = this.nextReq++;
    c.req = req;
    this.inFlight.set(req, c);
    (this.members[c.target] as Member).request({ kind: 'members', req, op: c.op, sid: c.sid });
    this.q.at(this.q.now + this.s.attemptMs, () => {
      if (c.done || c.req !== req) return;
      this.inFlight.delete(req);
      c.target = this.elsewhere(c.target);
      this.send(c);
    });
  }

  /** Member `sid` answered the operator's request `req`. */
  answered(sid: number, req: number, a: Answer): void {
    const c = this.inFlight.get(req);
    if (c === undefined) return;
    this.inFlight.delete(req);
    if (c.done || c.req !== req) return;
    c.req = 0;
    if (a.ok) {
      this.note(`${this.q.now.toFixed(1)} operator: ${c.op} ${c.sid} done at ${a.index} (asked member ${sid})`);
      this.done++;
      this.finish(c);
      // The operator reads the answer and types the next command: never within the member's step.
      this.q.at(this.q.now + 1 + this.rand() * 5, c.then);
      return;
    }
    c.target = a.primary ?? (a.code === 'NOT_PRIMARY' || a.code === 'NO_QUORUM' ? this.elsewhere(c.target) : c.target);
    this.q.at(this.q.now + 10 + this.rand() * 30, () => this.send(c));
  }

  private finish(c: Change): void {
    if (c.done) return;
    c.done = true;
    this.open--;
    if (this.open === 0) this.plan();
  }

  private elsewhere(target: number): number {
    const started = this.members.filter((m) => m.everStarted && m.sid !== target);
    return started.length === 0 ? target : (started[Math.floor(this.rand() * started.length)] as Member).sid;
  }

  private shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
    }
    return xs;
  }
}
