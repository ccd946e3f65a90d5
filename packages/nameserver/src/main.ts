// The dpns-nameserver command: flags, start-up lines on stdout, logs on stderr, and a clean
// stop on SIGINT/SIGTERM. Exit 0 after a clean stop, 1 when it cannot run, 2 on bad usage.
import yargs, { type Argv } from 'yargs';
import { cliOptions, cliValues } from '@dpns/settings';
import { formatHostPort } from '@dpns/node-kit';
import { fastStartInfo } from '@dpns/node-kit/fast-start';
import { ConfigError, loadConfig, serverOptions } from './config.js';
import { createLogger } from './log.js';
import { Store } from './storage/store.js';
import { VERSION } from './version.js';
import { HeapReducer } from './heap-reducer.js';
import { install } from './install.js';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadOrCreateAdminToken } from './admin-token.js';
import { loadOrCreateNameServerKey } from './nameserver-key.js';
import { keyCommandText } from './key-command.js';
import { defaultDataDir, SERVER_SETTINGS } from './settings.js';

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'install') return installCommand(argv.slice(1));
  if (argv[0] === 'init') return initCommand(argv.slice(1));
  if (argv[0] === 'key') return keyCommand(argv.slice(1));
  let usageError: string | undefined;
  let helpShown = false;
  const parser = yargs(argv)
    .scriptName('dpns-nameserver')
    .usage('$0 [options]\n\nRuns the dpns name server: JSON-RPC 2.0 over WebSocket (docs/PROTOCOL.md).\nSettings come from flags, then DPNS_* environment variables, then --config FILE, then defaults (docs/SETTINGS.md).')
    .options(cliOptions(SERVER_SETTINGS))
    .wrap(Math.min(120, process.stdout.columns ?? 120))
    .example('$0 --cluster a:7700,b:7700,c:7700 --self b:7700 --data-dir /var/lib/dpns', 'member 1 of a three-server cluster (copy nameserver.key and admin.token to every member first)')
    .example('$0 --listen 0.0.0.0:7700 --data-dir /var/lib/dpns', 'serve the network, state in /var/lib/dpns')
    .epilogue('dpns-nameserver install [--dry-run]: write a hardened systemd unit for it (see dpns-nameserver install --help).\ndpns-nameserver init --data-dir DIR: make the key and token a cluster\'s members share.\ndpns-nameserver key [--data-dir DIR] [--json]: print the public key launch agents trust.')
    .strict()
    .version(VERSION)
    .help()
    .exitProcess(false)
    .fail((msg, err) => {
      usageError = msg ?? err?.message ?? 'bad usage';
    });
  const args = await parser.parseAsync();
  if (usageError !== undefined) {
    process.stderr.write(`dpns-nameserver: ${usageError}\nRun dpns-nameserver --help for the options.\n`);
    return 2;
  }
  if (argv.includes('--help') || argv.includes('-h') || argv.includes('--version')) helpShown = true;
  if (helpShown) return 0;

  let cfg;
  try {
    const given = cliValues(SERVER_SETTINGS, args);
    const warn = (line: string) => void process.stderr.write(`dpns-nameserver: warning: ${line} (docs/SETTINGS.md)\n`);
    for (const line of given.deprecated) warn(line);
    cfg = loadConfig({ ...given.values, ...(given.configFile === undefined ? {} : { config: given.configFile }) }, process.env, { flagNames: given.flagNames, warn });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`dpns-nameserver: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const logger = createLogger({ level: cfg.logLevel, format: cfg.logFormat });
  const fast = fastStartInfo();
  // The release's bundle (the binary's script) gives every file the bundle's path as import.meta.url; the fast start's keeps each file's own.
  const from = fast !== undefined ? fast.from : import.meta.url.endsWith('/dist/main.js') ? 'modules' : 'release bundle';
  logger.info('program loaded', fast === undefined ? { from } : { from, bundle: fast.bundle, codeCache: fast.codeCache });
  // The server's modules are loaded only now, while the newest snapshot is read (~100 ms each at a million names).
  const dataAhead = Store.readAhead(cfg.dataDir);
  const { NameServer } = await import('./server.js');
  const server = new NameServer({ ...serverOptions(cfg, logger), dataAhead });
  let fatal = false;
  server.onFatal = () => {
    fatal = true;
  };
  try {
    await server.start();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EADDRINUSE' ? `${cfg.host}:${cfg.port} is already in use (another name server?); choose another with --listen`
      : err.code === 'EACCES' ? `no permission for ${err.path ?? `${cfg.host}:${cfg.port}`}`
      : err.message;
    logger.error('cannot start', { err });
    process.stderr.write(`dpns-nameserver: cannot start: ${why}\n`);
    await server.close();
    return 1;
  }
  process.stdout.write(
    `dpns-nameserver ${VERSION} listening on ${server.url}\n` +
    `data directory: ${cfg.dataDir}\n` +
    `admin token: ${server.tokenPath}${server.tokenCreated ? ' (created now, mode 0600)' : ''}\n` +
    `nameserver key: ${server.publicKey} (list it in each dpns-launchd's trustedKeys)\n` +
    (server.dns === undefined ? '' : `dns: listening on ${formatHostPort(cfg.dnsListen?.host ?? cfg.host, server.dns.port)} (udp, tcp) for ${cfg.dnsDomain}\n`),
  );
  // The heap is the process's, so this is the binary's and not the server's (tests run several in one process).
  const reducer = await HeapReducer.start({ log: logger });
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      logger.info('stopping', { signal: sig });
      clearInterval(poll);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    const poll = setInterval(() => {
      if (server.state === 'closing' || server.state === 'closed') {
        clearInterval(poll);
        resolve();
      }
    }, 200);
  });
  reducer?.stop();
  await server.close();
  return fatal ? 1 : 0;
}

/** A subcommand's flags parsed strictly: its args, or the exit code once help (0) or a usage error (2) was printed. */
async function subcommandArgs<T>(name: string, argv: string[], parser: Argv<T>): Promise<T | number> {
  let usageError: string | undefined;
  const args = await parser
    .scriptName(`dpns-nameserver ${name}`)
    .strict()
    .help()
    .exitProcess(false)
    .fail((msg, err) => {
      usageError = msg ?? err?.message ?? 'bad usage';
    })
    .parseAsync();
  if (usageError !== undefined) {
    process.stderr.write(`dpns-nameserver ${name}: ${usageError}\nRun dpns-nameserver ${name} --help for the options.\n`);
    return 2;
  }
  if (argv.includes('--help') || argv.includes('-h')) return 0;
  return args as T;
}

/** `dpns-nameserver init`: the key and token a cluster's members share, made once and copied to the others. */
async function initCommand(argv: string[]): Promise<number> {
  const parsed = await subcommandArgs('init', argv, yargs(argv)
    .usage('$0 --data-dir DIR\n\nMakes nameserver.key and admin.token in DIR (if missing) and prints what to copy where.\nEvery member of a cluster needs the same two files in its data directory before its first start.')
    .option('data-dir', { type: 'string', demandOption: true, describe: 'the data directory to make them in' }));
  if (typeof parsed === 'number') return parsed;
  const args = parsed;
  const dir = resolve(args['data-dir']);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = await loadOrCreateNameServerKey(dir);
  const token = await loadOrCreateAdminToken(dir, createLogger({ level: 'warn', format: 'text' }));
  process.stdout.write(
    `${key.created ? 'made' : 'kept'} ${key.path}\n${token.created ? 'made' : 'kept'} ${token.path}\n` +
    `nameserver key: ${key.key.publicKey} (list it in each dpns-launchd's trustedKeys)\n` +
    'Copy both files (mode 0600, owned by the server\'s user) into every other member\'s data directory before it first starts.\n',
  );
  return 0;
}

/** `dpns-nameserver key`: the public key agents trust, from the data directory's private key file; reads only. */
async function keyCommand(argv: string[]): Promise<number> {
  const parsed = await subcommandArgs('key', argv, yargs(argv)
    .usage('$0 [--data-dir DIR] [--json]\n\nPrints the public key of this name server: the value for dpns-launchd --trusted-key (and "trustedKeys").\nIt reads DIR/nameserver.key, the private key, which never leaves this host but to the other members of a cluster.')
    .option('data-dir', { type: 'string', describe: `the data directory (env ${SERVER_SETTINGS.env('dataDir')})`, defaultDescription: SERVER_SETTINGS.specs.dataDir.defaultText })
    .option('json', { type: 'boolean', default: false, describe: 'print {"publicKey", "keyFile", "format"}' }));
  if (typeof parsed === 'number') return parsed;
  const dir = resolve(parsed['data-dir'] ?? (process.env[SERVER_SETTINGS.env('dataDir')] || defaultDataDir()));
  try {
    process.stdout.write(await keyCommandText(dir, parsed.json));
    return 0;
  } catch (e) {
    process.stderr.write(`dpns-nameserver key: ${(e as Error).message}\n`);
    return 1;
  }
}

/** `dpns-nameserver install`: the systemd unit. */
async function installCommand(argv: string[]): Promise<number> {
  const parsed = await subcommandArgs('install', argv, yargs(argv)
    .usage('$0 [options]\n\nWrites the systemd unit dpns-nameserver.service (state in /var/lib/dpns).')
    .option('unit-dir', { type: 'string', default: '/etc/systemd/system', describe: 'where the unit is written' })
    .option('listen', { type: 'string', default: '0.0.0.0:7700', describe: 'HOST:PORT the installed server listens on' })
    .option('exec', { type: 'string', describe: 'absolute path of the ExecStart binary', defaultDescription: "this binary's dpns-nameserver (the package's /usr/bin/dpns-nameserver), or this node and this package's bin/dpns-nameserver.js" })
    .option('cluster', { type: 'string', describe: 'backup mode: every member as HOST:PORT,... (with --self)' })
    .option('self', { type: 'string', describe: "this host's entry in --cluster" })
    .option('dry-run', { type: 'boolean', default: false, describe: 'print the unit, write nothing' })
    .example('$0 --dry-run', 'see the unit first')
    .example('$0 --cluster a:7700,b:7700,c:7700 --self b:7700', 'a member of a three-server cluster'));
  if (typeof parsed === 'number') return parsed;
  const args = parsed;
  try {
    if ((args.cluster === undefined) !== (args.self === undefined)) {
      process.stderr.write('dpns-nameserver install: --cluster and --self go together\n');
      return 2;
    }
    const cluster = args.cluster === undefined || args.self === undefined ? {} : { cluster: { members: args.cluster, self: args.self } };
    const opts = { unitDir: args['unit-dir'], listen: args.listen, dryRun: args['dry-run'], ...cluster, out: (t: string) => void process.stdout.write(t) };
    await install(args.exec === undefined ? opts : { ...opts, exec: args.exec });
    return 0;
  } catch (e) {
    const bad = e instanceof ConfigError;
    process.stderr.write(`dpns-nameserver install: ${(e as Error).message}\n`);
    return bad ? 2 : 1;
  }
}
