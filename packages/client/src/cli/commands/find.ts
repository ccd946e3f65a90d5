// dpns find NAME|PATTERN: where services run, one "NAME HOST PORT" line each. A name of an
// auto-start service that is not running is launched first, unless --no-launch.
import { nameOrPattern } from '../args.js';
import type { CliCommand } from '../command.js';

export const findCommand: CliCommand = {
  command: 'find <target>',
  describe: 'Print where a service (or the services matching a pattern) runs: NAME HOST PORT',
  builder: (y) => y
    .positional('target', { type: 'string', describe: 'a name (aliases are followed) or a glob pattern' })
    .option('launch', { type: 'boolean', default: true, describe: 'launch an auto-start service that is not running (--no-launch: answer NOT_RUNNING instead)' })
    .example('$0 find /demo/echo', 'the host and port of /demo/echo, starting it if needed')
    .example('$0 find /demo/echo --no-launch', 'only if it is already running')
    .example("$0 find '/demo/*' --json", 'every running service under /demo, as JSON'),
  async run(ctx, argv) {
    const target = nameOrPattern(argv, 'target');
    const services = await ctx.client({ admin: false }).findServices(target, { launch: argv.launch !== false });
    if (ctx.json) ctx.printJson({ services });
    else for (const s of services) ctx.line(`${s.name} ${s.host} ${s.port}`);
  },
};
