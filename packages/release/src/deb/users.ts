// The system users the units run as, described once and written two ways: a sysusers.d file
// (systemd-sysusers makes them) and the useradd commands postinst runs where there is none.
// The name server's unit has DynamicUser=yes: systemd makes its user for each run, so only the
// agent's user is here.
import { INSTALL_DEFAULTS, UNIT_STATE_DIR } from '@dpns/launchd';

export interface SystemUser {
  name: string;
  /** The GECOS field: what the user is for. */
  description: string;
  home: string;
}

export const SYSTEM_USERS: readonly SystemUser[] = [
  { name: INSTALL_DEFAULTS.user, description: 'dpns launch agent', home: UNIT_STATE_DIR },
];

/** The sysusers.d(5) file: a system user and its group of the same name, id chosen by the host, no login. */
export function sysusersConf(users: readonly SystemUser[] = SYSTEM_USERS): string {
  return [
    '# The users of the dpns units (dpns-launchd.service runs as User=dpns-launchd); the name server',
    '# runs as a dynamic user of its own (DynamicUser=yes) and needs none here.',
    ...users.map((u) => `u ${u.name} - "${u.description}" ${u.home} /usr/sbin/nologin`),
    '',
  ].join('\n');
}

/**
 * Shell lines making the same users without systemd-sysusers, each skipped when the user exists;
 * under $DPKG_ROOT (an install into another root) in that root's /etc/passwd.
 */
export function useraddLines(users: readonly SystemUser[] = SYSTEM_USERS): string[] {
  return users.map((u) =>
    `grep -q '^${u.name}:' "$DPKG_ROOT/etc/passwd" 2>/dev/null || useradd \${DPKG_ROOT:+--prefix "$DPKG_ROOT"} --system --user-group --home-dir ${u.home} --no-create-home --shell /usr/sbin/nologin --comment "${u.description}" ${u.name}`);
}
