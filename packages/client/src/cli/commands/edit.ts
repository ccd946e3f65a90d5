// dpns edit NAME [spec options] [--unset-cwd] [--unset-user] [--unset-check] [--unset-idle-stop]: change a service's launch spec (admin).
import { parseParams } from '@dpns/protocol';
import { name } from '../args.js';
import type { CliCommand } from '../command.js';
import { infoLines } from '../format.js';
import { specFromArgs, specOptions } from '../spec-options.js';
import { checkLocally, UsageError } from '../usage-error.js';

export const editCommand: CliCommand = {
  command: 'edit <name>',
  describe: 'Change fields of a service\'s launch spec; the others are kept (admin)',
  builder: (y) => specOptions(y.positional('name', { type: 'string', describe: 'service name' }), false)
    .option('unset-cwd', { type: 'boolean', describe: 'remove the working directory (use the agent\'s default)' })
    .option('unset-user', { type: 'boolean', describe: 'remove the user (run as the agent\'s default)' })
    .option('unset-check', { type: 'boolean', describe: 'remove the health check' })
    .option('unset-idle-stop', { type: 'boolean', describe: 'remove the idle stop (it runs until stopped)' })
    .example('$0 edit /demo/echo --program /opt/demo/echo2', 'a new program, same everything else')
    .example('$0 edit /demo/web --env PORT=9090 --unset-cwd', 'replace the environment, drop the cwd')
    .example('$0 edit /demo/web --idle-stop 10m', 'stop it after 10 minutes without use; the next find starts it')
    .example('$0 edit /demo/web --hosts \'web-*\'', 'launch it on the least loaded web host from now on (replaces --host)'),
  async run(ctx, argv) {
    const n = name(argv);
    const spec = specFromArgs(argv);
    const unset: ('cwd' | 'user' | 'check' | 'idleStopMs')[] = [];
    if (argv['unset-cwd'] === true) unset.push('cwd');
    if (argv['unset-user'] === true) unset.push('user');
    if (argv['unset-check'] === true) unset.push('check');
    if (argv['unset-idle-stop'] === true) unset.push('idleStopMs');
    if (Object.keys(spec).length === 0 && unset.length === 0) {
      throw new UsageError('nothing to change: give at least one of --host --hosts --program --arg --env --cwd --user --start-timeout --restart --check --idle-stop --unset-cwd --unset-user --unset-check --unset-idle-stop');
    }
    checkLocally(() => parseParams['register.edit']({ name: n, spec, unset }));
    const entry = await ctx.client({ admin: true }).register.edit(n, spec, unset);
    if (ctx.json) ctx.printJson({ ok: true, entry });
    else for (const l of infoLines(entry, [], undefined)) ctx.line(l);
  },
};
