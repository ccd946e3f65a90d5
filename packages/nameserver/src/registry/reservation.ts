// Names held for their owners: a name advertised by a connection that proved an owner key stays
// that key's after it is `lost`, so whoever notices first cannot take it. The hold is part of the
// entry (logged, replicated, in snapshots); its end is judged when someone tries, so no timer runs.
import { DpnsError, ownerFingerprint, type Reservation, type ServiceView } from '@dpns/protocol';
import type { Op } from './ops.js';
import type { Registry } from './registry.js';

/** Default hold: long enough to outlast a host reboot or a night's outage, short enough that a name retired without unadvertising frees itself the same day. */
export const DEFAULT_RESERVATION_MS = 6 * 3_600_000;

/**
 * The hold a service gets as it becomes `lost`: only a plain (not auto-start) name advertised by
 * an owner key. An auto-start name is already guarded by its launch ticket.
 */
export function holdOnLoss(old: ServiceView, now: number, reservationMs: number): Reservation | undefined {
  // A throwaway key (the client library's own, when given none) could never come back for it.
  const owner = old.advertiser?.kind === 'session' && old.advertiser.ephemeral !== true ? old.advertiser.owner : undefined;
  if (owner === undefined || old.spec !== undefined || reservationMs <= 0) return undefined;
  return { owner, until: now + reservationMs };
}

/** The hold on `svc` that still binds at `now`, if any. */
export function activeHold(svc: ServiceView, now: number): Reservation | undefined {
  const r = svc.reservation;
  return r !== undefined && now < r.until ? r : undefined;
}

/** Refuses a caller a name held for another key; the holder (`owner` is the key it proved) and admins pass. */
export function checkHold(svc: ServiceView, caller: { admin: boolean; owner?: string }, now: number): void {
  const r = activeHold(svc, now);
  if (r === undefined || caller.admin || caller.owner === r.owner) return;
  const fp = ownerFingerprint(r.owner);
  const until = new Date(r.until).toISOString();
  throw new DpnsError('RESERVED',
    `${svc.name} is reserved until ${until} for owner key ${fp}…, which advertised it before it was lost; ` +
    `only that key may advertise it before then, unless an admin releases it (dpns release ${svc.name})`,
    { details: { name: svc.name, owner: r.owner, fingerprint: fp, until: r.until } });
}

/** `register.release`: drops the hold on `name` (an expired one too); no op when there is none. */
export function planRelease(reg: Registry, name: string): { ops: Op[]; released?: Reservation } {
  const e = reg.get(name);
  if (e === undefined) throw new DpnsError('NOT_FOUND', `no service named ${name}`, { details: { name } });
  if (e.kind !== 'service' || e.reservation === undefined) return { ops: [] };
  const { reservation, ...rest } = e;
  return { ops: [{ t: 'put', e: rest }], released: reservation };
}
