// The restart policy: an auto-start service with `restart: 'on-failure'` whose process dies
// (or that keeps failing its health check: it is killed first) is launched again, after a back-off that doubles with each failure in a row (1 s, 2 s, 4 s …
// at most a minute) and starts over once a launch has stayed up for a minute.
import { isAdvertisedState } from '@dpns/protocol';
import type { Logger } from '../log.js';
import type { Registry } from '../registry/registry.js';
import type { Launcher } from './launcher.js';

export interface BackOff {
  firstDelayMs: number;
  maxDelayMs: number;
  /** A launch that stayed up this long was a success: the back-off starts over. */
  stableMs: number;
}

const DEFAULT_BACKOFF: BackOff = { firstDelayMs: 1000, maxDelayMs: 60_000, stableMs: 60_000 };

interface Track {
  failures: number;
  timer: NodeJS.Timeout | undefined;
  upSince: number | undefined;
}

export class Restarter {
  private readonly tracks = new Map<string, Track>();
  private stopped = false;

  constructor(
    private readonly registry: Registry,
    private readonly launcher: Launcher,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly backOff: BackOff = DEFAULT_BACKOFF,
  ) {}

  /** A service's process went away without unadvertising (its entry is now `lost`). */
  lost(name: string): void {
    if (!this.wants(name)) return;
    const t = this.track(name);
    if (t.upSince !== undefined && this.now() - t.upSince >= this.backOff.stableMs) t.failures = 0;
    t.upSince = undefined;
    this.schedule(name, t);
  }

  /**
   * A launched service failed its health check `threshold` times in a row (it is `unhealthy`): it
   * is killed through its agent and launched again, after the back-off. Unhealthy again within
   * `stableMs` of its launch counts as a failure in a row, so a service that never gets healthy
   * is replaced less and less often.
   */
  unhealthy(name: string): void {
    if (!this.wants(name)) return;
    const t = this.track(name);
    if (t.upSince !== undefined) {
      if (this.now() - t.upSince >= this.backOff.stableMs) t.failures = 0;
      else t.failures++;
    }
    t.upSince = undefined;
    if (t.timer !== undefined) return;
    const delay = this.delayFor(t);
    this.log.info('replacing a service that fails its health check', { service: name, inMs: delay, failuresInARow: t.failures });
    t.timer = setTimeout(() => {
      t.timer = undefined;
      const e = this.registry.get(name);
      // Healthy again, stopped, deleted or relaunched meanwhile: nothing to do.
      if (!this.wants(name) || e?.kind !== 'service' || e.state !== 'unhealthy') return;
      const failures = t.failures;
      this.launcher.kill(name).then(
        () => this.relaunchAfterKill(name, failures),
        (err: unknown) => this.log.warn('could not kill an unhealthy service; it stays unhealthy', { service: name, err: (err as Error).message }),
      );
    }, delay);
    t.timer.unref();
  }

  /** A kill forgets the track (cancel): the back-off carries over to the launch that replaces it. */
  private relaunchAfterKill(name: string, failures: number): void {
    if (this.stopped) return;
    const t = this.track(name);
    t.failures = failures;
    this.relaunch(name, t);
  }

  /** Launches it; a failed launch counts, and the next try waits longer. */
  private relaunch(name: string, t: Track): void {
    this.launcher.launch(name).then(
      () => this.running(name),
      (err: unknown) => {
        t.failures++;
        this.log.warn('restart failed; trying again later', { service: name, err: (err as Error).message, failuresInARow: t.failures });
        if (this.wants(name)) this.schedule(name, t);
      },
    );
  }

  /** The service runs (advertised after a launch). */
  running(name: string): void {
    const t = this.tracks.get(name);
    if (t !== undefined) t.upSince = this.now();
  }

  /** Someone stopped, deleted or edited it on purpose: no restart is pending any more. */
  cancel(name: string): void {
    const t = this.tracks.get(name);
    if (t?.timer !== undefined) clearTimeout(t.timer);
    this.tracks.delete(name);
  }

  /** How many restarts in a row have failed, and whether one is waiting. */
  status(name: string): { failures: number; pending: boolean } | undefined {
    const t = this.tracks.get(name);
    return t === undefined ? undefined : { failures: t.failures, pending: t.timer !== undefined };
  }

  /** Acting on the registry again (this server became primary). */
  resume(): void {
    this.stopped = false;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.tracks.values()) if (t.timer !== undefined) clearTimeout(t.timer);
    this.tracks.clear();
  }

  private wants(name: string): boolean {
    const e = this.registry.get(name);
    return !this.stopped && e?.kind === 'service' && e.spec?.restart === 'on-failure';
  }

  private track(name: string): Track {
    let t = this.tracks.get(name);
    if (t === undefined) this.tracks.set(name, (t = { failures: 0, timer: undefined, upSince: undefined }));
    return t;
  }

  private delayFor(t: Track): number {
    return Math.min(this.backOff.firstDelayMs * 2 ** t.failures, this.backOff.maxDelayMs);
  }

  private schedule(name: string, t: Track): void {
    if (t.timer !== undefined) return;
    const delay = this.delayFor(t);
    this.log.info('restarting a service that died', { service: name, inMs: delay, failuresInARow: t.failures });
    t.timer = setTimeout(() => {
      t.timer = undefined;
      const e = this.registry.get(name);
      // Stopped, deleted, relaunched or re-registered meanwhile: nothing to do (an unhealthy one runs, and is replaced by unhealthy()).
      if (!this.wants(name) || e?.kind !== 'service' || isAdvertisedState(e.state) || e.state === 'stopped' || e.state === 'registered') return;
      this.relaunch(name, t);
    }, delay);
    t.timer.unref();
  }
}
