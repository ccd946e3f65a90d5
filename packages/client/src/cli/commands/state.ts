// dpns state [PATTERN]: the entries and their states, as an aligned table.
import { pattern } from '../args.js';
import type { CliCommand } from '../command.js';
import { stateTable } from '../format.js';

export const stateCommand: CliCommand = {
  command: 'state [pattern]',
  describe: 'Show the entries matching a pattern: NAME KIND STATE HOST PORT LOAD SINCE REASON/TARGET',
  builder: (y) => y
    .positional('pattern', { type: 'string', describe: 'glob pattern (default: all)' })
    .example('$0 state', 'every entry')
    .example("$0 state '/demo/*' --json", 'the entries under /demo, as JSON'),
  async run(ctx, argv) {
    const p = pattern(argv);
    const entries = await ctx.client({ admin: false }).serviceState(p);
    if (ctx.json) ctx.printJson({ entries });
    else for (const l of stateTable(entries)) ctx.line(l);
  },
};
