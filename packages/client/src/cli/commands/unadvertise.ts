// dpns unadvertise NAME: remove an advertisement (admin, or its own advertiser).
import { name } from '../args.js';
import type { CliCommand } from '../command.js';

export const unadvertiseCommand: CliCommand = {
  command: 'unadvertise <name>',
  describe: 'Remove the advertisement of NAME (admin); an auto-start service becomes stopped',
  builder: (y) => y
    .positional('name', { type: 'string', describe: 'service name' })
    .example('$0 unadvertise /lab/printer --token-file /var/lib/dpns/admin.token', 'remove a static entry'),
  async run(ctx, argv) {
    const n = name(argv);
    await ctx.client({ admin: true }).unadvertiseService(n);
    if (ctx.json) ctx.printJson({ ok: true, name: n });
    else ctx.line(`unadvertised ${n}`);
  },
};
