// dpns info NAME: everything about one entry (admin).
import { name } from '../args.js';
import type { CliCommand } from '../command.js';
import { infoLines } from '../format.js';

export const infoCommand: CliCommand = {
  command: 'info <name>',
  describe: 'Show everything about one service or alias (admin)',
  builder: (y) => y
    .positional('name', { type: 'string', describe: 'service or alias name' })
    .example('$0 info /demo/echo', 'launch spec, state, aliases'),
  async run(ctx, argv) {
    const n = name(argv);
    const r = await ctx.client({ admin: true }).register.info(n);
    if (ctx.json) ctx.printJson(r);
    else for (const l of infoLines(r.entry, r.aliases, r.resolved)) ctx.line(l);
  },
};
