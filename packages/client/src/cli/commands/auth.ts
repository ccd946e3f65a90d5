// dpns auth NAME: the paper's Figure 7 from the command line. The name server checks that the
// running service still holds its ticket and hands this caller one half of a fresh pair (and the
// service the other). The pair is the caller's secret: printed on stdout only, with a warning.
import { name } from '../args.js';
import type { CliCommand } from '../command.js';

export const authCommand: CliCommand = {
  command: 'auth <name>',
  describe: 'Get a fresh ticket pair shared with a running launched service, to prove yourself to it and check it',
  builder: (y) => y
    .positional('name', { type: 'string', describe: 'a running service that dpns launched' })
    .example('$0 auth /demo/echo --json > pair.json', 'keep the pair {pairId, clientTicket, serviceTicket} for a program of yours')
    .example('$0 auth /demo/echo', 'the pair id, the two tickets and how each side proves itself')
    .epilogue('The pair is a secret: it goes to stdout only; keep it out of logs and command lines. '
      + 'In a program, ClientPair.fromSecret(json, name) proves the client and checks the service.'),
  async run(ctx, argv) {
    const n = name(argv);
    const pair = await ctx.client({ admin: false }).authenticateService(n);
    const secret = pair.exportSecret();
    ctx.note(`the tickets printed on stdout are a secret shared with ${pair.service}; do not log them or pass them on a command line`);
    if (ctx.json) {
      ctx.printJson({ pairId: secret.pairId, clientTicket: secret.clientTicket, serviceTicket: secret.serviceTicket });
      return;
    }
    ctx.line(`service:        ${pair.service}`);
    ctx.line(`pair:           ${secret.pairId}`);
    ctx.line(`client ticket:  ${secret.clientTicket}`);
    ctx.line(`service ticket: ${secret.serviceTicket}`);
    ctx.line(`prove:          hex HMAC-SHA256(client ticket bytes, "dpns-pair-client\\n${secret.pairId}\\n" + CHALLENGE)`);
    ctx.line(`check:          the service answers hex HMAC-SHA256(service ticket bytes, "dpns-pair-service\\n${secret.pairId}\\n" + CHALLENGE)`);
  },
};
