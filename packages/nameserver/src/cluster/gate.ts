// Which requests a server answers in which role: the primary answers everything; a backup only
// what needs no primary (and, with --read-from-backups, reads); the rest get NOT_PRIMARY naming
// the primary, so the client moves there. Each method's place is in the method table
// (@dpns/protocol METHODS: `answeredBy`, `mayLaunch`, writes and launches).
import { traitsOf, type DpnsError, type MethodName } from '@dpns/protocol';

/** A call to an external module: answered where reads are (a module cannot write the registry). */
export const MODULE_CALL = '@module';

/** A refusal, undefined to go ahead, or (a primary renewing its read lease) a short wait for either. */
export type Refusal = DpnsError | undefined | Promise<DpnsError | undefined>;

export interface RoleCheck {
  writeRefusal(): DpnsError | undefined;
  readRefusal(): Refusal;
}

/** Why this server will not answer `method` in its current role, or undefined when it will. */
export function refusalFor(method: MethodName | typeof MODULE_CALL, rawParams: unknown, role: RoleCheck): Refusal {
  if (method === MODULE_CALL) return role.readRefusal();
  const t = traitsOf(method);
  if (t.kind === 'write' || t.kind === 'launch') return role.writeRefusal();
  if (t.mayLaunch?.(rawParams) === true) return role.writeRefusal();
  switch (t.answeredBy) {
    case 'any':
      return undefined;
    case 'reads':
      return role.readRefusal();
    case 'primary':
      return role.writeRefusal();
  }
}
