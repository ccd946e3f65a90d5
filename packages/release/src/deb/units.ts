// The two systemd units the package ships: the very units the install commands write
// (@dpns/nameserver's and @dpns/launchd's renderUnit), pointed at the installed binary's names.
import { INSTALL_DEFAULTS, renderUnit as renderAgentUnit, UNIT_NAME as AGENT_UNIT } from '@dpns/launchd';
import { renderUnit as renderServerUnit, UNIT_NAME as SERVER_UNIT } from '@dpns/nameserver';
import { COMMAND_NAMES } from '@dpns/node-kit';
import { BIN_DIR, LAUNCHD_CONFIG, NAMESERVER_CONFIG, UNIT_DIR } from './layout.js';

export interface PackagedFile {
  /** Absolute path on the host. */
  path: string;
  text: string;
}

const ORIGIN = 'installed by the dpns package';

export function packagedUnits(): PackagedFile[] {
  return [
    {
      path: `${UNIT_DIR}/${SERVER_UNIT}`,
      // No --listen: it is in the config file, which the admin edits (flags would override it).
      text: renderServerUnit({ exec: [`${BIN_DIR}/${COMMAND_NAMES.nameserver}`], configPath: NAMESERVER_CONFIG, origin: ORIGIN }),
    },
    {
      path: `${UNIT_DIR}/${AGENT_UNIT}`,
      text: renderAgentUnit({ exec: [`${BIN_DIR}/${COMMAND_NAMES.launchd}`], user: INSTALL_DEFAULTS.user, configPath: LAUNCHD_CONFIG, origin: ORIGIN }),
    },
  ];
}

/** The unit names, for the maintainer scripts. */
export const UNIT_NAMES = [SERVER_UNIT, AGENT_UNIT] as const;
