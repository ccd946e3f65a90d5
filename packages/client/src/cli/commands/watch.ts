// dpns watch [PATTERN]: one line per change until SIGINT or SIGTERM, then exit 0.
import { pattern } from '../args.js';
import type { CliCommand } from '../command.js';
import { eventLine } from '../format.js';

export const watchCommand: CliCommand = {
  command: 'watch [pattern]',
  describe: 'Print one line per change to the entries matching a pattern, until interrupted',
  builder: (y) => y
    .positional('pattern', { type: 'string', describe: 'glob pattern (default: all)' })
    .option('initial', { type: 'boolean', default: false, describe: 'first print the matching entries that exist now' })
    .example("$0 watch '/demo/*'", 'follow the changes under /demo')
    .example('$0 watch --initial --json', 'the current entries, then every change, as JSON lines'),
  async run(ctx, argv) {
    const p = pattern(argv);
    const client = ctx.client({ admin: false });
    const w = client.watch(p, { initial: argv.initial === true });
    const stop = (): void => {
      void w.close();
    };
    // The interrupt is how a watch ends normally: close it so the loop below finishes and main returns 0.
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    // A reader that went away (`dpns watch | head -1`) ends the watch like an interrupt.
    process.stdout.once('error', stop);
    const offs = [
      w.once('subscribed', ({ revision }) => ctx.note(`watching ${p} from revision ${revision}; Ctrl-C to stop`)),
      client.on('disconnect', (err) => ctx.note(`${err.message}; reconnecting`)),
      w.on('resync', ({ revision }) => ctx.note(`reconnected to ${client.server ?? '?'}; re-synced at revision ${revision}`)),
    ];
    try {
      for await (const ev of w) ctx.line(ctx.json ? JSON.stringify(ev) : eventLine(ev));
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdout.off('error', stop);
      for (const off of offs) off();
    }
  },
};
