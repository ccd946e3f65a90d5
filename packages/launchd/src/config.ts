// The agent's settings from defaults, a JSON config file, DPNS_LAUNCHD_* environment variables
// and flags, in rising precedence (a list given in a higher layer replaces the lower one's).
// Every value is checked here, before anything starts.
import { homedir } from 'node:os';
import { isAbsolute, join, normalize, resolve } from 'node:path';
import type { AllowEntry } from './allowlist.js';
import type { LogLevel } from './log.js';
import { ConfigError, settingInt, settingNonEmpty, settingOneOf, parseHostPort as splitHostPort, readConfigFile } from '@dpns/node-kit';
import { trustedKey } from './trusted-key.js';
import { AGENT_PORT, AGENT_WINDOW_MS } from './wire.js';

export interface AgentConfig {
  host: string;
  port: number;
  /** Identity key, ledger, epoch. */
  stateDir: string;
  /** Where each launched service's stdout and stderr are appended. */
  logsDir: string;
  /** Hex Ed25519 public keys of the name servers whose requests are obeyed. */
  trustedKeys: string[];
  allow: AllowEntry[];
  /** Users a launch may name when the agent runs as root. */
  users: string[];
  /** The user a launch runs as when the agent runs as root and the launch names none. */
  defaultUser: string;
  windowMs: number;
  killGraceMs: number;
  logLevel: LogLevel;
  logFormat: 'json' | 'text';
  /**
   * Names the name servers may dial this host by, besides its hostname and its interfaces'
   * addresses (e.g. a DNS alias): a request naming any other host is refused (WRONG_TARGET).
   */
  hostNames: string[];
}

/** A setting that could not be used; the message names where it came from. */
export { ConfigError };

const KEYS = [
  'listen', 'stateDir', 'logsDir', 'trustedKeys', 'allow', 'allowEnv', 'users', 'defaultUser', 'windowMs', 'killGraceMs', 'logLevel', 'logFormat', 'hostNames',
] as const;
type Key = (typeof KEYS)[number];
export type RawConfig = Partial<Record<Key, unknown>>;

const ENV: Record<string, Key> = {
  DPNS_LAUNCHD_LISTEN: 'listen',
  DPNS_LAUNCHD_STATE_DIR: 'stateDir',
  DPNS_LAUNCHD_LOGS_DIR: 'logsDir',
  DPNS_LAUNCHD_TRUSTED_KEYS: 'trustedKeys',
  DPNS_LAUNCHD_ALLOW: 'allow',
  DPNS_LAUNCHD_ALLOW_ENV: 'allowEnv',
  DPNS_LAUNCHD_USERS: 'users',
  DPNS_LAUNCHD_DEFAULT_USER: 'defaultUser',
  DPNS_LAUNCHD_WINDOW_MS: 'windowMs',
  DPNS_LAUNCHD_KILL_GRACE_MS: 'killGraceMs',
  DPNS_LAUNCHD_LOG_LEVEL: 'logLevel',
  DPNS_LAUNCHD_LOG_FORMAT: 'logFormat',
  DPNS_LAUNCHD_HOST_NAMES: 'hostNames',
};
/** Environment variables holding lists, comma-separated. */
const LIST_KEYS: readonly Key[] = ['trustedKeys', 'allow', 'allowEnv', 'users', 'hostNames'];

const USER = /^[a-z_][a-z0-9_-]{0,31}\$?$/;
const SHORT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const HOW_TO_TRUST =
  'add the name server\'s public key (64 hex digits, printed by `dpns-nameserver key` on its host, and at its start-up) to "trustedKeys" in the config file, ' +
  'or pass --trusted-key HEX (env DPNS_LAUNCHD_TRUSTED_KEYS=HEX,HEX)';

export function defaultStateDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/dpns-launchd';
  return join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'dpns-launchd');
}

/** Splits "host:port" or "[v6]:port". */
export function parseHostPort(s: string, where: string): { host: string; port: number } {
  return splitHostPort(s, where, AGENT_PORT);
}

/** The settings, from `flags` (undefined = not given), `env` and the config file they name. */
export function loadConfig(flags: RawConfig & { config?: string }, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const layers: [string, RawConfig][] = [];
  const file = flags.config ?? env.DPNS_LAUNCHD_CONFIG;
  if (file !== undefined && file !== '') layers.push([`config file ${file}`, readConfigFile(String(file)) as RawConfig]);
  const fromEnv: RawConfig = {};
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    fromEnv[key] = LIST_KEYS.includes(key) ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v;
  }
  layers.push(['environment', fromEnv]);
  const fromFlags: RawConfig = {};
  for (const [k, v] of Object.entries(flags)) if (v !== undefined && k !== 'config') fromFlags[k as Key] = v;
  layers.push(['command line', fromFlags]);

  const cfg: AgentConfig = {
    host: '0.0.0.0', port: AGENT_PORT, stateDir: defaultStateDir(), logsDir: '', trustedKeys: [], allow: [], users: [],
    defaultUser: 'nobody', windowMs: AGENT_WINDOW_MS, killGraceMs: 5000, logLevel: 'info', logFormat: 'json', hostNames: [],
  };
  let allowEnv: [string, string[]][] = [];
  for (const [where, raw] of layers) {
    for (const [key, v] of Object.entries(raw)) {
      if (v === undefined) continue;
      const at = `${where}: ${key}`;
      switch (key as Key) {
        case 'listen': Object.assign(cfg, parseHostPort(settingNonEmpty(v, at), at)); break;
        case 'stateDir': cfg.stateDir = resolve(settingNonEmpty(v, at)); break;
        case 'logsDir': cfg.logsDir = resolve(settingNonEmpty(v, at)); break;
        case 'trustedKeys': cfg.trustedKeys = trustedKeys(v, at); break;
        case 'allow': cfg.allow = allowEntries(v, at); break;
        case 'allowEnv': allowEnv = allowEnvList(v, at); break;
        case 'users': cfg.users = stringList(v, at).map((u, i) => userName(u, `${at}[${i}]`)); break;
        case 'defaultUser': cfg.defaultUser = userName(v, at); break;
        case 'windowMs': cfg.windowMs = settingInt(v, [1000, 3_600_000], at); break;
        case 'killGraceMs': cfg.killGraceMs = settingInt(v, [0, 600_000], at); break;
        case 'logLevel': cfg.logLevel = settingOneOf(v, ['debug', 'info', 'warn', 'error', 'silent'] as const, at); break;
        case 'logFormat': cfg.logFormat = settingOneOf(v, ['json', 'text'] as const, at); break;
        case 'hostNames': cfg.hostNames = stringList(v, at).map((h, i) => hostName(h, `${at}[${i}]`)); break;
        default: throw new ConfigError(`${where}: unknown setting ${JSON.stringify(key)} (known: ${KEYS.join(', ')})`);
      }
    }
  }
  cfg.allow = withAllowEnv(cfg.allow, allowEnv, 'allowEnv');
  if (cfg.logsDir === '') cfg.logsDir = join(cfg.stateDir, 'logs');
  if (cfg.trustedKeys.length === 0) {
    throw new ConfigError(`no trusted name server keys, so every request would be refused: ${HOW_TO_TRUST}`);
  }
  return cfg;
}

/** Hex Ed25519 public keys, lowercased; a private key in any form is refused (trusted-key.ts). */
export function trustedKeys(v: unknown, at: string): string[] {
  return stringList(v, at).map((k, i) => trustedKey(k, `${at}[${i}]`));
}

/**
 * The allowlist: `{"name": "/abs/path"}` or `{"name": {"path": "/abs/path", "env": ["VAR"]}}`
 * (env: loader or interpreter variables a launch of it may set, env-policy.ts), or an array of
 * absolute paths, "name=/abs/path" strings and such objects (flags and the environment give strings).
 */
export function allowEntries(v: unknown, at: string): AllowEntry[] {
  const out: AllowEntry[] = [];
  const add = (name: string | undefined, value: unknown, where: string) => {
    // A map value is a path, or {"path", "env"}: the program and the loader variables it may be given.
    const obj = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    const extra = Object.keys(obj ?? {}).filter((k) => k !== 'path' && k !== 'env');
    if (extra.length > 0) throw new ConfigError(`${where}: unknown field ${JSON.stringify(extra[0])} (allowed: path, env)`);
    const path = obj === undefined ? value : obj.path;
    const env = obj?.env === undefined ? undefined : envNames(obj.env, `${where}.env`);
    if (name !== undefined && !SHORT_NAME.test(name)) {
      throw new ConfigError(`${where}: a short name is letters, digits, ".", "_" or "-" (not starting with "." or "-"), got ${JSON.stringify(name)}`);
    }
    if (typeof path !== 'string' || !isAbsolute(path) || normalize(path) !== path || path.endsWith('/')) {
      throw new ConfigError(`${where}: expected an absolute path without "." or ".." parts, like /opt/dpns/bin/echo-service, got ${JSON.stringify(path)}`);
    }
    if (name !== undefined && out.some((e) => e.name === name)) throw new ConfigError(`${where}: the short name ${JSON.stringify(name)} is given twice`);
    out.push({ ...(name === undefined ? {} : { name }), path, ...(env === undefined || env.length === 0 ? {} : { env }) });
  };
  const addMap = (m: object, where: string) => {
    for (const [name, path] of Object.entries(m)) add(name, path, `${where}.${name}`);
  };
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    addMap(v, at);
  } else if (Array.isArray(v)) {
    v.forEach((item: unknown, i) => {
      const where = `${at}[${i}]`;
      if (typeof item === 'object' && item !== null && !Array.isArray(item)) addMap(item, where);
      else if (typeof item === 'string' && !item.startsWith('/') && item.includes('=')) {
        const eq = item.indexOf('=');
        add(item.slice(0, eq), item.slice(eq + 1), where);
      } else add(undefined, item, where);
    });
  } else {
    throw new ConfigError(`${at}: expected an object of short names to absolute paths, or an array of absolute paths, got ${JSON.stringify(v)}`);
  }
  return out;
}

/** Environment variable names, as a launch's env may hold them. */
function envNames(v: unknown, at: string): string[] {
  return stringList(v, at).map((n, i) => {
    if (!ENV_NAME.test(n)) throw new ConfigError(`${at}[${i}]: expected an environment variable name like PYTHONPATH, got ${JSON.stringify(n)}`);
    return n;
  });
}

/**
 * Variables permitted per program, apart from the allow map: `{"name": ["VAR"]}`, or
 * "NAME=VAR" strings (flags, DPNS_LAUNCHD_ALLOW_ENV), NAME being a short name or an entry's path.
 */
export function allowEnvList(v: unknown, at: string): [string, string[]][] {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    return Object.entries(v).map(([name, vars]) => [name, envNames(vars, `${at}.${name}`)]);
  }
  return stringList(v, at).map((item, i) => {
    const eq = item.lastIndexOf('=');
    if (eq <= 0) throw new ConfigError(`${at}[${i}]: expected NAME=VAR (a short name or path from "allow", then a variable), got ${JSON.stringify(item)}`);
    return [item.slice(0, eq), envNames(item.slice(eq + 1), `${at}[${i}]`)];
  });
}

/** `allow` with the permissions of `allowEnv` added to the entries they name. */
export function withAllowEnv(allow: readonly AllowEntry[], allowEnv: readonly [string, string[]][], at: string): AllowEntry[] {
  const out = allow.map((e) => ({ ...e }));
  for (const [name, vars] of allowEnv) {
    const entry = out.find((e) => e.name === name || e.path === name);
    if (entry === undefined) throw new ConfigError(`${at}: ${JSON.stringify(name)} is neither a short name nor a path in "allow"; permit variables only for an allowed program`);
    entry.env = [...new Set([...(entry.env ?? []), ...vars])];
  }
  return out;
}

function stringList(v: unknown, at: string): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) {
    throw new ConfigError(`${at}: expected an array of strings, got ${JSON.stringify(v)}`);
  }
  return list as string[];
}

function hostName(v: string, at: string): string {
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(v)) throw new ConfigError(`${at}: expected a host name or address like "web-1.lan", got ${JSON.stringify(v)}`);
  return v.toLowerCase();
}

function userName(v: unknown, at: string): string {
  if (typeof v !== 'string' || !USER.test(v)) throw new ConfigError(`${at}: expected a user name like "svc-demo", got ${JSON.stringify(v)}`);
  return v;
}

