// What must hold at every moment of a simulated run, checked as it goes (the history's
// linearizability is checked at the end). The first violation stops the run.
import type { WireRecord } from '@dpns/cluster-core';
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

  fail(what: string): void {
    this.violation ??= what;
  }

  /** A member stepped; if it is a primary that knows more to be committed, that must agree with what others committed. */
  stepped(m: Member, now: number): void {
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
        if (r.d.rid !== undefined) {
          const before = this.committedRid.get(r.d.rid);
          if (before !== undefined && before !== i) return this.fail(`${now.toFixed(1)}: request ${r.d.rid} committed twice, at ${before} and at ${i}`);
          this.committedRid.set(r.d.rid, i);
        }
      } else if (g.ep !== r.d.ep || g.rid !== r.d.rid) {
        return this.fail(`${now.toFixed(1)}: committed logs disagree at ${i}: ${describe(g)} before, ${describe(r.d)} on primary ${m.sid} of epoch ${core.epoch}`);
      }
    }
    seen.upTo = Math.max(seen.upTo, c);
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

function describe(d: SimRecord): string {
  return d.rid === undefined ? `the empty record of epoch ${d.ep ?? 0}` : `${d.rid} of epoch ${d.ep ?? 0}`;
}
