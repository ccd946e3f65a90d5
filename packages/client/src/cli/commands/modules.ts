// dpns modules list|load|unload|reload: the name server's external modules (admin).
import { resolve } from 'node:path';
import type { ModuleInfo } from '@dpns/protocol';
import { optString } from '../args.js';
import type { CliCommand } from '../command.js';
import { table } from '../table.js';
import { UsageError } from '../usage-error.js';

const ACTIONS = ['list', 'load', 'unload', 'reload'] as const;

export const modulesCommand: CliCommand = {
  command: 'modules <action> [target]',
  describe: 'List, load, unload or reload the name server\'s external modules (admin)',
  builder: (y) => y
    .positional('action', { choices: ACTIONS, describe: 'list: state, restarts, last error · load PATH · unload PREFIX · reload PREFIX' })
    .positional('target', { type: 'string', describe: 'load: a module file (on the name server\'s host); unload/reload: a prefix, or the path of a module that failed before it had one' })
    .example('$0 modules list', 'PREFIX STATE VERSION RESTARTS CALLS ERRORS PATH LAST-ERROR')
    .example('$0 modules load ./modules/dir.mjs', 'load the conferencing directory (a relative path is made absolute here)')
    .example('$0 modules reload dir', 'load dir\'s file again: new code, fresh worker')
    .example('$0 modules unload dir', 'stop it; its stored data stays'),
  async run(ctx, argv) {
    const action = argv.action as (typeof ACTIONS)[number];
    const target = optString(argv, 'target');
    if (action === 'list') {
      if (target !== undefined) throw new UsageError('modules list takes no argument');
      const modules = await ctx.client({ admin: true }).modules.list();
      if (ctx.json) ctx.printJson({ modules });
      else for (const l of moduleTable(modules)) ctx.line(l);
      return;
    }
    if (target === undefined || target === '') throw new UsageError(`modules ${action} needs ${action === 'load' ? 'PATH' : 'PREFIX'}`);
    const client = ctx.client({ admin: true });
    // A path is read on the name server's host; a relative one is taken from where this command runs.
    const prefixOrPath = target.includes('/') || action === 'load' ? resolve(target) : target;
    switch (action) {
      case 'load': {
        const module = await client.modules.load(prefixOrPath);
        if (ctx.json) ctx.printJson({ module });
        else ctx.line(`loaded ${describe(module)}`);
        return;
      }
      case 'reload': {
        const module = await client.modules.reload(prefixOrPath);
        if (ctx.json) ctx.printJson({ module });
        else ctx.line(`reloaded ${describe(module)}`);
        return;
      }
      case 'unload': {
        const r = await client.modules.unload(prefixOrPath);
        if (ctx.json) ctx.printJson({ ok: true, ...r });
        else ctx.line(`unloaded ${r.prefix ?? r.path}`);
        return;
      }
      default: {
        const never: never = action;
        throw new UsageError(`unknown action ${String(never)}`);
      }
    }
  },
};

function describe(m: ModuleInfo): string {
  return `${m.prefix ?? '?'} ${m.version ?? ''} from ${m.path} (methods: ${m.methods.map((x) => x.name).join(', ')})`;
}

/** PREFIX STATE VERSION RESTARTS CALLS ERRORS PATH LAST-ERROR. */
export function moduleTable(modules: ModuleInfo[]): string[] {
  const rows = [['PREFIX', 'STATE', 'VERSION', 'RESTARTS', 'CALLS', 'ERRORS', 'PATH', 'LAST-ERROR']];
  for (const m of modules) {
    const last = m.lastError === undefined ? '-' : `${m.lastError.cause}: ${m.lastError.message}`.replace(/\s+/g, ' ').slice(0, 160);
    rows.push([m.prefix ?? '-', m.state, m.version ?? '-', String(m.restarts), String(m.calls), String(m.errors), m.path, last]);
  }
  return table(rows);
}
