// The dpns-launchd command: `run` (the default) serves name servers until SIGINT/SIGTERM;
// `install` writes the systemd unit and a starter config (and with --join enrolls the agent);
// `join` enrolls this agent's identity with the name servers using a join token. Start-up lines on stdout, logs on
// stderr. Exit 0 after a clean stop, 1 when it cannot run, 2 on bad usage or a bad setting.
import yargs, { type Argv } from 'yargs';
import { mkdir } from 'node:fs/promises';
import { parseJoinToken } from '@dpns/protocol';
import { mentionsPrivateKey } from '@dpns/node-kit';
import { cliOptions, cliValues } from '@dpns/settings';
import { ConfigError, loadConfig } from './config.js';
import { AGENT_SETTINGS, defaultStateDir } from './settings.js';
import { loadOrCreateIdentity } from './identity.js';
import { join, JoinError } from './join.js';
import { TRUST_PUBLIC_KEY } from './trusted-key.js';
import { install, INSTALL_DEFAULTS } from './install.js';
import { LedgerError } from './ledger.js';
import { createLogger } from './log.js';
import { LaunchAgent } from './server.js';
import { VERSION } from './version.js';

function runOptions(y: Argv) {
  return y.options(cliOptions(AGENT_SETTINGS));
}

function joinOptions(y: Argv) {
  return y
    .option('join', { type: 'string', demandOption: true, describe: 'the join token printed by "dpns agents join-token" (single use)' })
    .option('server', { type: 'string', array: true, demandOption: true, describe: 'a name server HOST:PORT; repeatable (a backup sends it on to the primary)' })
    .option('host', { type: 'string', describe: 'the host name the name servers dial this agent by, as services name it in their spec', defaultDescription: 'this hostname' })
    .option('state-dir', { type: 'string', describe: 'where the identity key is (made now if there is none)', defaultDescription: '/var/lib/dpns-launchd as root, else ~/.local/state/dpns-launchd' });
}

function installOptions(y: Argv) {
  return y
    .option('unit-dir', { type: 'string', default: INSTALL_DEFAULTS.unitDir, describe: 'where dpns-launchd.service is written' })
    .option('config-path', { type: 'string', default: INSTALL_DEFAULTS.configPath, describe: 'where the starter config is written (an existing one is kept)' })
    .option('force', { type: 'boolean', default: false, describe: 'replace an existing config' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'print what would be written, write nothing' })
    .option('user', { type: 'string', default: INSTALL_DEFAULTS.user, describe: 'the service user; root lets the agent start services as other users' })
    .option('exec', { type: 'string', describe: 'absolute path of the ExecStart binary', defaultDescription: 'this binary\'s dpns-launchd (the package\'s /usr/bin/dpns-launchd), or this node and this package\'s bin/dpns-launchd.js' })
    .option('trusted-key', { type: 'string', array: true, default: [] as string[], describe: 'a name server key for the config; repeatable' })
    .option('allow', { type: 'string', array: true, default: [] as string[], describe: 'a program for the config: /abs/path or NAME=/abs/path; repeatable' })
    .option('allow-env', { type: 'string', array: true, default: [] as string[], describe: 'NAME=VAR: a loader/interpreter variable launches of the allowed program NAME may set, e.g. qs=PYTHONPATH; repeatable' })
    .option('listen', { type: 'string', default: INSTALL_DEFAULTS.listen, describe: 'HOST:PORT for the config' })
    .option('join', { type: 'string', describe: 'a join token from "dpns agents join-token": enroll this agent now (needs --server)' })
    .option('server', { type: 'string', array: true, default: [] as string[], describe: 'a name server HOST:PORT to enroll with; repeatable' })
    .option('host', { type: 'string', describe: 'with --join: the host name the name servers dial this agent by', defaultDescription: 'this hostname' })
    .option('state-dir', { type: 'string', default: '/var/lib/dpns-launchd', describe: "with --join: the agent's state directory, where its identity key is made (the unit's StateDirectory)" });
}

type RunArgs = Readonly<Record<string, unknown>>;
type InstallArgs = Awaited<ReturnType<typeof installOptions>['argv']>;
type JoinArgs = Awaited<ReturnType<typeof joinOptions>['argv']>;
type Chosen = { cmd: 'run'; args: RunArgs } | { cmd: 'install'; args: InstallArgs } | { cmd: 'join'; args: JoinArgs };

export async function main(argv: string[]): Promise<number> {
  // `--trusted-key "$(cat nameserver.key)"`: yargs would take the marker line for an unknown
  // flag and say only that; say what it is instead, before anything else.
  if (argv.some((a) => mentionsPrivateKey(a))) {
    process.stderr.write(`dpns-launchd: an argument is a private key, which must never leave the name server's host; ${TRUST_PUBLIC_KEY}\n`);
    return 2;
  }
  let usageError: string | undefined;
  let chosen: Chosen | undefined;
  const parser = yargs(argv)
    .scriptName('dpns-launchd')
    .usage('$0 [run] [options]\n$0 install [options]\n$0 join --join TOKEN --server HOST:PORT [options]')
    .epilogue('The dpns launch agent starts and stops services on this host for the dpns name servers it trusts.\nSettings come from flags, then DPNS_LAUNCHD_* environment variables, then --config FILE, then defaults (docs/SETTINGS.md).')
    .command(['run', '$0'], 'run the agent (the default)', runOptions, (args) => {
      chosen = { cmd: 'run', args };
    })
    .command('install', 'write the systemd unit and a starter config', installOptions, (args) => {
      chosen = { cmd: 'install', args };
    })
    .command('join', "enroll this agent's identity with the name servers, using a join token", joinOptions, (args) => {
      chosen = { cmd: 'join', args };
    })
    .example('$0 --trusted-key KEY --allow echo=/opt/echo', 'run with settings given as flags')
    .example('$0 install --trusted-key KEY --join TOKEN --server ns1:7700', 'install, and enroll the agent with a join token')
    .example('$0 install --user root --dry-run', 'show the unit and config it would write')
    .wrap(Math.min(120, process.stdout.columns ?? 120))
    .strict()
    .version(VERSION)
    .help()
    .exitProcess(false)
    .fail((msg, err) => {
      usageError = msg ?? err?.message ?? 'bad usage';
    });
  await parser.parseAsync();
  if (usageError !== undefined) {
    process.stderr.write(`dpns-launchd: ${usageError}\nRun dpns-launchd --help for the options.\n`);
    return 2;
  }
  // --help and --version print and run no command.
  if (chosen === undefined) return 0;
  try {
    if (chosen.cmd === 'install') return await runInstall(chosen.args);
    if (chosen.cmd === 'join') return await runJoin(chosen.args);
    return await runAgent(chosen.args);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`dpns-launchd: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

async function runInstall(a: InstallArgs): Promise<number> {
  if (a.join !== undefined) {
    // Checked before anything is written, so a typo leaves no half-done install.
    if (a.server.length === 0) throw new ConfigError('--join needs --server HOST:PORT of a name server to enroll with');
    try {
      parseJoinToken(a.join);
    } catch (e) {
      throw new ConfigError(`--join: ${(e as Error).message}`);
    }
  }
  try {
    await install({
      unitDir: a['unit-dir'], configPath: a['config-path'], force: a.force, dryRun: a['dry-run'], user: a.user, exec: a.exec,
      trustedKeys: a['trusted-key'], allow: a.allow, allowEnv: a['allow-env'], listen: a.listen, out: (t) => process.stdout.write(t),
    });
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`dpns-launchd install: ${err.code === 'EACCES' ? `no permission to write ${err.path ?? 'a file'}; run as root or choose --unit-dir and --config-path` : err.message}\n`);
    return 1;
  }
  if (a.join !== undefined && !a['dry-run']) {
    return runJoin({ join: a.join, server: a.server, host: a.host, 'state-dir': a['state-dir'] });
  }
  return 0;
}

/** Enrolls the identity in the state directory (made now if there is none) with a join token. */
async function runJoin(a: Pick<JoinArgs, 'join' | 'server' | 'host' | 'state-dir'>): Promise<number> {
  try {
    // A malformed token is bad usage, found before anything is made on disk.
    parseJoinToken(a.join);
  } catch (e) {
    process.stderr.write(`dpns-launchd join: ${(e as Error).message}\n`);
    return 2;
  }
  const stateDir = a['state-dir'] ?? defaultStateDir();
  const logger = createLogger({ level: 'warn', format: 'text' });
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const identity = await loadOrCreateIdentity(stateDir, logger);
  try {
    const r = await join({ token: a.join, servers: a.server, identity: identity.key, ...(a.host === undefined ? {} : { host: a.host }) });
    process.stdout.write(`enrolled: this agent (identity ${identity.key.publicKey}) is trusted for ${r.host}\n`);
    return 0;
  } catch (e) {
    const why = e instanceof JoinError ? e.message : `${(e as Error).message}`;
    process.stderr.write(`dpns-launchd join: ${why}\n`);
    return 1;
  }
}

async function runAgent(a: RunArgs): Promise<number> {
  const given = cliValues(AGENT_SETTINGS, a);
  const warn = (line: string) => void process.stderr.write(`dpns-launchd: warning: ${line} (docs/SETTINGS.md)\n`);
  for (const line of given.deprecated) warn(line);
  const cfg = loadConfig({ ...given.values, ...(given.configFile === undefined ? {} : { config: given.configFile }) }, process.env, { flagNames: given.flagNames, warn });
  const logger = createLogger({ level: cfg.logLevel, format: cfg.logFormat });
  const agent = new LaunchAgent({ ...cfg, logger });
  try {
    await agent.start();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EADDRINUSE' ? `${cfg.host}:${cfg.port} is already in use (another agent?); choose another with --listen`
      : err.code === 'EACCES' ? `no permission for ${err.path ?? `${cfg.host}:${cfg.port}`}`
      : e instanceof LedgerError ? err.message
      : err.message;
    logger.error('cannot start', { err });
    process.stderr.write(`dpns-launchd: cannot start: ${why}\n`);
    await agent.close();
    return 1;
  }
  process.stdout.write(`dpns-launchd ${VERSION} listening on ${agent.url}\nidentity: ${agent.identity?.key.publicKey ?? '?'}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      logger.info('stopping; launched services keep running', { signal });
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await agent.close();
  return 0;
}
