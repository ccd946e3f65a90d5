// The admin's config files in /etc/dpns, dpkg conffiles: an upgrade keeps the admin's edits.
// The agent's is the starter config `dpns-launchd install` writes: it trusts no name server, so
// the agent refuses to start until the admin lists one (or `dpns-launchd install --force` does).
import { INSTALL_DEFAULTS, starterConfig } from '@dpns/launchd';
import { LAUNCHD_CONFIG, NAMESERVER_CONFIG } from './layout.js';
import type { PackagedFile } from './units.js';

/** The name server's settings, keyed by their names (docs/SETTINGS.md); deb.test.ts has its loader read them. */
const NAMESERVER_SETTINGS = {
  listen: '0.0.0.0:7700',
};

export function configFiles(): PackagedFile[] {
  return [
    { path: NAMESERVER_CONFIG, text: `${JSON.stringify(NAMESERVER_SETTINGS, null, 2)}\n` },
    { path: LAUNCHD_CONFIG, text: starterConfig({ listen: INSTALL_DEFAULTS.listen, trustedKeys: [], allow: [], root: false }) },
  ];
}
