// Which program the single binary is, for one start: chosen by the name it was started by
// (argv[0], which a single executable sees as process.argv[1]), as a multi-call binary such as
// busybox is: /usr/bin/dpns-nameserver is a link to /usr/bin/dpns. Under another name (the
// release file, dpns-<version>-linux-<arch>) the first argument names it instead.
import { basename } from 'node:path';
import { COMMAND_NAMES } from '@dpns/node-kit/single-executable';

export type CommandName = (typeof COMMAND_NAMES)[keyof typeof COMMAND_NAMES];

/** What to run, with its own arguments; or the usage line for a start that names nothing. */
export type Chosen = { command: CommandName; args: string[] } | { usage: string };

/** The names a user may give as the first argument; the module host is started only by name. */
const BY_ARGUMENT: readonly CommandName[] = [COMMAND_NAMES.client, COMMAND_NAMES.nameserver, COMMAND_NAMES.launchd];
const BY_NAME: readonly CommandName[] = [...BY_ARGUMENT, COMMAND_NAMES.moduleHost];

function isCommand(list: readonly CommandName[], s: string | undefined): s is CommandName {
  return s !== undefined && (list as readonly string[]).includes(s);
}

/**
 * Chooses from `argv` as a single executable gets it: [binary, argv0, ...args]. A daemon's name
 * (or the module host's) runs that daemon; `dpns` runs the command line unless its first
 * argument is a daemon's name (the form the install commands fall back on when no link of
 * that name lies beside the binary); any other name takes the program from its first argument.
 */
export function chooseCommand(argv: readonly string[]): Chosen {
  const name = basename(argv[1] ?? argv[0] ?? '');
  const first = argv[2];
  if (name !== COMMAND_NAMES.client && isCommand(BY_NAME, name)) return { command: name, args: argv.slice(2) };
  if (isCommand(BY_ARGUMENT, first) && !(name === COMMAND_NAMES.client && first === COMMAND_NAMES.client)) return { command: first, args: argv.slice(3) };
  if (name === COMMAND_NAMES.client) return { command: COMMAND_NAMES.client, args: argv.slice(2) };
  return {
    usage: `usage: ${name} ${BY_ARGUMENT.join('|')} [ARGUMENTS...]\n` +
      `This one binary is all three programs: give the program as the first argument, or start it by that name (a link to it named ${COMMAND_NAMES.nameserver}, as the dpns package installs in /usr/bin).\n`,
  };
}
