// Lost entries that nobody keeps: a connection advertised a name and went away without
// unadvertising. Left alone they pile up for ever (one anonymous connection can leave thousands),
// so once one has been lost for the expiry time, and no reservation still holds it and no alias
// points at it, it is deleted. A name that comes back before then is simply running again.
import type { Op } from './ops.js';
import type { Registry } from './registry.js';
import { activeHold } from './reservation.js';

/** Default time a stray lost entry is kept: long enough to see what went, short enough not to pile up. */
export const DEFAULT_LOST_EXPIRY_MS = 3_600_000;
/** Most deletes in one logged record: a sweep of many strays is written as several bounded records. */
export const MAX_EXPIRED_PER_RECORD = 1000;
/**
 * Most strays kept: past it the oldest go at once, whatever their age or reservation, so clients
 * that advertise, leave and come back cannot pile up lost entries faster than they expire.
 */
export const DEFAULT_MAX_LOST_ENTRIES = 100_000;

/**
 * The deletes for strays lost since `now - expiryMs` or earlier (none by age when `expiryMs` is
 * 0), and for the oldest strays past `maxStrays`; at most MAX_EXPIRED_PER_RECORD.
 */
export function planExpireStrays(reg: Registry, now: number, expiryMs: number, maxStrays = Infinity): Op[] {
  const ops: Op[] = [];
  // The set keeps the order names became strays in: the first ones are the oldest.
  let over = reg.strays().size - maxStrays;
  for (const name of reg.strays()) {
    if (over > 0 && reg.aliasesTo(name).length === 0) {
      over--;
      ops.push({ t: 'del', n: name });
      if (ops.length >= MAX_EXPIRED_PER_RECORD) break;
      continue;
    }
    if (expiryMs === 0) {
      if (over <= 0) break;
      continue;
    }
    const e = reg.get(name);
    if (e?.kind !== 'service' || now - e.since < expiryMs) continue;
    if (activeHold(e, now) !== undefined || reg.aliasesTo(name).length > 0) continue;
    ops.push({ t: 'del', n: name });
    if (ops.length >= MAX_EXPIRED_PER_RECORD) break;
  }
  return ops;
}
