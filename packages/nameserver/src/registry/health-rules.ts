// What a health check's verdict does to an entry: pure functions of the registry, like rules.ts,
// so the checker (health/checker.ts) only probes, counts and commits what these plan.
import { isAdvertisedState, type EntryView, type HealthCheck } from '@dpns/protocol';
import type { Op } from './ops.js';
import type { Registry } from './registry.js';

/** What is probed for one entry: the address it advertises, and how. */
export interface CheckTarget {
  host: string;
  port: number;
  check: HealthCheck;
}

/**
 * What to probe for `e`, when anything: an advertised service (`running` or `unhealthy`) with an
 * address and a check, its own (static) or its launch spec's. Probes go only to this address.
 */
export function checkTarget(e: EntryView | undefined): CheckTarget | undefined {
  if (e?.kind !== 'service' || !isAdvertisedState(e.state) || e.host === undefined || e.port === undefined) return undefined;
  const check = e.check ?? e.spec?.check;
  return check === undefined ? undefined : { host: e.host, port: e.port, check };
}

/** A key that changes when what is probed changes: a new address or a new check starts the count over. */
export function targetKey(t: CheckTarget): string {
  const c = t.check;
  return JSON.stringify([t.host, t.port, c.kind, c.path ?? '', c.intervalMs, c.timeoutMs, c.threshold]);
}

/** One verdict: the probe passed, or the entry failed `threshold` probes in a row and `reason` says how. */
export type Verdict = { healthy: true } | { healthy: false; reason: string };

/**
 * The write a verdict about `probed` makes to `name`: an `unhealthy` entry whose probe passed is
 * `running` again; a `running` one that failed is `unhealthy`. Nothing when the entry changed
 * meanwhile (re-advertised elsewhere, a new check, no longer advertised) or is already so.
 */
export function planHealth(reg: Registry, name: string, probed: CheckTarget, verdict: Verdict, now: number): Op[] {
  const cur = reg.get(name);
  const target = checkTarget(cur);
  if (cur?.kind !== 'service' || target === undefined || targetKey(target) !== targetKey(probed)) return [];
  if (verdict.healthy) {
    if (cur.state !== 'unhealthy') return [];
    const { reason: _gone, ...rest } = cur;
    return [{ t: 'put', e: { ...rest, state: 'running', since: now } }];
  }
  if (cur.state !== 'running') return [];
  return [{ t: 'put', e: { ...cur, state: 'unhealthy', since: now, reason: verdict.reason } }];
}
