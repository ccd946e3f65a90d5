// The `dpns` command line. yargs only parses: it never exits the process and never prints
// usage for a refused operation. The chosen command runs after parsing, and main returns the
// exit code (0 done, 1 refused or failed, 2 bad usage) for the bin shim to set.
import yargs from 'yargs';
import { isDpnsError, type DpnsError } from '@dpns/protocol';
import type { Argv } from './args.js';
import type { CliCommand } from './command.js';
import { CliContext, type CliIo } from './context.js';
import { UsageError } from './usage-error.js';
import { VERSION } from '../version.js';
import { addCommand } from './commands/add.js';
import { advertiseCommand } from './commands/advertise.js';
import { aliasCommand } from './commands/alias.js';
import { authCommand } from './commands/auth.js';
import { callCommand } from './commands/call.js';
import { deleteCommand } from './commands/delete.js';
import { editCommand } from './commands/edit.js';
import { findCommand } from './commands/find.js';
import { infoCommand } from './commands/info.js';
import { killCommand } from './commands/kill.js';
import { launchCommand } from './commands/launch.js';
import { listCommand } from './commands/list.js';
import { modulesCommand } from './commands/modules.js';
import { agentsCommand } from './commands/agents.js';
import { pingCommand } from './commands/ping.js';
import { releaseCommand } from './commands/release.js';
import { resetCommand } from './commands/reset.js';
import { serversCommand } from './commands/servers.js';
import { stateCommand } from './commands/state.js';
import { unadvertiseCommand } from './commands/unadvertise.js';
import { watchCommand } from './commands/watch.js';

const COMMANDS: CliCommand[] = [
  listCommand, findCommand, stateCommand, watchCommand, launchCommand, killCommand, resetCommand, authCommand,
  advertiseCommand, unadvertiseCommand, addCommand, deleteCommand, editCommand, aliasCommand, infoCommand, releaseCommand, pingCommand,
  callCommand, modulesCommand, serversCommand, agentsCommand,
];

/** Runs `dpns` with `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  let chosen: { cmd: CliCommand; args: Argv } | undefined;
  let usage: string | undefined;
  const parser = yargs(argv)
    .scriptName('dpns')
    .usage('$0 <command> [options]\n\nTalks to the dpns name servers: find, list and watch services; launch, kill and reset them; register and advertise them.')
    .option('server', {
      type: 'string',
      describe: 'name server HOST:PORT, repeatable, tried in order; of a cluster, the primary is found and followed (env DPNS_SERVERS=h:p,h:p)',
      defaultDescription: '127.0.0.1:7700',
    })
    // Hidden and deprecated: other users can read a command line. It still works, with a warning.
    .option('token', { type: 'string', hidden: true, deprecated: 'use --token-file, DPNS_TOKEN_FILE or DPNS_TOKEN' })
    .option('token-file', { type: 'string', describe: 'file holding the admin credential, e.g. DATA_DIR/admin.token (env DPNS_TOKEN_FILE; or the token itself in DPNS_TOKEN)' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON document (watch: one JSON object per line)' })
    .option('timeout', { type: 'string', describe: 'milliseconds to wait for each answer', defaultDescription: '10000' })
    .option('read-from-backups', {
      type: 'boolean', default: false,
      describe: 'let a backup that serves reads answer list, state, find --no-launch and watch (it may lag the primary slightly)',
    })
    .option('verbose', { type: 'boolean', default: false, describe: 'print connection events (connecting, open SERVER, lost WHY) and the end of the command on stderr, each with the time' })
    .group(['server', 'token-file', 'json', 'timeout', 'read-from-backups', 'verbose', 'help', 'version'], 'Global options:')
    .example('$0 find /demo/echo', 'where /demo/echo runs (started first if it is auto-start and down)')
    .example("$0 state '/demo/*'", 'the states of the entries under /demo')
    .example('DPNS_SERVERS=ns1:7700,ns2:7700 $0 list', 'ask ns1, or ns2 if ns1 is down')
    .example('DPNS_SERVERS=ns1:7700,ns2:7700,ns3:7700 $0 servers', 'the roles, epochs and lag of a cluster\'s servers')
    .example('$0 call dir.lookup \'{"person":"ann"}\'', 'call a method of a module loaded in the name server')
    .epilogue('Exit status: 0 done, 1 refused or failed (one line on stderr: "dpns: CODE: message"), 2 bad usage.')
    .version(VERSION)
    .help()
    .alias('help', 'h')
    .strict()
    .demandCommand(1, 'name a command; dpns --help lists them')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((msg, err) => {
      usage ??= msg ?? err?.message ?? 'bad usage';
    });
  for (const cmd of COMMANDS) {
    parser.command(cmd.command, cmd.describe, (y) => cmd.builder(y), (args) => {
      chosen = { cmd, args: args as Argv };
    });
  }

  try {
    await parser.parseAsync();
  } catch (err) {
    usage ??= err instanceof Error ? err.message : String(err);
  }
  const json = argv.includes('--json');
  if (usage !== undefined) {
    report(io, json, 'USAGE', `${usage} (dpns --help for usage)`);
    return 2;
  }
  // --help and --version have printed and chosen nothing.
  if (chosen === undefined) return 0;
  return runCommand(chosen.cmd, chosen.args, io, json);
}

async function runCommand(cmd: CliCommand, args: Argv, io: CliIo, json: boolean): Promise<number> {
  let ctx: CliContext | undefined;
  try {
    ctx = new CliContext(args, io);
    await cmd.run(ctx, args);
    ctx.trace('done');
    return 0;
  } catch (err) {
    ctx?.trace('failed');
    if (err instanceof UsageError) {
      report(io, json, err.code, err.message);
      return 2;
    }
    if (isDpnsError(err)) {
      report(io, json, err.code, withCause(err));
      return 1;
    }
    report(io, json, 'INTERNAL', err instanceof Error ? err.message : String(err));
    return 1;
  } finally {
    await ctx?.close();
  }
}

/**
 * The message, with the cause of a failed launch (AGENT_UNREACHABLE, EXITED_EARLY, ...) or of a
 * failed module (LOAD_FAILED, OUT_OF_MEMORY, ...) when the server gave one in `data.cause` that
 * the message does not already name.
 */
function withCause(err: DpnsError): string {
  const cause = err.details?.cause;
  if (err.code !== 'LAUNCH_FAILED' && err.code !== 'MODULE_FAILED') return err.message;
  if (typeof cause !== 'string' || cause === '' || err.message.includes(cause)) return err.message;
  return `${err.message} (${cause})`;
}

/** Exactly one line on stderr, and with --json the same as a JSON document on stdout. */
function report(io: CliIo, json: boolean, code: string, message: string): void {
  const oneLine = message.replace(/\s*\n\s*/g, ' ');
  io.stderr(`dpns: ${code}: ${oneLine}\n`);
  if (json) io.stdout(`${JSON.stringify({ error: { code, message: oneLine } })}\n`);
}

function processIo(): CliIo {
  // EPIPE on a closed pipe must not crash the command; `watch` also stops on it.
  process.stdout.on('error', () => undefined);
  return {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    env: process.env,
  };
}

