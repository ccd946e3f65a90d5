// dpns reset NAME: kill a launched service and launch it again; print where it now runs (admin).
import { name } from '../args.js';
import type { CliCommand } from '../command.js';

export const resetCommand: CliCommand = {
  command: 'reset <name>',
  describe: 'Kill an auto-start service and launch it again, then print where it runs: NAME HOST PORT (admin)',
  builder: (y) => y
    .positional('name', { type: 'string', describe: 'an auto-start service' })
    .example('$0 reset /demo/echo --token-file /var/lib/dpns/admin.token', 'restart /demo/echo; prints its new address'),
  async run(ctx, argv) {
    const n = name(argv);
    const service = await ctx.client({ admin: true }).resetService(n);
    if (ctx.json) ctx.printJson({ service });
    else ctx.line(`${service.name} ${service.host} ${service.port}`);
  },
};
