// dpns launch NAME: start an auto-start service (if it is not running) and print where it runs.
import { name } from '../args.js';
import type { CliCommand } from '../command.js';

export const launchCommand: CliCommand = {
  command: 'launch <name>',
  describe: 'Start an auto-start service unless it runs, and print where it runs: NAME HOST PORT',
  builder: (y) => y
    .positional('name', { type: 'string', describe: 'an auto-start service (registered with dpns add)' })
    .example('$0 launch /demo/echo', 'start /demo/echo through its host\'s launch agent; "(launched)" on stderr when this call started it')
    .example('$0 launch /demo/echo --json', '{"service": {...}, "launched": true}')
    .epilogue('A launch waits until the service has advertised itself (up to its start timeout, 65 s by default here; --timeout to change). ' +
      'When it does not start, the reason follows LAUNCH_FAILED, e.g. "dpns: LAUNCH_FAILED: ... (EXITED_EARLY)".'),
  async run(ctx, argv) {
    const n = name(argv);
    const r = await ctx.client({ admin: false }).launchService(n);
    if (ctx.json) {
      ctx.printJson(r);
      return;
    }
    ctx.line(`${r.service.name} ${r.service.host} ${r.service.port}`);
    if (r.launched) ctx.note(`${n} (launched)`);
  },
};
