// The name server's own kinds of setting value (settings.ts): the cluster's member list, a
// member's restart spec, launch agent keys, admin prefixes and browser origins. Each takes the
// forms a config file gives (JSON arrays and objects) and those a flag or a variable gives (text).
import { compileGlob, DEFAULT_PORT } from '@dpns/protocol';
import { ConfigError, formatHostPort, parseHostPort } from '@dpns/node-kit';
import { kind, type Kind } from '@dpns/settings';
import type { MemberRestartSpec } from './cluster/member-restart.js';
import { originList } from './origin-policy.js';

/** "a:7700,b:7700" or a JSON array of HOST:PORT: distinct members, at most 15. */
export const members: Kind<string[]> = kind({
  text: 'HOST:PORT,HOST:PORT,… (1 to 15, in SID order)', flag: 'string', show: (v) => v.join(','),
  parse(v, at) {
    const items = Array.isArray(v) ? v : String(v).split(',');
    const list = items.map((x) => {
      const { host, port } = parseHostPort(String(x).trim(), at, DEFAULT_PORT);
      return formatHostPort(host, port);
    });
    if (list.length === 0 || list.length > 15) throw new ConfigError(`${at}: expected 1 to 15 members, got ${list.length}`);
    if (new Set(list).size !== list.length) throw new ConfigError(`${at}: a member is listed twice`);
    return list;
  },
});

/** {"program": "/abs/path", "args": [...], "env"?: {...}, "cwd"?: "/abs", "user"?: "name"}, as JSON text or an object. */
export const restartSpec: Kind<MemberRestartSpec> = kind({
  text: 'JSON {"program", "args", "env"?, "cwd"?, "user"?}', flag: 'string', show: (v) => JSON.stringify(v),
  parse(v, at) {
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
  },
});

/** {"host": ["hex", ...]} from a config file, or ["HOST=HEX", ...] from flags and the environment. */
export const agentKeys: Kind<Record<string, string[]>> = kind({
  text: 'HOST=HEX (config file: {"host": ["hex", …]})', flag: 'repeatable',
  show: (v) => Object.entries(v).flatMap(([h, keys]) => keys.map((k) => `${h}=${k}`)).join(','),
  parse(v, at) {
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
  },
});

/** '/prod/*' globs: a JSON array, a flag repeated, or "a,b" in a variable. */
export const adminPrefixes: Kind<string[]> = kind({
  text: 'name pattern starting with /', flag: 'repeatable', show: (v) => v.join(','),
  parse(v, at) {
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
  },
});

/** Browser origins; a flag may also list several comma-separated. */
export const origins: Kind<string[]> = kind({
  text: 'origin like http://ops.example:8080', flag: 'repeatable', show: (v) => v.join(','),
  parse: (v, at) => originList(Array.isArray(v) ? v.flatMap((s) => String(s).split(',')) : v, at),
});
