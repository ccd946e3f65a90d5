// dpns list [PATTERN]: the names matching a pattern.
import { pattern } from '../args.js';
import type { CliCommand } from '../command.js';

export const listCommand: CliCommand = {
  command: 'list [pattern]',
  describe: 'List the names matching a glob pattern (default: all)',
  builder: (y) => y
    .positional('pattern', { type: 'string', describe: 'Tcl glob: * (any run, / included), ?, [a-z], \\x' })
    .example('$0 list', 'every name')
    .example("$0 list '/demo/*'", 'the names under /demo')
    .example("$0 list '/demo/[a-m]?'", 'two-letter names under /demo starting a..m'),
  async run(ctx, argv) {
    const p = pattern(argv);
    const names = await ctx.client({ admin: false }).listServices(p);
    if (ctx.json) ctx.printJson({ names });
    else for (const n of names) ctx.line(n);
  },
};
