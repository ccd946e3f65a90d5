// dpns call PREFIX.METHOD [JSON]: calls a method of an external module loaded in the name
// server and prints its answer as JSON. Logs in first when a token is configured, for the
// methods a module keeps to admins.
import { parseModuleMethod } from '@dpns/protocol';
import { optString, reqString } from '../args.js';
import type { CliCommand } from '../command.js';
import { UsageError } from '../usage-error.js';

export const callCommand: CliCommand = {
  command: 'call <method> [params]',
  describe: 'Call a method of an external module (PREFIX.METHOD) and print its JSON answer',
  builder: (y) => y
    .positional('method', { type: 'string', describe: 'PREFIX.METHOD, e.g. dir.lookup (dpns modules list shows what is loaded)' })
    .positional('params', { type: 'string', describe: 'the params as one JSON object or array (default {})' })
    .example('$0 call dir.lookup \'{"person":"ann"}\'', 'where ann\'s conferencing server runs, in one round trip')
    .example('$0 call lb.pick \'{"pattern":"/conf/*"}\' --json', 'the least-loaded running conferencing server'),
  async run(ctx, argv) {
    const method = reqString(argv, 'method');
    if (parseModuleMethod(method) === undefined) {
      throw new UsageError(`METHOD: expected PREFIX.METHOD like dir.lookup (a prefix of lowercase letters, digits and dashes that is not a built-in one), got ${JSON.stringify(method)}`);
    }
    const params = parseJsonParams(optString(argv, 'params'));
    const result = await ctx.client({ admin: true }).callModule(method, params, ctx.timeoutMs === undefined ? {} : { timeoutMs: ctx.timeoutMs });
    ctx.printJson(result);
  },
};

function parseJsonParams(text: string | undefined): unknown {
  if (text === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`PARAMS: not valid JSON (${(err as Error).message}); quote it for the shell, e.g. '{"person":"ann"}'`);
  }
  if (typeof v !== 'object' || v === null) throw new UsageError(`PARAMS: expected a JSON object or array, got ${JSON.stringify(v)}`);
  return v;
}
