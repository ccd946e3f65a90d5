// The server's settings from defaults, a JSON config file, DPNS_* environment variables and
// flags, in rising precedence; every value is checked here, before anything starts.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileGlob, DEFAULT_MAX_FRAME_BYTES, DEFAULT_PORT } from '@dpns/protocol';
import {
  ConfigError, formatHostPort, settingInt, settingNonEmpty, settingOneOf, parseHostPort as splitHostPort, readConfigFile,
} from '@dpns/node-kit';

/** Splits "host:port" or "[v6]:port". */
export function parseHostPort(s: string, where: string): { host: string; port: number } {
  return splitHostPort(s, where, DEFAULT_PORT);
}
import type { LogLevel } from './log.js';
import { originList } from './origin-policy.js';
import type { ClusterConfig, ReplicationMode } from './cluster/cluster-config.js';
import type { MemberRestartSpec } from './cluster/member-restart.js';
import { DEFAULT_RESERVATION_MS } from './registry/reservation.js';
import { DEFAULT_LOST_EXPIRY_MS, DEFAULT_MAX_LOST_ENTRIES } from './registry/stray-expiry.js';
import { DEFAULT_QUOTAS } from './liveness.js';
import { DEFAULT_MAX_WATCHES_PER_ADDRESS } from './watch-hub.js';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  heartbeatMs: number;
  graceMs: number;
  maxFrameBytes: number;
  maxWatchesPerConnection: number;
  maxConnections: number;
  /** Client connections one source address may hold at once. */
  maxConnectionsPerAddress: number;
  /** Names one non-admin connection may keep advertised at once. */
  maxAdvertisementsPerConnection: number;
  /** Names the non-admin connections from one source address may keep advertised together. */
  maxAdvertisementsPerAddress: number;
  /** Names the non-admin connections that proved one owner key may keep advertised together. */
  maxAdvertisementsPerOwner: number;
  /** Lost entries nobody keeps, at most; past it the oldest are deleted early. */
  maxLostEntries: number;
  /** Watches the connections from one source address may hold together. */
  maxWatchesPerAddress: number;
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
  /** Each module process's heap limit, in MB. */
  moduleMemoryMb: number;
  /** Failures in a row after which a module stays failed. */
  moduleMaxRestarts: number;
  /** Niceness of module processes (0 leaves them at the server's). */
  moduleNice: number;
  /** Backup mode: every member's HOST:PORT in SID order; absent for a stand-alone server. */
  cluster?: string[];
  /** This server's entry in `cluster`. */
  self?: string;
  replication: ReplicationMode;
  /** Heartbeats between cluster members. */
  replHeartbeatMs: number;
  /** Heartbeats missed before a member counts as gone. */
  replMisses: number;
  /** In a cluster of two, let either server alone take writes (risks two primaries in a partition). */
  twoNodeFailover: boolean;
  /** Backups answer reads themselves. */
  readFromBackups: boolean;
  /** How a failed member's host agent starts it again after a takeover. */
  restartMember?: MemberRestartSpec;
  /** Host → the launch agent identities (hex Ed25519 keys) accepted on it; other agents there are refused. */
  agentKeys?: Record<string, string[]>;
  /** Browser origins, besides the server's own, whose pages may open a WebSocket to it (origin-policy.ts). */
  allowedOrigins: string[];
  /** How long a lost name stays held for the owner key that advertised it (0: not held). */
  reservationMs: number;
  /** How long a lost entry that nobody keeps stays before it is deleted (0: kept for ever). */
  lostExpiryMs: number;
  /** Globs under which only admins, or launched processes with their ticket, may advertise. */
  adminPrefixes: string[];
}

/** The cluster this configuration describes; a stand-alone server is a cluster of one. */
export function clusterOf(cfg: ServerConfig): ClusterConfig {
  const members = cfg.cluster ?? [formatHostPort(cfg.host, cfg.port)];
  return {
    members, self: cfg.self === undefined ? 0 : members.indexOf(cfg.self), replication: cfg.replication, heartbeatMs: cfg.replHeartbeatMs,
    misses: cfg.replMisses, twoNodeFailover: cfg.twoNodeFailover, readFromBackups: cfg.readFromBackups,
  };
}

export { ConfigError };

type Raw = Partial<Record<keyof ServerConfig | 'listen', unknown>>;

const NUMERIC: Record<string, [number, number]> = {
  heartbeatMs: [20, 60_000],
  graceMs: [0, 3_600_000],
  maxFrameBytes: [1024, 64 * 1024 * 1024],
  maxWatchesPerConnection: [1, 1_000_000],
  maxConnections: [1, 1_000_000],
  maxConnectionsPerAddress: [1, 1_000_000],
  maxAdvertisementsPerConnection: [1, 1_000_000],
  maxAdvertisementsPerAddress: [1, 10_000_000],
  maxAdvertisementsPerOwner: [1, 10_000_000],
  maxLostEntries: [1, 100_000_000],
  maxWatchesPerAddress: [1, 100_000_000],
  snapshotEvery: [10, 100_000_000],
  agentPort: [1, 65535],
  agentTimeoutMs: [100, 600_000],
  moduleTimeoutMs: [10, 600_000],
  moduleLoadTimeoutMs: [100, 600_000],
  moduleMemoryMb: [16, 65_536],
  moduleMaxRestarts: [0, 1000],
  moduleNice: [0, 19],
  replHeartbeatMs: [10, 60_000],
  replMisses: [2, 100],
  reservationMs: [0, 30 * 86_400_000],
  lostExpiryMs: [0, 30 * 86_400_000],
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
  DPNS_CLUSTER: 'cluster',
  DPNS_SELF: 'self',
  DPNS_REPLICATION: 'replication',
  DPNS_READ_FROM_BACKUPS: 'readFromBackups',
  DPNS_ALLOWED_ORIGINS: 'allowedOrigins',
  DPNS_RESERVATION_MS: 'reservationMs',
  DPNS_LOST_EXPIRY_MS: 'lostExpiryMs',
  DPNS_MAX_LOST_ENTRIES: 'maxLostEntries',
  DPNS_ADMIN_PREFIXES: 'adminPrefixes',
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
    maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, maxWatchesPerConnection: 1000, maxConnections: 20_000, maxConnectionsPerAddress: 5000, maxAdvertisementsPerConnection: 10_000,
    maxAdvertisementsPerAddress: DEFAULT_QUOTAS.perAddress, maxAdvertisementsPerOwner: DEFAULT_QUOTAS.perOwner, maxLostEntries: DEFAULT_MAX_LOST_ENTRIES,
    maxWatchesPerAddress: DEFAULT_MAX_WATCHES_PER_ADDRESS,
    snapshotEvery: 50_000, logLevel: 'info', logFormat: 'json', agentPort: 7701, agentTimeoutMs: 10_000,
    moduleTimeoutMs: 1000, moduleLoadTimeoutMs: 5000, moduleMemoryMb: 128, moduleMaxRestarts: 5, moduleNice: 10,
    replication: 'sync', replHeartbeatMs: 150, replMisses: 4, twoNodeFailover: false, readFromBackups: false,
    allowedOrigins: [],
    reservationMs: DEFAULT_RESERVATION_MS, adminPrefixes: [], lostExpiryMs: DEFAULT_LOST_EXPIRY_MS,
  };
  let listenGiven = false;
  for (const [where, raw] of layers) {
    for (const [key, v] of Object.entries(raw)) {
      if (v === undefined) continue;
      const at = `${where}: ${key}`;
      if (key === 'listen') {
        Object.assign(cfg, parseHostPort(String(v), at));
        listenGiven = true;
      }
      else if (key === 'cluster') cfg.cluster = memberList(v, at);
      else if (key === 'self') {
        const { host, port } = parseHostPort(String(v), at);
        cfg.self = formatHostPort(host, port);
      }
      else if (key === 'replication') cfg.replication = settingOneOf(v, ['sync', 'async'] as const, at);
      else if (key === 'twoNodeFailover' || key === 'readFromBackups') cfg[key] = settingBool(v, at);
      else if (key === 'restartMember') cfg.restartMember = restartSpec(v, at);
      else if (key === 'agentKeys') cfg.agentKeys = agentKeys(v, at);
      else if (key === 'allowedOrigins') cfg.allowedOrigins = originList(v, at);
      else if (key === 'adminPrefixes') cfg.adminPrefixes = adminPrefixes(v, at);
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
  if (cfg.cluster !== undefined) {
    if (cfg.self === undefined) {
      if (cfg.cluster.length > 1) throw new ConfigError(`cluster: say which member this server is with --self (one of ${cfg.cluster.join(', ')})`);
      cfg.self = cfg.cluster[0] as string;
    }
    if (!cfg.cluster.includes(cfg.self)) throw new ConfigError(`self: ${cfg.self} is not in the cluster list ${cfg.cluster.join(',')}; write it exactly as it appears there`);
    // A member listens where the others dial it, unless told otherwise (e.g. 0.0.0.0).
    if (!listenGiven) Object.assign(cfg, parseHostPort(cfg.self, 'self'));
  } else if (cfg.self !== undefined) throw new ConfigError('self: only meaningful with --cluster');
  return cfg;
}

/** "a:7700,b:7700" or a JSON array of HOST:PORT: distinct members, at most 15. */
function memberList(v: unknown, at: string): string[] {
  const items = Array.isArray(v) ? v : String(v).split(',');
  const members = items.map((x) => {
    const { host, port } = parseHostPort(String(x).trim(), at);
    return formatHostPort(host, port);
  });
  if (members.length === 0 || members.length > 15) throw new ConfigError(`${at}: expected 1 to 15 members, got ${members.length}`);
  if (new Set(members).size !== members.length) throw new ConfigError(`${at}: a member is listed twice`);
  return members;
}

/** {"program": "/abs/path", "args": [...], "env"?: {...}, "cwd"?: "/abs", "user"?: "name"}, as JSON text or an object. */
function restartSpec(v: unknown, at: string): MemberRestartSpec {
  let o: unknown = v;
  if (typeof v === 'string') {
    try {
      o = JSON.parse(v);
    } catch {
      throw new ConfigError(`${at}: expected JSON like {"program":"/usr/bin/dpns-nameserver","args":["--config","/etc/dpns/ns.json","--self","{self}"]}`);
    }
  }
  const r = o as Partial<MemberRestartSpec> | null;
  const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((a) => typeof a === 'string');
  const program = r?.program;
  const programOk = typeof program === 'string' && program !== '' && (program.startsWith('/') || !program.includes('/'));
  if (typeof r !== 'object' || r === null || !programOk || !strings(r.args ?? [])) {
    throw new ConfigError(`${at}: expected {"program": an absolute path or a short name from the agent's allow map, "args": [strings]} with optional env, cwd, user`);
  }
  if (r.env !== undefined && (typeof r.env !== 'object' || r.env === null || !Object.values(r.env).every((x) => typeof x === 'string'))) {
    throw new ConfigError(`${at}: env must be an object of strings`);
  }
  if ((r.cwd !== undefined && typeof r.cwd !== 'string') || (r.user !== undefined && typeof r.user !== 'string')) {
    throw new ConfigError(`${at}: cwd and user must be strings`);
  }
  const out: MemberRestartSpec = { program: program as string, args: r.args ?? [] };
  if (r.env !== undefined) out.env = r.env;
  if (r.cwd !== undefined) out.cwd = r.cwd;
  if (r.user !== undefined) out.user = r.user;
  return out;
}

/** {"host": ["hex", ...]} from a config file, or ["HOST=HEX", ...] from flags. */
function agentKeys(v: unknown, at: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (host: string, key: unknown): void => {
    if (typeof key !== 'string' || !/^[0-9a-f]{64}$/.test(key)) throw new ConfigError(`${at}: the agent key for ${host} must be 64 lowercase hex digits (the identity dpns-launchd prints), got ${JSON.stringify(key)}`);
    (out[host] ??= []).push(key);
  };
  if (Array.isArray(v) || typeof v === 'string') {
    for (const item of Array.isArray(v) ? v : [v]) {
      const m = /^([^=]+)=(.*)$/.exec(String(item));
      if (m === null) throw new ConfigError(`${at}: expected HOST=HEX, got ${JSON.stringify(item)}`);
      add(m[1] as string, m[2]);
    }
  } else if (typeof v === 'object' && v !== null) {
    for (const [host, keys] of Object.entries(v)) for (const k of Array.isArray(keys) ? keys : [keys]) add(host, k);
  } else throw new ConfigError(`${at}: expected {"host": ["hex", ...]}`);
  return out;
}

/** '/prod/*' globs: a JSON array, a flag repeated, or "a,b" from DPNS_ADMIN_PREFIXES. */
function adminPrefixes(v: unknown, at: string): string[] {
  const items = Array.isArray(v) ? v : String(v).split(',');
  return items.map((x) => {
    const p = typeof x === 'string' ? x.trim() : x;
    try {
      compileGlob(p, at);
    } catch (e) {
      throw new ConfigError(`${at}: expected a name pattern like "/prod/*": ${(e as Error).message}`);
    }
    if (typeof p !== 'string' || !p.startsWith('/')) throw new ConfigError(`${at}: expected a name pattern starting with "/", like "/prod/*", got ${JSON.stringify(p)}`);
    return p;
  });
}

function settingBool(v: unknown, at: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw new ConfigError(`${at}: expected true or false, got ${JSON.stringify(v)}`);
}

