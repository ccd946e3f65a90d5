// The server's settings read from the table (settings.ts) through defaults, a JSON config file,
// DPNS_* environment variables and flags, in rising precedence, and the rules between settings
// (a cluster member's own entry, where it listens). Every value is checked before anything starts.
import { DEFAULT_PORT } from '@dpns/protocol';
import { ConfigError, formatHostPort, parseHostPort as splitHostPort } from '@dpns/node-kit';
import { loadSettings, type HostPort } from '@dpns/settings';
import type { ClusterConfig } from './cluster/cluster-config.js';
import type { Logger } from './log.js';
import type { NameServerOptions } from './server.js';
import { SERVER_SETTINGS, type ServerSettings } from './settings.js';

export { ConfigError };

/** Splits "host:port" or "[v6]:port". */
export function parseHostPort(s: string, where: string): HostPort {
  return splitHostPort(s, where, DEFAULT_PORT);
}

/** Every setting, with `listen` split into the host and port the server binds. */
export type ServerConfig = Omit<ServerSettings, 'listen'> & HostPort;

/** Settings given by name, undefined when not given: flags from the command line, or a caller's options. */
export type RawSettings = { [K in keyof ServerSettings]?: unknown };

export interface LoadOptions {
  /** How each value was spelled on the command line (cliValues), so messages name the flag; the setting's name when absent. */
  flagNames?: Readonly<Record<string, string>>;
  /** Told each deprecated spelling used, and what to write instead. */
  warn?: (line: string) => void;
}

/** The settings from `flags`, `env` and the config file they name (flags.config, else DPNS_CONFIG). */
export function loadConfig(flags: RawSettings & { config?: string }, env: NodeJS.ProcessEnv = process.env, opts: LoadOptions = {}): ServerConfig {
  const { config, ...given } = flags;
  const loaded = loadSettings(SERVER_SETTINGS, { flags: given, env, ...(opts.flagNames === undefined ? {} : { flagNames: opts.flagNames }), ...(config === undefined ? {} : { configFile: config }) });
  for (const line of loaded.deprecated) opts.warn?.(line);
  const { listen, ...rest } = loaded.values;
  const cfg: ServerConfig = { ...rest, ...listen };
  if (cfg.cluster !== undefined) {
    if (cfg.self === undefined) {
      if (cfg.join) throw new ConfigError('join: say where this server is with --self HOST:PORT (as the other members will dial it)');
      if (cfg.cluster.length > 1) throw new ConfigError(`cluster: say which member this server is with --self (one of ${cfg.cluster.join(', ')})`);
      cfg.self = cfg.cluster[0] as string;
    }
    if (cfg.join) {
      if (cfg.cluster.includes(cfg.self)) throw new ConfigError(`join: ${cfg.self} is in the cluster list already; a joining server gives the list the cluster was started with, and its own HOST:PORT (not in it) as self`);
    } else if (!cfg.cluster.includes(cfg.self)) throw new ConfigError(`self: ${cfg.self} is not in the cluster list ${cfg.cluster.join(',')}; write it exactly as it appears there`);
    // A member listens where the others dial it, unless told otherwise (e.g. 0.0.0.0).
    if (!loaded.given.has('listen')) Object.assign(cfg, parseHostPort(cfg.self, 'self'));
  } else if (cfg.self !== undefined) throw new ConfigError('self: only meaningful with --cluster');
  else if (cfg.join) throw new ConfigError('join: only meaningful with --cluster (the list the running cluster was started with) and --self');
  return cfg;
}

/** The cluster this configuration describes; a stand-alone server is a cluster of one. */
export function clusterOf(cfg: ServerConfig): ClusterConfig {
  const members = cfg.cluster ?? [formatHostPort(cfg.host, cfg.port)];
  return {
    members, self: cfg.self === undefined ? 0 : members.indexOf(cfg.self), address: cfg.self ?? members[0] as string, join: cfg.join, replication: cfg.replication, clusterHeartbeatMs: cfg.clusterHeartbeatMs,
    clusterMisses: cfg.clusterMisses, twoNodeFailover: cfg.twoNodeFailover, readFromBackups: cfg.readFromBackups,
  };
}

// Every setting reaches the server, and the server takes no option that is not a setting: adding
// a setting to the table without giving it to NameServer (or the reverse) fails to compile here,
// naming the key ("'none' is not assignable to 'fooMs'").
/** Settings main.ts and start.ts turn into something else: the bound address, the logger, the cluster. */
type ConsumedBeforeTheServer = 'listen' | 'logLevel' | 'logFormat' | 'cluster' | 'self' | 'join' | keyof Omit<ClusterConfig, 'members' | 'self'>;
type ServerSide = Exclude<keyof ServerSettings, ConsumedBeforeTheServer>;
// dataAhead is not a setting: reads main.ts started before it loaded the server's modules.
type OptionKeys = Exclude<keyof NameServerOptions, 'host' | 'port' | 'cluster' | 'logger' | 'dataAhead'>;
type NoneOr<K> = [K] extends [never] ? 'none' : K;
const _settingsNotInNameServerOptions: NoneOr<Exclude<ServerSide, OptionKeys>> = 'none';
const _nameServerOptionsNotInTheTable: NoneOr<Exclude<OptionKeys, ServerSide>> = 'none';

/** What NameServer is given: the settings as loaded, the cluster made of them, a logger. */
export function serverOptions(cfg: ServerConfig, logger: Logger): NameServerOptions {
  return { ...cfg, cluster: clusterOf(cfg), logger };
}
