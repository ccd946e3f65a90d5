// What must hold at every moment of a simulated run, checked as it goes (the history's
// linearizability is checked at the end). The first violation stops the run.
import { majoritiesMayBeDisjoint, votersOf, type Configuration, type WireRecord } from '@dpns/cluster-core';
import type { Member } from './member.js';
import type { SimRecord } from './records.js';

interface Acked {
  readonly index: number;
  readonly rid: string;
  readonly epoch: number;
  readonly at: number;
}

export class Invariants {
  violation: string | undefined;
  /** The committed log as primaries reported it: index → [epoch, requestId]. */
  private readonly committed = new Map<number, SimRecord>();
  private readonly committedRid = new Map<string, number>();
  /** Per member, the epoch and index up to which its commits were checked. */
  private readonly checked = new Map<number, { epoch: number; upTo: number }>();
  /** The member that acknowledged writes in each epoch. */
  private readonly ackers = new Map<number, number>();
  /** Every write acknowledged so far, in the order of the acknowledgements. */
  readonly acked: Acked[] = [];
  /** The newest configuration in the committed log, and the highest committed index known. */
  private committedConfig: Configuration;
  private committedUpTo = 0;

  constructor(
    /** Every member of the run (filled in once they are made). */
    private readonly members: readonly Member[],
    bootstrap: readonly number[],
  ) {
    this.committedConfig = { index: 0, voters: bootstrap };
  }

  fail(what: string): void {
    this.violation ??= what;
  }

  /** A member stepped; if it is a primary that knows more to be committed, that must agree with what others committed. */
  stepped(m: Member, now: number): void {
    this.membership(m, now);
    const core = m.core;
    if (core === undefined || core.role !== 'primary') return;
    const c = core.knownCommitted;
    if (c === undefined) return;
    let seen = this.checked.get(m.sid);
    if (seen === undefined || seen.epoch !== core.epoch) {
      seen = { epoch: core.epoch, upTo: 0 };
      this.checked.set(m.sid, seen);
    }
    for (let i = seen.upTo + 1; i <= c; i++) {
      const r = m.recs[i - 1] as WireRecord<SimRecord> | undefined;
      if (r === undefined) return this.fail(`${now.toFixed(1)}: primary ${m.sid} (epoch ${core.epoch}) says ${c} is committed but holds only ${m.recs.length} records`);
      const g = this.committed.get(i);
      if (g === undefined) {
        this.committed.set(i, r.d);
        this.committedUpTo = Math.max(this.committedUpTo, i);
        const voters = votersOf(r.d);
        if (voters !== undefined && i > this.committedConfig.index) this.committedConfig = { index: i, voters };
        if (r.d.rid !== undefined) {
          const before = this.committedRid.get(r.d.rid);
          if (before !== undefined && before !== i) return this.fail(`${now.toFixed(1)}: request ${r.d.rid} committed twice, at ${before} and at ${i}`);
          this.committedRid.set(r.d.rid, i);
        }
      } else if (g.ep !== r.d.ep || g.rid !== r.d.rid || ((g.config !== undefined || r.d.config !== undefined) && JSON.stringify(g.config) !== JSON.stringify(r.d.config))) {
        return this.fail(`${now.toFixed(1)}: committed logs disagree at ${i}: ${describe(g)} before, ${describe(r.d)} on primary ${m.sid} of epoch ${core.epoch}`);
      }
    }
    seen.upTo = Math.max(seen.upTo, c);
  }

  /**
   * Member `m`'s configuration is the one its log makes (so, committed logs agreeing, every member
   * agrees on the configuration at each committed index); and no two configurations that may
   * still elect a primary or commit (the newest committed one, and those after it on logs that
   * hold the whole committed log) can each have a majority the other lacks.
   */
  private membership(m: Member, now: number): void {
    const core = m.core;
    if (core === undefined || m.installPending) return;
    // (After a snapshot the core's configuration counts from the snapshot's index, its log's from the record's.)
    if (core.configIndex < m.configIndex || !sameVoters(core.voters, m.voters)) {
      return this.fail(`${now.toFixed(1)}: member ${m.sid} counts voters [${core.voters.join(',')}] (from index ${core.configIndex}) but its log makes [${m.voters.join(',')}] (index ${m.configIndex})`);
    }
    const k = this.committedConfig;
    if (m.configIndex <= k.index || !this.onCommittedLog(m)) return;
    const others = [{ who: `the committed configuration (index ${k.index})`, voters: k.voters }];
    for (const o of this.members) {
      if (o !== m && o.core !== undefined && !o.installPending && o.configIndex > k.index && this.onCommittedLog(o)) others.push({ who: `member ${o.sid}'s (index ${o.configIndex})`, voters: o.voters });
    }
    for (const o of others) {
      if (majoritiesMayBeDisjoint(m.voters, o.voters)) {
        return this.fail(`${now.toFixed(1)}: two disjoint majorities possible: member ${m.sid}'s configuration [${m.voters.join(',')}] (index ${m.configIndex}) and ${o.who} [${o.voters.join(',')}]`);
      }
    }
  }

  /** Whether `m`'s log holds the committed log as far as it is known (then it may yet be elected). */
  private onCommittedLog(m: Member): boolean {
    const c = this.committedUpTo;
    return c === 0 || (m.recs[c - 1] !== undefined && (m.recs[c - 1] as WireRecord<SimRecord>).d.ep === this.committed.get(c)?.ep);
  }

  /** Member `m` became primary: it must hold every write acknowledged in an earlier epoch. */
  becamePrimary(m: Member, now: number): void {
    const epoch = m.core?.epoch ?? -1;
    for (const a of this.acked) if (a.epoch < epoch) this.holds(m, a, now, 'became primary');
  }

  /** Member `m` acknowledged the write of `rid` at `index`. */
  acknowledged(m: Member, index: number, rid: string, now: number, primaries: readonly Member[]): void {
    const epoch = m.core?.epoch ?? -1;
    const other = this.ackers.get(epoch);
    if (other !== undefined && other !== m.sid) return this.fail(`${now.toFixed(1)}: members ${other} and ${m.sid} both acknowledged writes in epoch ${epoch}`);
    this.ackers.set(epoch, m.sid);
    const a = { index, rid, epoch, at: now };
    this.acked.push(a);
    for (const p of primaries) if ((p.core?.epoch ?? -1) > epoch) this.holds(p, a, now, 'is primary of a later epoch');
  }

  private holds(m: Member, a: Acked, now: number, why: string): void {
    const r = m.recs[a.index - 1];
    if (r?.d.rid !== a.rid) this.fail(`${now.toFixed(1)}: member ${m.sid} ${why} (epoch ${m.core?.epoch ?? '?'}) without the write ${a.rid} acknowledged at ${a.index} in epoch ${a.epoch} (it holds ${r === undefined ? 'nothing' : describe(r.d)} there)`);
  }

  /** The highest index of a write acknowledged before `t`. */
  ackedBefore(t: number): Acked | undefined {
    let best: Acked | undefined;
    for (const a of this.acked) {
      if (a.at >= t) break;
      if (best === undefined || a.index > best.index) best = a;
    }
    return best;
  }
}

function sameVoters(a: readonly number[], b: readonly number[]): boolean {
  return a === b || (a.length === b.length && a.every((s, k) => s === b[k]));
}

function describe(d: SimRecord): string {
  if (d.config !== undefined) return `the configuration [${d.config.voters.join(',')}] of epoch ${d.ep ?? 0}`;
  return d.rid === undefined ? `the empty record of epoch ${d.ep ?? 0}` : `${d.rid} of epoch ${d.ep ?? 0}`;
}
