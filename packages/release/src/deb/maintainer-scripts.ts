// The package's maintainer scripts. They make the units' users and keep systemd's view of the
// units current, and never enable or start anything: the admin does, once the config says what
// to trust. $DPKG_ROOT is honoured (dpkg --root with chrootless scripts, as the package test
// installs it): then only that root is touched, and the running systemd is left alone.
import { SYSUSERS_FILE } from './layout.js';
import { UNIT_NAMES } from './units.js';
import { useraddLines } from './users.js';
import { basename } from 'node:path';

const UNITS = UNIT_NAMES.join(' ');
/** The units' CacheDirectory= folders (the programs' code caches), which a purge removes. */
const CACHE_DIRS = ['dpns', 'dpns-launchd'];
/** Set when systemd is the running init (and the install is into this host, not another root). */
const SYSTEMD_RUNNING = '[ -z "$DPKG_ROOT" ] && [ -d /run/systemd/system ]';

export interface MaintainerScript {
  name: 'postinst' | 'prerm' | 'postrm';
  text: string;
}

function script(name: MaintainerScript['name'], what: string, body: string[]): MaintainerScript {
  return { name, text: ['#!/bin/sh', `# ${name} of dpns: ${what}`, 'set -e', '', ...body, '', 'exit 0', ''].join('\n') };
}

export function maintainerScripts(): MaintainerScript[] {
  return [
    script('postinst', 'the units\' users, and systemd told of the units; nothing is enabled or started.', [
      'if [ "$1" = configure ]; then',
      '  if command -v systemd-sysusers >/dev/null 2>&1; then',
      `    systemd-sysusers \${DPKG_ROOT:+--root="$DPKG_ROOT"} ${basename(SYSUSERS_FILE)}`,
      '  else',
      ...useraddLines().map((l) => `    ${l}`),
      '  fi',
      `  if ${SYSTEMD_RUNNING}; then`,
      '    systemctl daemon-reload || true',
      '    # An upgrade restarts what was running, and only that: the name server\'s log makes its',
      '    # restart lossless, and the agent\'s services are not in its unit\'s kill set.',
      `    if [ -n "$2" ]; then systemctl try-restart ${UNITS} || true; fi`,
      '  fi',
      'fi',
    ]),
    script('prerm', 'stops the units when the package is removed (not on upgrade).', [
      `if [ "$1" = remove ] && ${SYSTEMD_RUNNING}; then`,
      `  systemctl stop ${UNITS} || true`,
      'fi',
    ]),
    script('postrm', 'forgets the units; a purge also removes their enablement and the compiled-code caches. Users and /var/lib data are kept.', [
      'if [ "$1" = purge ]; then',
      ...CACHE_DIRS.map((d) => `  rm -rf "$DPKG_ROOT/var/cache/${d}" "$DPKG_ROOT/var/cache/private/${d}"`),
      ...UNIT_NAMES.map((u) => `  rm -f "$DPKG_ROOT/etc/systemd/system/multi-user.target.wants/${u}"`),
      'fi',
      `if { [ "$1" = remove ] || [ "$1" = purge ]; } && ${SYSTEMD_RUNNING}; then`,
      '  systemctl daemon-reload || true',
      'fi',
    ]),
  ];
}
