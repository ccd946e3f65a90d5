// Which requests a server answers in which role: the primary answers everything; a backup only
// what needs no primary (and, with --read-from-backups, reads); the rest get NOT_PRIMARY naming
// the primary, so the client moves there.
import { hasWildcard, type DpnsError } from '@dpns/protocol';

/** Answered by any member in any role. */
const ANYWHERE: ReadonlySet<string> = new Set(['login', 'identify', 'ping', 'servers', 'unwatch', 'modules.list']);
/** Answered by a backup that serves reads ('@module': a call to an external module, which cannot write). */
const READS: ReadonlySet<string> = new Set(['listServices', 'serviceState', 'watch', 'register.info', 'agents.list', '@module']);

export interface RoleCheck {
  writeRefusal(): DpnsError | undefined;
  readRefusal(): DpnsError | undefined;
}

/** Why this server will not answer `method` in its current role, or undefined when it will. */
export function refusalFor(method: string, rawParams: unknown, role: RoleCheck): DpnsError | undefined {
  if (ANYWHERE.has(method)) return undefined;
  if (READS.has(method) || (method === 'findServices' && !mayLaunch(rawParams))) return role.readRefusal();
  return role.writeRefusal();
}

/** A find of a plain name launches a stopped auto-start service unless told not to: that needs the primary. */
function mayLaunch(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null) return false;
  const p = raw as { pattern?: unknown; launch?: unknown };
  return p.launch !== false && typeof p.pattern === 'string' && !hasWildcard(p.pattern);
}
