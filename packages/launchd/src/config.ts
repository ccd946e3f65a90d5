// The agent's settings read from the table (settings.ts) through defaults, a JSON config file,
// DPNS_LAUNCHD_* environment variables and flags, in rising precedence, and the rules between
// settings (allowEnv names allowed programs; the logs follow the state; a key must be trusted).
// Every value is checked here, before anything starts.
import { join } from 'node:path';
import { ConfigError, parseHostPort as splitHostPort } from '@dpns/node-kit';
import { loadSettings, type HostPort } from '@dpns/settings';
import { withAllowEnv } from './setting-kinds.js';
import { AGENT_SETTINGS, type AgentSettings } from './settings.js';
import { AGENT_PORT } from './wire.js';

/** A setting that could not be used; the message names where it came from. */
export { ConfigError };

/** Every setting, with `listen` split into host and port, `allowEnv` merged into `allow`, and `logsDir` worked out. */
export type AgentConfig = Omit<AgentSettings, 'listen' | 'allowEnv' | 'logsDir'> & HostPort & { logsDir: string };

/** Settings given by name, undefined when not given: flags from the command line, or a caller's options. */
export type RawConfig = { [K in keyof AgentSettings]?: unknown };

export const HOW_TO_TRUST =
  'add the name server\'s public key (64 hex digits, printed by `dpns-nameserver key` on its host, and at its start-up) to "trustedKeys" in the config file, ' +
  `or pass ${AGENT_SETTINGS.flag('trustedKeys')} HEX (env ${AGENT_SETTINGS.env('trustedKeys')}=HEX,HEX)`;

/** Splits "host:port" or "[v6]:port". */
export function parseHostPort(s: string, where: string): HostPort {
  return splitHostPort(s, where, AGENT_PORT);
}

export interface LoadOptions {
  /** How each value was spelled on the command line (cliValues), so messages name the flag; the setting's name when absent. */
  flagNames?: Readonly<Record<string, string>>;
  /** Told each deprecated spelling used, and what to write instead. */
  warn?: (line: string) => void;
}

/** The settings, from `flags` (undefined = not given), `env` and the config file they name. */
export function loadConfig(flags: RawConfig & { config?: string }, env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): AgentConfig {
  const { config, ...given } = flags;
  const { values, deprecated } = loadSettings(AGENT_SETTINGS, { flags: given, env, ...(opts.flagNames === undefined ? {} : { flagNames: opts.flagNames }), ...(config === undefined ? {} : { configFile: config }) });
  for (const line of deprecated) opts.warn?.(line);
  const { listen, allowEnv, logsDir, ...rest } = values;
  const cfg: AgentConfig = { ...rest, ...listen, allow: withAllowEnv(values.allow, allowEnv, 'allowEnv'), logsDir: logsDir ?? join(values.stateDir, 'logs') };
  if (cfg.trustedKeys.length === 0) {
    throw new ConfigError(`no trusted name server keys, so every request would be refused: ${HOW_TO_TRUST}`);
  }
  return cfg;
}
