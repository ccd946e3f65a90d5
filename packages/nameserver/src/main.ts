// The dpns-nameserver command: flags, start-up lines on stdout, logs on stderr, and a clean
// stop on SIGINT/SIGTERM. Exit 0 after a clean stop, 1 when it cannot run, 2 on bad usage.
import yargs from 'yargs';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { NameServer } from './server.js';
import { VERSION } from './version.js';
import { install } from './install.js';

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'install') return installCommand(argv.slice(1));
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
    .option('snapshot-every', { type: 'number', describe: 'log records between snapshots', defaultDescription: '50000' })
    .option('agent-port', { type: 'number', describe: 'port of the dpns-launchd agents that start auto-start services (env DPNS_AGENT_PORT)', defaultDescription: '7701' })
    .option('public-address', { type: 'string', describe: 'HOST:PORT launched services use to reach this server (env DPNS_PUBLIC_ADDRESS)', defaultDescription: 'the listen address' })
    .option('modules-dir', { type: 'string', describe: 'load every *.mjs/*.js module in DIR at start (env DPNS_MODULES_DIR; docs/MODULES.md)', defaultDescription: 'DATA_DIR/modules.d if it exists' })
    .option('module-timeout-ms', { type: 'number', describe: 'time limit of one module call; past it the module is restarted', defaultDescription: '1000' })
    .option('module-memory-mb', { type: 'number', describe: 'heap limit of each module worker', defaultDescription: '128' })
    .option('module-max-restarts', { type: 'number', describe: 'failures in a row before a module stays failed', defaultDescription: '5' })
    .option('log-level', { choices: ['debug', 'info', 'warn', 'error', 'silent'], describe: 'env DPNS_LOG_LEVEL', defaultDescription: 'info' })
    .option('log-format', { choices: ['json', 'text'], describe: 'env DPNS_LOG_FORMAT', defaultDescription: 'json' })
    .example('$0 --listen 0.0.0.0:7700 --data-dir /var/lib/dpns', 'serve the network, state in /var/lib/dpns')
    .epilogue('dpns-nameserver install [--dry-run]: write a hardened systemd unit for it (see dpns-nameserver install --help).')
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
      maxConnections: args['max-connections'], snapshotEvery: args['snapshot-every'], logLevel: args['log-level'],
      logFormat: args['log-format'], agentPort: args['agent-port'], publicAddress: args['public-address'],
      modulesDir: args['modules-dir'], moduleTimeoutMs: args['module-timeout-ms'], moduleMemoryMb: args['module-memory-mb'],
      moduleMaxRestarts: args['module-max-restarts'],
    });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`dpns-nameserver: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const logger = createLogger({ level: cfg.logLevel, format: cfg.logFormat });
  const server = new NameServer({ ...cfg, logger });
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

/** `dpns-nameserver install`: the systemd unit. */
async function installCommand(argv: string[]): Promise<number> {
  let usageError: string | undefined;
  const args = await yargs(argv)
    .scriptName('dpns-nameserver install')
    .usage('$0 [options]\n\nWrites the systemd unit dpns-nameserver.service (state in /var/lib/dpns).')
    .option('unit-dir', { type: 'string', default: '/etc/systemd/system', describe: 'where the unit is written' })
    .option('listen', { type: 'string', default: '0.0.0.0:7700', describe: 'HOST:PORT the installed server listens on' })
    .option('exec', { type: 'string', describe: 'absolute path of the ExecStart binary', defaultDescription: "this node and this package's bin/dpns-nameserver.js" })
    .option('dry-run', { type: 'boolean', default: false, describe: 'print the unit, write nothing' })
    .example('$0 --dry-run', 'see the unit first')
    .strict()
    .help()
    .exitProcess(false)
    .fail((msg, err) => {
      usageError = msg ?? err?.message ?? 'bad usage';
    })
    .parseAsync();
  if (usageError !== undefined) {
    process.stderr.write(`dpns-nameserver install: ${usageError}\n`);
    return 2;
  }
  if (argv.includes('--help') || argv.includes('-h')) return 0;
  try {
    const opts = { unitDir: args['unit-dir'], listen: args.listen, dryRun: args['dry-run'], out: (t: string) => void process.stdout.write(t) };
    await install(args.exec === undefined ? opts : { ...opts, exec: args.exec });
    return 0;
  } catch (e) {
    const bad = e instanceof ConfigError;
    process.stderr.write(`dpns-nameserver install: ${(e as Error).message}\n`);
    return bad ? 2 : 1;
  }
}
