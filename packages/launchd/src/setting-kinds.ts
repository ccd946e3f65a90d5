// The agent's own kinds of setting value (settings.ts): trusted keys, the allowlist and the
// variables its programs may be given, users and host names. Each takes the forms a config file
// gives (JSON arrays and maps) and those flags and variables give (strings); install.ts uses the
// same checks on what it writes into a starter config.
import { isAbsolute, normalize } from 'node:path';
import { ConfigError } from '@dpns/node-kit';
import { kind, type Kind } from '@dpns/settings';
import type { AllowEntry } from './allowlist.js';
import { trustedKey } from './trusted-key.js';

const USER = /^[a-z_][a-z0-9_-]{0,31}\$?$/;
const SHORT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

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

export function userName(v: unknown, at: string): string {
  if (typeof v !== 'string' || !USER.test(v)) throw new ConfigError(`${at}: expected a user name like "svc-demo", got ${JSON.stringify(v)}`);
  return v;
}

export const trustedKeyList: Kind<string[]> = kind({ text: '64 hex digits (a public key)', flag: 'repeatable', parse: trustedKeys, show: (v) => v.join(',') });

export const allowList: Kind<AllowEntry[]> = kind({
  text: '/abs/path or NAME=/abs/path (config file also {"NAME": {"path", "env"}})', flag: 'repeatable', parse: allowEntries,
  show: (v) => v.map((e) => (e.name === undefined ? e.path : `${e.name}=${e.path}`)).join(','),
});

export const allowEnvPairs: Kind<[string, string[]][]> = kind({
  text: 'NAME=VAR (config file also {"NAME": ["VAR", …]})', flag: 'repeatable', parse: allowEnvList,
  show: (v) => v.flatMap(([name, vars]) => vars.map((x) => `${name}=${x}`)).join(','),
});

export const userList: Kind<string[]> = kind({
  text: 'user name', flag: 'repeatable', parse: (v, at) => stringList(v, at).map((u, i) => userName(u, `${at}[${i}]`)), show: (v) => v.join(','),
});

export const hostNameList: Kind<string[]> = kind({
  text: 'host name or address', flag: 'repeatable', parse: (v, at) => stringList(v, at).map((h, i) => hostName(h, `${at}[${i}]`)), show: (v) => v.join(','),
});
