// dpns ping: is a name server there, and how far away.
import type { CliCommand } from '../command.js';

export const pingCommand: CliCommand = {
  command: 'ping',
  describe: 'Check that a name server answers, and the round-trip time',
  builder: (y) => y
    .example('$0 ping', 'ping the default server, 127.0.0.1:7700')
    .example('$0 ping --server ns1:7700 --json', 'ping ns1, as JSON'),
  async run(ctx) {
    const r = await ctx.client({ admin: false }).ping();
    if (ctx.json) ctx.printJson(r);
    else ctx.line(`pong from ${r.server} in ${r.latencyMs.toFixed(1)} ms (revision ${r.revision})`);
  },
};
