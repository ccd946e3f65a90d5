// Scale to zero (PROTOCOL.md §7.7): when an auto-start service with an idle stop has gone unused
// long enough to be stopped. A pure function of the entry and the clock, like health-rules.ts,
// so the idle stopper (launch/idle-stopper.ts) only keeps the clock, sweeps and kills.
import { durationText, type EntryView } from '@dpns/protocol';

/** Stop it, saying why (the entry's `reason`), or leave it (`idleMs` left before it may be stopped, when it counts down at all). */
export type IdleVerdict = { stop: true; reason: string } | { stop: false; leftMs?: number };

/**
 * Whether `e` is to be stopped for being idle at `now`. It is idle since the latest of: its last
 * use (`lastUse`: a find, DNS answer, launchService or authenticateService, as the primary saw
 * it), the time it entered `running` (`e.since`: a launch by the restart policy or an admin
 * starts the clock too), and `activeSince` (when this server became the primary: uses seen by
 * the one before are not known, so a failover never stops a service sooner than its idle stop).
 *
 * Only a `running` service is stopped: not while it is starting or stopping (a launch or kill is
 * under way), not `unhealthy` (its restart policy replaces it), not one that is not advertised.
 * Its reported load must be zero; a service that never reported one counts as zero, since
 * lookups are then the only sign of use there is.
 */
export function idleVerdict(e: EntryView | undefined, lastUse: number | undefined, activeSince: number, now: number): IdleVerdict {
  if (e?.kind !== 'service' || e.spec?.idleStopMs === undefined || e.state !== 'running') return { stop: false };
  if (e.load !== undefined && e.load !== 0) return { stop: false };
  const since = Math.max(lastUse ?? 0, e.since, activeSince);
  const idleMs = now - since;
  if (idleMs < e.spec.idleStopMs) return { stop: false, leftMs: e.spec.idleStopMs - idleMs };
  return { stop: true, reason: `idle for ${durationText(Math.floor(idleMs / 1000) * 1000)}` };
}
