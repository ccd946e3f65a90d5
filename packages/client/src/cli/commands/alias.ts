// dpns alias NAME TARGET: make NAME stand for TARGET (admin).
import { name } from '../args.js';
import type { CliCommand } from '../command.js';

export const aliasCommand: CliCommand = {
  command: 'alias <name> <target>',
  describe: 'Make NAME an alias of TARGET (admin); chains resolve, cycles are refused',
  builder: (y) => y
    .positional('name', { type: 'string', describe: 'the new alias' })
    .positional('target', { type: 'string', describe: 'the name it stands for (a service or another alias)' })
    .example('$0 alias /demo/current /demo/echo-v2', 'point /demo/current at /demo/echo-v2'),
  async run(ctx, argv) {
    const n = name(argv);
    const target = name(argv, 'target');
    await ctx.client({ admin: true }).register.alias(n, target);
    if (ctx.json) ctx.printJson({ ok: true, name: n, target });
    else ctx.line(`${n} -> ${target}`);
  },
};
