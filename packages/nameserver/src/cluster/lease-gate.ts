// What a primary does with a read that comes while it holds no read lease (read-lease.ts): it
// asks its backups for a lease round at once and holds the read until their echoes renew the
// lease, or at most one heartbeat; then the read gets whatever the node's role says by then
// (answered, NOT_PRIMARY, ...). Waiting instead of refusing at once keeps a primary that has just
// been elected, or that was briefly too busy to renew, from sending its clients elsewhere; the
// bound keeps a deposed one from holding them. One timer and one round serve every read waiting.
import type { DpnsError } from '@dpns/protocol';

export interface LeaseGateHost {
  /** Sends every backup a lease round now. */
  renew(): void;
  /** The read's answer as of now: undefined to answer it, or why not. */
  refusalNow(): DpnsError | undefined;
  /** The longest a read waits: one heartbeat. */
  readonly maxWaitMs: number;
}

export class LeaseGate {
  private waiting: ((refusal: DpnsError | undefined) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly h: LeaseGateHost) {}

  /** A read came without a lease: resolves with its refusal (or undefined) once the lease is back, or the wait is over. */
  wait(): Promise<DpnsError | undefined> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (this.timer !== undefined) return;
      this.timer = setTimeout(() => this.settle(), this.h.maxWaitMs);
      this.timer.unref();
      this.h.renew();
    });
  }

  /** How many reads wait now. */
  get size(): number {
    return this.waiting.length;
  }

  /** The lease was renewed, the wait ran out, or the role changed: every waiting read gets its answer now. */
  settle(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.length === 0) return;
    const waiting = this.waiting;
    this.waiting = [];
    const refusal = this.h.refusalNow();
    for (const w of waiting) w(refusal);
  }
}
