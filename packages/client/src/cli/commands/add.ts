// dpns add NAME --host H|--hosts LIST --program P ...: register an auto-start service (admin).
import { parseParams, SPEC_LIMITS, type LaunchSpec } from '@dpns/protocol';
import { name } from '../args.js';
import type { CliCommand } from '../command.js';
import { specFromArgs, specOptions } from '../spec-options.js';
import { checkLocally, UsageError } from '../usage-error.js';

export const addCommand: CliCommand = {
  command: 'add <name>',
  describe: 'Register an auto-start service: the name server launches it on demand (admin)',
  builder: (y) => specOptions(y.positional('name', { type: 'string', describe: 'service name' }), true)
    .example('$0 add /demo/echo --host node1 --program /opt/demo/echo --arg=--port --arg 0', 'an echo service on node1')
    .example('$0 add /demo/web --host node2 --program web --env PORT=8080 --cwd /srv/web --start-timeout 20000', 'with environment and working directory')
    .example('$0 add /demo/web --host node2 --program web --idle-stop 10m', 'scale to zero: stopped after 10 minutes unused, started by the next find')
    .example('$0 add /media/transcode --hosts \'media-*\' --program transcode', 'on whichever media host is least loaded when it is launched')
    .example('$0 add /demo/echo --hosts node1,node2 --program echo', 'on node1 or node2; if one is down, the other'),
  async run(ctx, argv) {
    const n = name(argv);
    const given = specFromArgs(argv);
    if (given.host === undefined && given.hosts === undefined) throw new UsageError('give the host to launch it on: --host HOST, or --hosts HOST,HOST|PATTERN');
    const spec: LaunchSpec = {
      ...given,
      program: given.program ?? '',
      args: given.args ?? [],
      env: given.env ?? {},
      startTimeoutMs: given.startTimeoutMs ?? SPEC_LIMITS.startTimeoutMs.dflt,
    };
    checkLocally(() => parseParams['register.add']({ name: n, spec }));
    await ctx.client({ admin: true }).register.add(n, spec);
    if (ctx.json) ctx.printJson({ ok: true, name: n, spec });
    else ctx.line(`added ${n}`);
  },
};
