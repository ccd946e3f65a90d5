// dpns advertise NAME HOST PORT: a static entry for a program that does not speak dpns (admin).
import { parseParams } from '@dpns/protocol';
import { name, reqString } from '../args.js';
import { checkFromArgs, checkOptions } from '../check-options.js';
import { checkText } from '../format.js';
import type { CliCommand } from '../command.js';
import { checkLocally, UsageError } from '../usage-error.js';

export const advertiseCommand: CliCommand = {
  command: 'advertise <name> <host> <port>',
  describe: 'Record that NAME runs at HOST:PORT until unadvertised (admin; a static entry)',
  builder: (y) => checkOptions(y)
    .positional('name', { type: 'string', describe: 'service name, e.g. /demo/echo' })
    .positional('host', { type: 'string', describe: 'host name or IP address' })
    .positional('port', { type: 'string', describe: 'TCP port, 1-65535' })
    .example('$0 advertise /lab/printer 10.0.0.7 9100 --token-file /var/lib/dpns/admin.token', 'a static entry for a printer')
    .example('$0 advertise /db/main 10.0.0.5 5432 --check tcp', 'left out of finds while nothing accepts connections there')
    .example('$0 advertise /web/shop 10.0.0.6 8080 --check http:/healthz --check-interval 10000', 'healthy while GET /healthz answers 2xx or 3xx'),
  async run(ctx, argv) {
    const n = name(argv);
    const host = reqString(argv, 'host');
    const portText = reqString(argv, 'port');
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new UsageError(`PORT must be an integer from 1 to 65535, got ${JSON.stringify(portText)}`);
    const check = checkFromArgs(argv);
    checkLocally(() => parseParams.advertiseService({ name: n, host, port, static: true, ...(check === undefined ? {} : { check }) }));
    await ctx.client({ admin: true }).advertiseStatic(n, host, port, check === undefined ? {} : { check });
    if (ctx.json) ctx.printJson({ ok: true, name: n, host, port, ...(check === undefined ? {} : { check }) });
    else ctx.line(`advertised ${n} at ${host}:${port} (static${check === undefined ? '' : `; check: ${checkText(check)}`})`);
  },
};
