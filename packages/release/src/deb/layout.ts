// Where the package puts things on the host, in one place: the binary and its links, the
// units, the sysusers file and the admin's config files.
import { INSTALL_DEFAULTS } from '@dpns/launchd';
import { COMMAND_NAMES } from '@dpns/node-kit';

export const PACKAGE_NAME = 'dpns';
export const BIN_DIR = '/usr/bin';
/** The binary itself; the daemons' names are links to it. */
export const BINARY = `${BIN_DIR}/${COMMAND_NAMES.client}`;
export const LINKS = [COMMAND_NAMES.nameserver, COMMAND_NAMES.launchd].map((name) => `${BIN_DIR}/${name}`);
/** Units shipped by a package go under /usr/lib (the admin's own go in /etc/systemd/system and win). */
export const UNIT_DIR = '/usr/lib/systemd/system';
export const SYSUSERS_FILE = `/usr/lib/sysusers.d/${PACKAGE_NAME}.conf`;
export const CONFIG_DIR = '/etc/dpns';
/** The agent's config: the same path `dpns-launchd install` writes and its unit reads. */
export const LAUNCHD_CONFIG = INSTALL_DEFAULTS.configPath;
/** The name server's config, read by the packaged unit through --config. */
export const NAMESERVER_CONFIG = `${CONFIG_DIR}/nameserver.json`;
