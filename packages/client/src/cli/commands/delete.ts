// dpns delete NAME: remove a service or an alias from the registry (admin).
import { name } from '../args.js';
import type { CliCommand } from '../command.js';

export const deleteCommand: CliCommand = {
  command: 'delete <name>',
  describe: 'Delete a service or an alias (admin); refused while aliases point at it',
  builder: (y) => y
    .positional('name', { type: 'string', describe: 'service or alias name' })
    .example('$0 delete /demo/echo', 'forget /demo/echo'),
  async run(ctx, argv) {
    const n = name(argv);
    await ctx.client({ admin: true }).register.delete(n);
    if (ctx.json) ctx.printJson({ ok: true, name: n });
    else ctx.line(`deleted ${n}`);
  },
};
