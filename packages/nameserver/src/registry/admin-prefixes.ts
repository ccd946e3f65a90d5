// Prefixes an operator keeps for admins (--admin-prefix '/prod/*'): a name under one is advertised
// only by an admin connection or, for an auto-start service, by the process dpns launched with
// its ticket. Server configuration, not registry state: give every member of a cluster the same list.
import { DpnsError, compileGlob, type Glob } from '@dpns/protocol';

export class AdminPrefixes {
  private readonly globs: Glob[];

  /** `patterns` are globs as `serviceState` takes them; checked before the server starts. */
  constructor(readonly patterns: readonly string[]) {
    this.globs = patterns.map((p) => compileGlob(p, 'adminPrefixes'));
  }

  /** The first pattern `name` falls under, if any. */
  match(name: string): string | undefined {
    return this.globs.find((g) => g.match(name))?.pattern;
  }

  /** Refuses a caller that is not admin a name under an admin prefix. */
  check(name: string, admin: boolean): void {
    if (admin) return;
    const prefix = this.match(name);
    if (prefix === undefined) return;
    throw new DpnsError('FORBIDDEN', `${name} is under the admin prefix ${prefix}: only an admin connection, or the process dpns launched for an auto-start service there, may advertise it`, {
      details: { name, adminPrefix: prefix },
    });
  }
}

/** No prefix is kept for admins. */
export const NO_ADMIN_PREFIXES = new AdminPrefixes([]);
