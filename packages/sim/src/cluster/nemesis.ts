// The faults of a simulated run, chosen by its seed: crashes (one member, the primary, or two at
// once), pauses (SIGSTOP) and resumes, partitions (one member cut off, the cluster split, one
// direction only), and healing; then, at the end of the fault phase, everything is mended. Only
// members whose process was ever started are struck (one that joins later, once it has).
import type { EventQueue } from './event-queue.js';
import type { Member, MemberState } from './member.js';
import type { Network } from './network.js';

export interface NemesisSettings {
  /** Faults happen until this virtual time. */
  readonly untilMs: number;
  /** Time between faults, up to twice it. */
  readonly everyMs: number;
  /** How long a crashed member stays down, or a paused one paused, up to twice it. */
  readonly downMs: number;
}

export class Nemesis {
  constructor(
    private readonly q: EventQueue,
    private readonly members: readonly Member[],
    private readonly net: Network,
    private readonly rand: () => number,
    private readonly s: NemesisSettings,
    private readonly note: (line: string) => void,
  ) {}

  start(): void {
    this.plan();
    this.q.at(this.s.untilMs, () => this.mend());
  }

  private plan(): void {
    const at = this.q.now + this.s.everyMs * (1 + this.rand());
    if (at >= this.s.untilMs) return;
    this.q.at(at, () => {
      this.strike();
      this.plan();
    });
  }

  private live(): Member[] {
    return this.members.filter((m) => m.everStarted);
  }

  private pick(): Member {
    const live = this.live();
    return live[Math.floor(this.rand() * live.length)] as Member;
  }

  private primary(): Member {
    return this.members.find((m) => m.core?.role === 'primary') ?? this.pick();
  }

  /** A live member other than `a`. */
  private other(a: Member): Member {
    const rest = this.live().filter((m) => m !== a);
    return rest.length === 0 ? a : (rest[Math.floor(this.rand() * rest.length)] as Member);
  }

  private later(f: () => void): void {
    const at = this.q.now + this.s.downMs * (1 + this.rand());
    if (at < this.s.untilMs) this.q.at(at, f);
  }

  private strike(): void {
    const r = this.rand();
    const t = this.q.now.toFixed(1);
    if (r < 0.3) {
      const m = r < 0.15 ? this.primary() : this.pick();
      m.crash('nemesis');
      this.later(() => this.restart(m));
    } else if (r < 0.4) {
      const a = this.primary();
      const b = this.other(a);
      this.note(`${t} crash ${a.sid} and ${b.sid} together`);
      a.crash('nemesis');
      b.crash('nemesis');
      this.later(() => this.restart(a));
      this.later(() => this.restart(b));
    } else if (r < 0.6) {
      const m = r < 0.5 ? this.primary() : this.pick();
      if (m.state !== 'up') return;
      this.note(`${t} pause ${m.sid}`);
      m.pause();
      this.later(() => {
        this.note(`${this.q.now.toFixed(1)} resume ${m.sid}`);
        m.resume();
      });
    } else if (r < 0.75) {
      const m = r < 0.68 ? this.primary() : this.pick();
      this.note(`${t} isolate ${m.sid}`);
      for (const o of this.live()) {
        if (o === m) continue;
        this.net.block(m.sid, o.sid);
        this.net.block(o.sid, m.sid);
      }
    } else if (r < 0.85) {
      const a = this.pick();
      const b = this.other(a);
      this.note(`${t} block ${a.sid} -> ${b.sid}`);
      this.net.block(a.sid, b.sid);
    } else {
      this.note(`${t} heal`);
      this.net.heal();
    }
  }

  private restart(m: Member): void {
    if (m.state !== 'down') return;
    this.note(`${this.q.now.toFixed(1)} restart ${m.sid}`);
    m.start();
  }

  /**
   * The end of the fault phase: the network heals, paused members resume, crashed ones restart;
   * but in some runs one member stays down for good, as a dead host would: the others, a majority,
   * must still elect a primary and take writes. That holds only while every configuration that
   * may be in effect keeps a majority without it: at least three voters in each. The operator
   * keeps three, but acting on a stale view (an uncommitted configuration of a deposed primary)
   * it can leave two, as a person could (seed 512,848); then nobody is left down.
   */
  private mend(): void {
    let lost = this.rand() < 0.25 ? this.pick() : undefined;
    if (lost !== undefined && this.live().some((m) => m.voters.length < 3)) lost = undefined;
    this.note(`${this.q.now.toFixed(1)} faults stop: heal, resume, restart${lost === undefined ? '' : `; member ${lost.sid} stays down`}`);
    this.net.heal();
    for (const m of this.live()) {
      if (m === lost) {
        if (m.state !== 'down') m.crash('nemesis');
      } else if (m.state === 'paused') {
        // A paused member takes what happened meanwhile on resuming: a disk write that failed during
        // the faults crashes it now, and it restarts like any crashed member (seed 983,329).
        m.resume();
        if ((m.state as MemberState) === 'down') m.start();
      } else if (m.state === 'down') m.start();
    }
  }
}
