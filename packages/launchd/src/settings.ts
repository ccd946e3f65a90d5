// Every setting of dpns-launchd's `run`, once: its name (the config-file key; the flag and the
// DPNS_LAUNCHD_* variable are spelled from it), what it takes, its default and its help. main.ts,
// config.ts, the starter config of install.ts and docs/SETTINGS.md (`pnpm run settings-doc`) are
// derived from this table.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { defineSettings, endpoint, int, logSettings, path, setting, text, type Values } from '@dpns/settings';
import { allowEnvPairs, allowList, hostNameList, trustedKeyList, userList, userName } from './setting-kinds.js';
import { AGENT_PORT, AGENT_WINDOW_MS } from './wire.js';

/** /var/lib/dpns-launchd for root (the unit's StateDirectory), else under the user's XDG state directory. */
export function defaultStateDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/dpns-launchd';
  return join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'dpns-launchd');
}

const AGENT = 'Agent';
const TRUST = 'Whom it obeys, what it runs';
const REQUESTS = 'Requests';

export const AGENT_SETTINGS = defineSettings({ command: 'dpns-launchd', envPrefix: 'DPNS_LAUNCHD_' }, {
  listen: setting({ kind: endpoint(AGENT_PORT), default: { host: '0.0.0.0', port: AGENT_PORT }, group: AGENT, help: 'HOST:PORT to listen on for name servers' }),
  stateDir: setting({
    kind: path(), default: defaultStateDir, defaultText: '/var/lib/dpns-launchd as root, else ~/.local/state/dpns-launchd', group: AGENT,
    help: 'where the identity key, the ledger of launched processes and the epoch live',
  }),
  logsDir: setting({ kind: path(), defaultText: 'STATE_DIR/logs', group: AGENT, help: 'where each launched service\'s stdout and stderr are appended' }),
  hostNames: setting({
    kind: hostNameList, default: [], flag: 'host-name', group: AGENT,
    help: 'a name the name servers dial this host by, besides its hostname, localhost and its addresses; a request naming another host is refused',
  }),
  ...logSettings(AGENT),

  trustedKeys: setting({
    kind: trustedKeyList, default: [], flag: 'trusted-key', defaultText: 'none: the agent will not start without one', group: TRUST,
    help: 'public key of a name server to obey, as `dpns-nameserver key` prints it; a private key is refused',
  }),
  allow: setting({ kind: allowList, default: [], defaultText: 'none: every launch is refused', group: TRUST, help: 'a program it may run' }),
  allowEnv: setting({
    kind: allowEnvPairs, default: [], group: TRUST,
    help: 'NAME=VAR: launches of the allowed program NAME (its short name or path) may set the loader or interpreter variable VAR, e.g. qs=PYTHONPATH',
  }),
  users: setting({ kind: userList, default: [], group: TRUST, help: 'users a launch may name when the agent runs as root; root must be listed to run anything as root' }),
  defaultUser: setting({ kind: text('user name', userName), default: 'nobody', group: TRUST, help: 'the user when a launch names none and the agent runs as root' }),

  windowMs: setting({ kind: int(1000, 3_600_000), default: AGENT_WINDOW_MS, group: REQUESTS, help: 'how far a request\'s timestamp may be from this host\'s clock' }),
  killGraceMs: setting({ kind: int(0, 600_000), default: 5000, group: REQUESTS, help: 'SIGTERM to SIGKILL, when a kill names no grace period' }),
});

/** The settings' values, as the table types them. */
export type AgentSettings = Values<typeof AGENT_SETTINGS.specs>;
