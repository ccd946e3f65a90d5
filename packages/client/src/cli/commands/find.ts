// dpns find NAME|PATTERN: where services run, one "NAME HOST PORT" line each.
import { nameOrPattern } from '../args.js';
import type { CliCommand } from '../command.js';

export const findCommand: CliCommand = {
  command: 'find <target>',
  describe: 'Print where a service (or the services matching a pattern) runs: NAME HOST PORT',
  builder: (y) => y
    .positional('target', { type: 'string', describe: 'a name (aliases are followed) or a glob pattern' })
    .example('$0 find /demo/echo', 'the host and port of /demo/echo')
    .example("$0 find '/demo/*' --json", 'every running service under /demo, as JSON'),
  async run(ctx, argv) {
    const target = nameOrPattern(argv, 'target');
    const services = await ctx.client({ admin: false }).findServices(target);
    if (ctx.json) ctx.printJson({ services });
    else for (const s of services) ctx.line(`${s.name} ${s.host} ${s.port}`);
  },
};
