// What the dpns daemons share in reading their settings: the error for a setting that cannot
// be used, the JSON config file, and HOST:PORT.
import { readFileSync } from 'node:fs';

/** A setting that could not be used; the message names where it came from. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads a JSON config file holding one object, copied onto a null prototype. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(`config file ${path} must hold a JSON object`);
  return Object.assign(Object.create(null) as Record<string, unknown>, v);
}

/** Splits "host:port" or "[v6]:port"; `example` is the port shown in the message. */
export function parseHostPort(s: string, where: string, example: number): { host: string; port: number } {
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d+)$/.exec(s) ?? /^([^:[\]]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${where}: expected HOST:PORT like 127.0.0.1:${example} or [::1]:${example}, got ${JSON.stringify(s)}`);
  }
  return { host: m[1] as string, port };
}

/** A setting that must be a non-empty string; `at` names where it came from. */
export function settingNonEmpty(v: unknown, at: string): string {
  if (typeof v !== 'string' || v === '') throw new ConfigError(`${at}: expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/** An integer setting in [min, max]; digits in a string (from the environment) count. */
export function settingInt(v: unknown, [min, max]: readonly [number, number], at: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${at}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** A setting that must be one of `allowed`. */
export function settingOneOf<T extends string>(v: unknown, allowed: readonly T[], at: string): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(`${at}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** "host:port", with an IPv6 host in brackets: the inverse of parseHostPort, and the authority of a ws:// URL. */
export function formatHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
