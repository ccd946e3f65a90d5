// Deletes lost entries nobody keeps once they have been lost for the expiry time (the rule is
// registry/stray-expiry.ts), in records of at most MAX_EXPIRED_PER_RECORD deletes. Every member
// runs one; only the primary's commits succeed, so elsewhere a sweep is a no-op.
import type { Logger } from './log.js';
import type { Op } from './registry/ops.js';
import type { Registry } from './registry/registry.js';
import { MAX_EXPIRED_PER_RECORD, planExpireStrays } from './registry/stray-expiry.js';

export class StraySweeper {
  private readonly timer: NodeJS.Timeout;
  private sweeping = false;
  private stopped = false;

  constructor(
    private readonly registry: Registry,
    private readonly commit: (ops: Op[]) => Promise<number>,
    private readonly expiryMs: number,
    private readonly log: Logger,
    private readonly expired: (count: number) => void,
    /** Strays kept at most; past it the oldest go at the next sweep (kick() starts one at once). */
    private readonly maxStrays = Infinity,
  ) {
    // Often enough that an entry outlives its expiry by a quarter of it at most, and at least once a minute.
    this.timer = setInterval(() => void this.sweep(), expiryMs === 0 ? 60_000 : Math.min(60_000, Math.max(100, expiryMs / 4)));
    this.timer.unref();
  }

  /** A name became lost: sweep now if there are more strays than kept. */
  kick(): void {
    if (this.registry.strays().size > this.maxStrays) void this.sweep();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async sweep(): Promise<void> {
    if (this.sweeping || this.stopped) return;
    this.sweeping = true;
    try {
      for (;;) {
        const ops = planExpireStrays(this.registry, Date.now(), this.expiryMs, this.maxStrays);
        if (ops.length === 0) break;
        await this.commit(ops);
        this.expired(ops.length);
        this.log.info('deleted lost entries nobody kept', { count: ops.length, lostForMs: this.expiryMs, strays: this.registry.strays().size, maxStrays: this.maxStrays });
        if (ops.length < MAX_EXPIRED_PER_RECORD) break;
      }
    } catch {
      // Not the primary, no quorum, or storage trouble: the next sweep tries again.
    } finally {
      this.sweeping = false;
    }
  }
}
