// dpns release NAME: end the hold a lost name keeps for the owner key that advertised it (admin).
import { ownerFingerprint } from '@dpns/protocol';
import { name } from '../args.js';
import type { CliCommand } from '../command.js';

export const releaseCommand: CliCommand = {
  command: 'release <name>',
  describe: 'Let anyone advertise a lost name still reserved for the owner key that advertised it (admin)',
  builder: (y) => y
    .positional('name', { type: 'string', describe: 'service name' })
    .example('$0 release /demo/echo', 'free /demo/echo for a new advertiser'),
  async run(ctx, argv) {
    const n = name(argv);
    const released = await ctx.client({ admin: true }).register.release(n);
    if (ctx.json) ctx.printJson(released === undefined ? { ok: true, name: n, released: false } : { ok: true, name: n, released: true, owner: released.owner, until: released.until });
    else if (released === undefined) ctx.line(`${n} was not reserved`);
    else ctx.line(`released ${n} (was reserved for owner key ${ownerFingerprint(released.owner)}… until ${new Date(released.until).toISOString()})`);
  },
};
