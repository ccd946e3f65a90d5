// The shape of one `dpns` subcommand: its yargs declaration and what it does.
import type { Argv as Yargs } from 'yargs';
import type { Argv } from './args.js';
import type { CliContext } from './context.js';

export interface CliCommand {
  /** yargs command string, e.g. "find <target>". */
  command: string;
  describe: string;
  builder(y: Yargs): Yargs;
  /**
   * Runs the command. Local checks come first and throw UsageError (exit 2); a DpnsError
   * from the server means exit 1. Output goes through `ctx`.
   */
  run(ctx: CliContext, argv: Argv): Promise<void>;
}
