// Log lines that a hostile peer can cause (closes, refusals, failed logins) at a bounded rate:
// a flood costs the disk and the journal a few lines a second, plus one line saying how many
// were left out.
import type { Logger } from './log.js';

export class RateLimitedLog {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  info(msg: string, fields?: Record<string, unknown>): void {
    if (this.admit()) this.log.info(msg, fields);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    if (this.admit()) this.log.warn(msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    if (this.admit()) this.log.error(msg, fields);
  }

  private admit(): boolean {
    const t = this.now();
    if (t - this.windowStart >= 1000) {
      if (this.suppressed > 0) this.log.warn('log lines left out: too many in one second', { count: this.suppressed });
      this.windowStart = t;
      this.inWindow = 0;
      this.suppressed = 0;
    }
    if (this.inWindow >= this.perSecond) {
      this.suppressed++;
      return false;
    }
    this.inWindow++;
    return true;
  }
}
