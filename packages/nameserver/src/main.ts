// The dpns-nameserver command: flags, start-up lines on stdout, logs on stderr, and a clean
// stop on SIGINT/SIGTERM. Exit 0 after a clean stop, 1 when it cannot run, 2 on bad usage.
import yargs, { type Argv } from 'yargs';
import { clusterOf, ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { NameServer } from './server.js';
import { VERSION } from './version.js';
import { install } from './install.js';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadOrCreateAdminToken } from './admin-token.js';
import { loadOrCreateNameServerKey } from './nameserver-key.js';
import { keyCommandText } from './key-command.js';
import { defaultDataDir } from './config.js';

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'install') return installCommand(argv.slice(1));
  if (argv[0] === 'init') return initCommand(argv.slice(1));
  if (argv[0] === 'key') return keyCommand(argv.slice(1));
  let usageError: string | undefined;
  let helpShown = false;
  const parser = yargs(argv)
    .scriptName('dpns-nameserver')
    .usage('$0 [options]\n\nRuns the dpns name server: JSON-RPC 2.0 over WebSocket (docs/PROTOCOL.md).\nSettings come from flags, then DPNS_* environment variables, then --config FILE, then defaults.')
    .option('listen', { type: 'string', describe: 'HOST:PORT to listen on (env DPNS_LISTEN)', defaultDescription: '127.0.0.1:7700' })
    .option('data-dir', { type: 'string', describe: 'where the log, snapshots and admin.token live (env DPNS_DATA_DIR)', defaultDescription: '/var/lib/dpns as root, else ~/.local/state/dpns' })
    .option('config', { type: 'string', describe: 'a JSON file of settings, e.g. {"listen":"0.0.0.0:7700","heartbeatMs":500} (env DPNS_CONFIG)' })
    .option('heartbeat-ms', { type: 'number', describe: 'liveness ping interval; a dead advertiser leaves running within two (env DPNS_HEARTBEAT_MS)', defaultDescription: '1000' })
    .option('grace-ms', { type: 'number', describe: 'after a restart, how long advertisers have to reconnect (env DPNS_GRACE_MS)', defaultDescription: '5000' })
    .option('max-frame-bytes', { type: 'number', describe: 'largest request frame accepted (env DPNS_MAX_FRAME_BYTES)', defaultDescription: '1048576' })
    .option('max-watches', { type: 'number', describe: 'watches one connection may hold', defaultDescription: '1000' })
    .option('max-connections', { type: 'number', describe: 'connections accepted at once', defaultDescription: '20000' })
    .option('max-connections-per-address', { type: 'number', describe: 'connections one source address may hold at once', defaultDescription: '5000' })
    .option('max-advertisements', { type: 'number', describe: 'names one non-admin connection may keep advertised', defaultDescription: '10000' })
    .option('max-advertisements-per-address', { type: 'number', describe: 'names the non-admin connections from one source address may keep advertised together', defaultDescription: '20000' })
    .option('max-advertisements-per-owner', { type: 'number', describe: 'names the non-admin connections that proved one owner key may keep advertised together', defaultDescription: '20000' })
    .option('max-watches-per-address', { type: 'number', describe: 'watches the connections from one source address may hold together', defaultDescription: '20000' })
    .option('max-lost-entries', { type: 'number', describe: 'lost entries nobody keeps, at most; past it the oldest are deleted early (env DPNS_MAX_LOST_ENTRIES)', defaultDescription: '100000' })
    .option('snapshot-every', { type: 'number', describe: 'log records between snapshots', defaultDescription: '50000' })
    .option('agent-port', { type: 'number', describe: 'port of the dpns-launchd agents that start auto-start services (env DPNS_AGENT_PORT)', defaultDescription: '7701' })
    .option('public-address', { type: 'string', describe: 'HOST:PORT launched services use to reach this server (env DPNS_PUBLIC_ADDRESS)', defaultDescription: 'the listen address' })
    .option('modules-dir', { type: 'string', describe: 'load every *.mjs/*.js module in DIR at start (env DPNS_MODULES_DIR; docs/MODULES.md)', defaultDescription: 'DATA_DIR/modules.d if it exists' })
    .option('module-timeout-ms', { type: 'number', describe: 'time limit of one module call; past it the module is restarted', defaultDescription: '1000' })
    .option('module-memory-mb', { type: 'number', describe: 'heap limit of each module worker', defaultDescription: '128' })
    .option('module-max-restarts', { type: 'number', describe: 'failures in a row before a module stays failed', defaultDescription: '5' })
    .option('log-level', { choices: ['debug', 'info', 'warn', 'error', 'silent'], describe: 'env DPNS_LOG_LEVEL', defaultDescription: 'info' })
    .option('log-format', { choices: ['json', 'text'], describe: 'env DPNS_LOG_FORMAT', defaultDescription: 'json' })
    .option('cluster', { type: 'string', describe: 'backup mode: every member as HOST:PORT,HOST:PORT,... in SID order, the same list on each (env DPNS_CLUSTER)' })
    .option('self', { type: 'string', describe: "this server's entry in --cluster; it listens there unless --listen says otherwise (env DPNS_SELF)" })
    .option('replication', { choices: ['sync', 'async'], describe: 'sync: answer a write once every connected backup stored it; async: at once (env DPNS_REPLICATION)', defaultDescription: 'sync' })
    .option('repl-heartbeat-ms', { type: 'number', describe: 'heartbeat between cluster members', defaultDescription: '150' })
    .option('repl-misses', { type: 'number', describe: 'heartbeats missed before a member counts as gone', defaultDescription: '4 (a dead host is noticed in 0.6 s)' })
    .option('two-node-failover', { type: 'boolean', describe: 'in a cluster of two, let the survivor take over alone (a partition can then make two primaries)', defaultDescription: 'false' })
    .option('restart-member', { type: 'string', describe: 'after a takeover, have the old primary\'s agent start it again: JSON {"program":"/abs/path","args":[...]} where {self} and {sid} name the member' })
    .option('agent-key', { type: 'string', array: true, describe: 'HOST=HEX: accept only the launch agent with this identity on HOST (repeatable; config file: "agentKeys": {"host": ["hex"]})' })
    .option('allowed-origins', { type: 'string', array: true, describe: 'browser origins (besides this server\'s own monitor page) whose pages may open a WebSocket here, e.g. http://ops.example:8080; repeatable or comma-separated (env DPNS_ALLOWED_ORIGINS)' })
    .option('lost-expiry-ms', { type: 'number', describe: 'a lost entry that nobody keeps (its advertiser went, no reservation, no alias to it) is deleted after this long; 0 keeps them (env DPNS_LOST_EXPIRY_MS)', defaultDescription: '3600000 (1 h)' })
    .option('reservation-ms', { type: 'number', describe: 'how long a lost name stays reserved for the owner key that advertised it; 0 reserves nothing (env DPNS_RESERVATION_MS)', defaultDescription: '21600000 (6 h)' })
    .option('admin-prefix', { type: 'string', array: true, describe: "a name pattern, e.g. '/prod/*', under which only admins (or launched services with their ticket) may advertise (repeatable; env DPNS_ADMIN_PREFIXES=a,b)" })
    .option('read-from-backups', { type: 'boolean', describe: 'backups answer find, list, state and watch themselves (env DPNS_READ_FROM_BACKUPS)', defaultDescription: 'false' })
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
    cfg = loadConfig({
      config: args.config, listen: args.listen, dataDir: args['data-dir'], heartbeatMs: args['heartbeat-ms'],
      graceMs: args['grace-ms'], maxFrameBytes: args['max-frame-bytes'], maxWatchesPerConnection: args['max-watches'],
      maxConnections: args['max-connections'], maxConnectionsPerAddress: args['max-connections-per-address'],
      maxAdvertisementsPerConnection: args['max-advertisements'], maxAdvertisementsPerAddress: args['max-advertisements-per-address'],
      maxAdvertisementsPerOwner: args['max-advertisements-per-owner'], maxLostEntries: args['max-lost-entries'], maxWatchesPerAddress: args['max-watches-per-address'], snapshotEvery: args['snapshot-every'], logLevel: args['log-level'],
      logFormat: args['log-format'], agentPort: args['agent-port'], publicAddress: args['public-address'],
      modulesDir: args['modules-dir'], moduleTimeoutMs: args['module-timeout-ms'], moduleMemoryMb: args['module-memory-mb'],
      moduleMaxRestarts: args['module-max-restarts'], cluster: args.cluster, self: args.self, replication: args.replication,
      replHeartbeatMs: args['repl-heartbeat-ms'], replMisses: args['repl-misses'], twoNodeFailover: args['two-node-failover'],
      readFromBackups: args['read-from-backups'], restartMember: args['restart-member'], agentKeys: args['agent-key'],
      allowedOrigins: args['allowed-origins']?.flatMap((s) => s.split(',')),
      reservationMs: args['reservation-ms'], adminPrefixes: args['admin-prefix'], lostExpiryMs: args['lost-expiry-ms'],
    });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`dpns-nameserver: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const logger = createLogger({ level: cfg.logLevel, format: cfg.logFormat });
  const server = new NameServer({ ...cfg, cluster: clusterOf(cfg), logger });
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
    `nameserver key: ${server.publicKey} (list it in each dpns-launchd's trustedKeys)\n`,
  );
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
    .option('data-dir', { type: 'string', describe: 'the data directory (env DPNS_DATA_DIR)', defaultDescription: '/var/lib/dpns as root, else ~/.local/state/dpns' })
    .option('json', { type: 'boolean', default: false, describe: 'print {"publicKey", "keyFile", "format"}' }));
  if (typeof parsed === 'number') return parsed;
  const dir = resolve(parsed['data-dir'] ?? (process.env.DPNS_DATA_DIR || defaultDataDir()));
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
