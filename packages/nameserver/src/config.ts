// The server's settings from defaults, a JSON config file, DPNS_* environment variables and
// flags, in rising precedence; every value is checked here, before anything starts.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, formatHostPort, settingInt, settingNonEmpty, settingOneOf, DEFAULT_MAX_FRAME_BYTES, DEFAULT_PORT, parseHostPort as splitHostPort, readConfigFile } from '@dpns/protocol';

/** Splits "host:port" or "[v6]:port". */
export function parseHostPort(s: string, where: string): { host: string; port: number } {
  return splitHostPort(s, where, DEFAULT_PORT);
}
import type { LogLevel } from './log.js';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  heartbeatMs: number;
  graceMs: number;
  maxFrameBytes: number;
  maxWatchesPerConnection: number;
  maxConnections: number;
  snapshotEvery: number;
  logLevel: LogLevel;
  logFormat: 'json' | 'text';
  /** The port launch agents listen on. */
  agentPort: number;
  /** How long one agent operation may take. */
  agentTimeoutMs: number;
  /** host:port that launched services should use to reach this server; the listen address by default. */
  publicAddress?: string;
  /** Module files loaded at start; `<dataDir>/modules.d` when that exists and this is not set. */
  modulesDir?: string;
  /** A module call's time limit; past it the module's worker is stopped and restarted. */
  moduleTimeoutMs: number;
  /** Import, snapshot and init of a module, together. */
  moduleLoadTimeoutMs: number;
  /** Each module worker's heap limit, in MB. */
  moduleMemoryMb: number;
  /** Failures in a row after which a module stays failed. */
  moduleMaxRestarts: number;
  /** Niceness of module worker threads on Linux (0 leaves them at the server's). */
  moduleNice: number;
}

export { ConfigError };

type Raw = Partial<Record<keyof ServerConfig | 'listen', unknown>>;

const NUMERIC: Record<string, [number, number]> = {
  heartbeatMs: [20, 60_000],
  graceMs: [0, 3_600_000],
  maxFrameBytes: [1024, 64 * 1024 * 1024],
  maxWatchesPerConnection: [1, 1_000_000],
  maxConnections: [1, 1_000_000],
  snapshotEvery: [10, 100_000_000],
  agentPort: [1, 65535],
  agentTimeoutMs: [100, 600_000],
  moduleTimeoutMs: [10, 600_000],
  moduleLoadTimeoutMs: [100, 600_000],
  moduleMemoryMb: [16, 65_536],
  moduleMaxRestarts: [0, 1000],
  moduleNice: [0, 19],
};

const ENV: Record<string, keyof Raw> = {
  DPNS_LISTEN: 'listen',
  DPNS_DATA_DIR: 'dataDir',
  DPNS_HEARTBEAT_MS: 'heartbeatMs',
  DPNS_GRACE_MS: 'graceMs',
  DPNS_MAX_FRAME_BYTES: 'maxFrameBytes',
  DPNS_LOG_LEVEL: 'logLevel',
  DPNS_LOG_FORMAT: 'logFormat',
  DPNS_AGENT_PORT: 'agentPort',
  DPNS_PUBLIC_ADDRESS: 'publicAddress',
  DPNS_MODULES_DIR: 'modulesDir',
};

export function defaultDataDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/dpns';
  return join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'dpns');
}

export function loadConfig(flags: Raw & { config?: string }, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const layers: [string, Raw][] = [];
  const file = flags.config ?? env.DPNS_CONFIG;
  if (file !== undefined) layers.push([`config file ${file}`, readConfigFile(String(file)) as Raw]);
  const fromEnv: Raw = {};
  for (const [k, key] of Object.entries(ENV)) if (env[k] !== undefined && env[k] !== '') fromEnv[key] = env[k];
  layers.push(['environment', fromEnv]);
  const fromFlags: Raw = {};
  for (const [k, v] of Object.entries(flags)) if (v !== undefined && k !== 'config') fromFlags[k as keyof Raw] = v;
  layers.push(['command line', fromFlags]);

  const cfg: ServerConfig = {
    host: '127.0.0.1', port: DEFAULT_PORT, dataDir: defaultDataDir(), heartbeatMs: 1000, graceMs: 5000,
    maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, maxWatchesPerConnection: 1000, maxConnections: 20_000,
    snapshotEvery: 50_000, logLevel: 'info', logFormat: 'json', agentPort: 7701, agentTimeoutMs: 10_000,
    moduleTimeoutMs: 1000, moduleLoadTimeoutMs: 5000, moduleMemoryMb: 128, moduleMaxRestarts: 5, moduleNice: 10,
  };
  for (const [where, raw] of layers) {
    for (const [key, v] of Object.entries(raw)) {
      if (v === undefined) continue;
      const at = `${where}: ${key}`;
      if (key === 'listen') Object.assign(cfg, parseHostPort(String(v), at));
      else if (key === 'dataDir') cfg.dataDir = resolve(settingNonEmpty(v, at));
      else if (key === 'modulesDir') cfg.modulesDir = resolve(settingNonEmpty(v, at));
      else if (key in NUMERIC) (cfg as unknown as Record<string, number>)[key] = settingInt(v, NUMERIC[key] as [number, number], at);
      else if (key === 'logLevel') cfg.logLevel = settingOneOf(v, ['debug', 'info', 'warn', 'error', 'silent'] as const, at);
      else if (key === 'logFormat') cfg.logFormat = settingOneOf(v, ['json', 'text'] as const, at);
      else if (key === 'publicAddress') {
        const { host, port } = parseHostPort(String(v), at);
        cfg.publicAddress = formatHostPort(host, port);
      }
      else throw new ConfigError(`${where}: unknown setting ${JSON.stringify(key)}`);
    }
  }
  return cfg;
}

