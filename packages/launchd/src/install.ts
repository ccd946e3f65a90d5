// `dpns-launchd install`: writes the systemd unit and a starter config, and nothing else (no
// user, no directories beyond the files' own, no systemctl); says what it did and what is left.
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMAND_NAMES, formatHostPort, isSingleExecutable, singleExecutableCommand } from '@dpns/node-kit';
import { ConfigError, HOW_TO_TRUST, parseHostPort } from './config.js';
import { allowEntries, allowEnvList, trustedKeys, withAllowEnv } from './setting-kinds.js';
import { AGENT_SETTINGS } from './settings.js';
import type { AllowEntry } from './allowlist.js';
import { renderUnit, UNIT_NAME } from './unit.js';

export interface InstallOptions {
  unitDir: string;
  configPath: string;
  force: boolean;
  dryRun: boolean;
  user: string;
  /** The ExecStart binary; when absent, the running binary (`pnpm package`'s) or node and this package's bin shim. */
  exec?: string;
  trustedKeys: readonly string[];
  allow: readonly string[];
  /** NAME=VAR: loader or interpreter variables an allowed program's launches may set. */
  allowEnv?: readonly string[];
  listen: string;
  out: (text: string) => void;
}

export const INSTALL_DEFAULTS = {
  unitDir: '/etc/systemd/system',
  configPath: '/etc/dpns/launchd.json',
  user: 'dpns-launchd',
  listen: formatHostPort(AGENT_SETTINGS.defaultOf('listen').host, AGENT_SETTINGS.defaultOf('listen').port),
} as const;

/** The bin shim of this package, as installed. */
export function shimPath(): string {
  return fileURLToPath(new URL('../bin/dpns-launchd.js', import.meta.url));
}

/** The command that runs this agent: the binary's dpns-launchd, or node and the bin shim. */
function selfCommand(): string[] {
  return isSingleExecutable() ? singleExecutableCommand(COMMAND_NAMES.launchd) : [process.execPath, shimPath()];
}

/** Writes (or with dryRun, prints) the unit and the config. Throws ConfigError on bad options. */
export async function install(opts: InstallOptions): Promise<void> {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(opts.user)) throw new ConfigError(`--user: expected a user name like dpns-launchd, got ${JSON.stringify(opts.user)}`);
  if (opts.exec !== undefined && !isAbsolute(opts.exec)) throw new ConfigError(`--exec: systemd needs an absolute path, got ${JSON.stringify(opts.exec)}`);
  parseHostPort(opts.listen, '--listen');
  const keys = trustedKeys([...opts.trustedKeys], '--trusted-key');
  const allow = withAllowEnv(allowEntries([...opts.allow], '--allow'), allowEnvList([...opts.allowEnv ?? []], '--allow-env'), '--allow-env');

  const configPath = resolve(opts.configPath);
  const unitPath = join(resolve(opts.unitDir), UNIT_NAME);
  const exec = opts.exec === undefined ? selfCommand() : [opts.exec];
  const unit = renderUnit({ exec, user: opts.user, configPath });
  const config = starterConfig({ listen: opts.listen, trustedKeys: keys, allow, root: opts.user === 'root' });
  const keepConfig = existsSync(configPath) && !opts.force;
  const out = opts.out;

  if (opts.dryRun) {
    out(`dry run: nothing is written.\n\nwould write ${unitPath}:\n${unit}\n`);
    out(keepConfig ? `would keep the existing ${configPath} (--force replaces it)\n` : `would write ${configPath}:\n${config}`);
    return;
  }
  await mkdir(dirname(unitPath), { recursive: true });
  await writePublic(unitPath, unit);
  out(`wrote ${unitPath}\n`);
  if (keepConfig) {
    out(`kept the existing ${configPath} (--force replaces it)\n`);
  } else {
    await mkdir(dirname(configPath), { recursive: true });
    // Public keys and paths only (trustedKeys refused every form of a private key above):
    // readable by the service user whoever it is.
    await writePublic(configPath, config);
    out(`wrote ${configPath}\n`);
  }
  out(nextSteps({ user: opts.user, configPath, hasKeys: keys.length > 0 || keepConfig, hasAllow: allow.length > 0 || keepConfig }));
}

/**
 * Writes a file that holds nothing secret, mode 0644 whatever it was: `mode` applies only when
 * the file is created, so a replaced file (--force, a re-install) is set explicitly.
 */
async function writePublic(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o644 });
  await chmod(path, 0o644);
}

/** The config `install` writes when there is none: the agent refuses to start until it trusts a key. */
export function starterConfig(c: { listen: string; trustedKeys: string[]; allow: AllowEntry[]; root: boolean }): string {
  // An entry that permits variables is written as {"path", "env"}; every other one as its path.
  const value = (e: AllowEntry) => (e.env === undefined ? e.path : { path: e.path, env: e.env });
  const allow = c.allow.every((e) => e.name !== undefined)
    ? Object.fromEntries(c.allow.map((e) => [e.name, value(e)]))
    : c.allow.map((e) => (e.name === undefined ? e.path : { [e.name]: value(e) }));
  // A bare path has no object to carry its variables: they go under "allowEnv", keyed by the path.
  const unnamed = c.allow.filter((e) => e.name === undefined && e.env !== undefined);
  const config = {
    listen: c.listen,
    trustedKeys: c.trustedKeys,
    allow,
    ...(unnamed.length === 0 ? {} : { allowEnv: Object.fromEntries(unnamed.map((e) => [e.path, e.env])) }),
    ...(c.root ? { users: [], defaultUser: AGENT_SETTINGS.defaultOf('defaultUser') } : {}),
    windowMs: AGENT_SETTINGS.defaultOf('windowMs'),
    killGraceMs: AGENT_SETTINGS.defaultOf('killGraceMs'),
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

function nextSteps(s: { user: string; configPath: string; hasKeys: boolean; hasAllow: boolean }): string {
  const steps: string[] = [];
  if (s.user !== 'root') steps.push(`create the service user if it does not exist: useradd --system --no-create-home --shell /usr/sbin/nologin ${s.user}`);
  if (!s.hasKeys) steps.push(`the agent will not start without a trusted key: ${HOW_TO_TRUST.replace('the config file', s.configPath)}`);
  if (!s.hasAllow) steps.push(`list the programs it may start under "allow" in ${s.configPath}, e.g. {"echo": "/opt/dpns/bin/echo-service"}`);
  steps.push('systemctl daemon-reload && systemctl enable --now dpns-launchd');
  return `next:\n${steps.map((x) => `  - ${x}\n`).join('')}`;
}
