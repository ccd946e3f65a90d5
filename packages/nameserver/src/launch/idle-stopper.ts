// Scale to zero (PROTOCOL.md §7.7): while this server is the primary, it remembers when each
// auto-start service with an idle stop was last used (found, resolved over DNS, launched or
// authenticated), and stops through its agent the ones idle for their idle stop (the rule is
// registry/idle-rules.ts). The next lookup launches a stopped one again, as any stopped
// auto-start service.
//
// Bounded: one sweep timer for the whole server, every SWEEP_MS while any service has an idle
// stop, reading only those (the registry's index); the memory is one number per such service.
// The last-use times are not written anywhere: a new primary starts every clock at its promotion
// (a restart too), so a service is never stopped sooner than its idle stop after either.
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../metrics.js';
import { idleVerdict } from '../registry/idle-rules.js';
import type { Registry } from '../registry/registry.js';
import type { Launcher } from './launcher.js';

/** Time between two sweeps: an idle service is stopped between its idle stop and this much later. */
export const SWEEP_MS = 1000;

export interface IdleStopperOptions {
  registry: Registry;
  launcher: Pick<Launcher, 'kill'>;
  log: Logger;
  now(): number;
  metrics?: ServerMetrics;
  sweepMs?: number;
}

export class IdleStopper {
  /** Service name → when it was last used (epoch ms), for services with an idle stop only. */
  private readonly lastUse = new Map<string, number>();
  /** Idle stops under way: a sweep does not start a second one. */
  private readonly stopping = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private active = false;
  /** When this server became the primary: no clock runs from before it. */
  private activeSince = 0;

  constructor(private readonly o: IdleStopperOptions) {}

  /** Services whose last use is remembered now. */
  get size(): number {
    return this.lastUse.size;
  }

  /** This server became the primary: every clock starts now. */
  start(): void {
    if (this.active) return;
    this.active = true;
    this.activeSince = this.o.now();
    this.lastUse.clear();
    this.timer = setInterval(() => this.sweep(), this.o.sweepMs ?? SWEEP_MS);
    this.timer.unref();
  }

  /** Stepped down, or closing. Safe to call twice. */
  stop(): void {
    this.active = false;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.lastUse.clear();
  }

  /**
   * A client used `service` (a service's own name, aliases already resolved). Only the primary
   * keeps the time, and only for services with an idle stop: everything else costs a set lookup.
   */
  used(service: string): void {
    if (this.active && this.o.registry.idleStopping().has(service)) this.lastUse.set(service, this.o.now());
  }

  /** One pass over the services with an idle stop: stops those idle long enough. */
  sweep(): void {
    if (!this.active) return;
    const names = this.o.registry.idleStopping();
    // Forget the services that lost their idle stop or were deleted.
    for (const name of this.lastUse.keys()) if (!names.has(name)) this.lastUse.delete(name);
    const now = this.o.now();
    for (const name of names) {
      if (this.stopping.has(name)) continue;
      const verdict = idleVerdict(this.o.registry.get(name), this.lastUse.get(name), this.activeSince, now);
      if (verdict.stop) this.stopIdle(name, verdict.reason);
    }
  }

  private stopIdle(name: string, reason: string): void {
    this.stopping.add(name);
    this.o.log.info('stopping a service nobody uses', { service: name, reason });
    this.o.launcher.kill(name, reason).then(
      () => this.o.metrics?.idleStops.inc(),
      (err: unknown) => {
        // The agent is unreachable or refused: try again only after another idle stop, not every sweep.
        if (this.active) this.lastUse.set(name, this.o.now());
        this.o.log.warn('could not stop an idle service; it stays running', { service: name, err: (err as Error).message });
      },
    ).finally(() => this.stopping.delete(name));
  }
}
