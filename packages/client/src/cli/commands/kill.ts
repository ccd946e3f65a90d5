// dpns kill NAME: stop a launched service through its host's launch agent (admin).
import { name } from '../args.js';
import type { CliCommand } from '../command.js';

export const killCommand: CliCommand = {
  command: 'kill <name>',
  describe: 'Stop a launched service: SIGTERM to its process group, SIGKILL after a grace period (admin)',
  builder: (y) => y
    .positional('name', { type: 'string', describe: 'an auto-start service that dpns launched' })
    .example('$0 kill /demo/echo --token-file /var/lib/dpns/admin.token', 'stop /demo/echo; its state becomes stopped'),
  async run(ctx, argv) {
    const n = name(argv);
    const r = await ctx.client({ admin: true }).killService(n);
    if (ctx.json) ctx.printJson({ name: n, ...r });
    else if (r.alreadyGone) ctx.line(`${n} was not running any more; marked stopped`);
    else ctx.line(`killed ${n}${r.signal === undefined ? '' : ` (${r.signal})`}`);
  },
};
