// dpns edit NAME [spec options] [--unset-cwd] [--unset-user] [--unset-check]: change a service's launch spec (admin).
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
    .example('$0 edit /demo/echo --program /opt/demo/echo2', 'a new program, same everything else')
    .example('$0 edit /demo/web --env PORT=9090 --unset-cwd', 'replace the environment, drop the cwd'),
  async run(ctx, argv) {
    const n = name(argv);
    const spec = specFromArgs(argv);
    const unset: ('cwd' | 'user' | 'check')[] = [];
    if (argv['unset-cwd'] === true) unset.push('cwd');
    if (argv['unset-user'] === true) unset.push('user');
    if (argv['unset-check'] === true) unset.push('check');
    if (Object.keys(spec).length === 0 && unset.length === 0) {
      throw new UsageError('nothing to change: give at least one of --host --program --arg --env --cwd --user --start-timeout --restart --check --unset-cwd --unset-user --unset-check');
    }
    checkLocally(() => parseParams['register.edit']({ name: n, spec, unset }));
    const entry = await ctx.client({ admin: true }).register.edit(n, spec, unset);
    if (ctx.json) ctx.printJson({ ok: true, entry });
    else for (const l of infoLines(entry, [], undefined)) ctx.line(l);
  },
};
