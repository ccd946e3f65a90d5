// A primary's client requests waiting on the cluster: writes waiting for their commit, reads (and
// retried writes found applied) waiting for everything they saw to be settled, and reads waiting
// (at most a heartbeat) for a read lease. The core decides; this keeps the queues and answers
// from them in order.
import type { Answer, Effect } from './effects.js';

interface Waiter {
  /** The client request, or -1 for the epoch's first record. */
  readonly req: number;
  readonly index: number;
  readonly deadline: number;
}

export class PendingRequests {
  private waiters: Waiter[] = [];
  private readers: { req: number; index: number }[] = [];
  /** The highest index settled (committed and answered) since this member became primary; -1: reads are held. */
  settled = -1;
  /** Reads that came while the primary held no lease, and until when they wait. */
  private gate: { reqs: number[]; deadline: number } | undefined;

  /** When the lease wait runs out, if reads wait for one. */
  get gateDeadline(): number | undefined {
    return this.gate?.deadline;
  }

  get gateOpen(): boolean {
    return this.gate !== undefined;
  }

  /** A write appended at `index`: answered once committed, or refused at `deadline`. */
  addWrite(req: number, index: number, deadline: number): void {
    this.waiters.push({ req, index, deadline });
  }

  /** A read (or settle) that saw the state after `index`: answered once that is settled. */
  addReader(req: number, index: number, out: Effect[]): void {
    this.readers.push({ req, index });
    this.release(out);
  }

  /** A read waits for a lease; true when it is the first (the caller sends a lease round). */
  waitForLease(req: number, deadline: number): boolean {
    const first = this.gate === undefined;
    this.gate ??= { reqs: [], deadline };
    this.gate.reqs.push(req);
    return first;
  }

  /** The lease came, the wait ran out, or the role changed: the waiting reads, to be admitted or refused now. */
  takeLeaseWaiters(): number[] {
    const g = this.gate;
    this.gate = undefined;
    return g?.reqs ?? [];
  }

  /** The commit index is `commit`: the writes it covers are answered, then the reads that waited for them. */
  committed(commit: number, out: Effect[]): void {
    let n = 0;
    while (n < this.waiters.length && (this.waiters[n] as Waiter).index <= commit) n++;
    if (n === 0) return;
    for (const w of this.waiters.splice(0, n)) {
      this.settled = Math.max(this.settled, w.index);
      answer(w.req, { ok: true, index: w.index }, out);
    }
    this.release(out);
  }

  /** Writes past their deadline get `refusal` (their outcome is unknown). */
  expire(now: number, refusal: Answer, out: Effect[]): void {
    while (this.waiters.length > 0 && (this.waiters[0] as Waiter).deadline <= now) answer((this.waiters.shift() as Waiter).req, refusal, out);
  }

  /** Records from `index` on were taken back: their writes are forgotten, unanswered. */
  forgetFrom(index: number): void {
    this.waiters = this.waiters.filter((w) => w.index < index);
  }

  /** No longer primary: every waiting write and read gets `refusal`, and reads are held again. */
  abandon(refusal: Answer, out: Effect[]): void {
    for (const w of this.waiters.splice(0)) answer(w.req, refusal, out);
    for (const r of this.readers.splice(0)) answer(r.req, refusal, out);
    this.settled = -1;
  }

  private release(out: Effect[]): void {
    if (this.readers.length === 0) return;
    const keep: { req: number; index: number }[] = [];
    for (const r of this.readers) {
      if (r.index <= this.settled) answer(r.req, { ok: true, index: r.index }, out);
      else keep.push(r);
    }
    this.readers = keep;
  }
}

/** Answers a client (the core's own record, req -1, has none). */
export function answer(req: number, a: Answer, out: Effect[]): void {
  if (req >= 0) out.push({ kind: 'answer', req, answer: a });
}
