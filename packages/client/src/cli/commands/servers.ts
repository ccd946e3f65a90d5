// dpns servers [add HOST:PORT | remove SID]: the voters of the name server cluster as one of them sees it, and membership changes (admin).
import type { ServerStatus } from '@dpns/protocol';
import type { MembershipResult, ServersResult } from '../../client.js';
import { optString } from '../args.js';
import type { CliCommand } from '../command.js';
import { UsageError } from '../usage-error.js';
import { table } from '../table.js';

const ACTIONS = ['add', 'remove'] as const;

export const serversCommand: CliCommand = {
  command: 'servers [action] [target]',
  describe: 'Show the cluster\'s voters (SID URL ROLE EPOCH LAST INDEX LAG CONNECTED), or add or remove one (admin)',
  builder: (y) => y
    .positional('action', { choices: ACTIONS, describe: 'add HOST:PORT: a server started with --join becomes a voter · remove SID: a voter leaves' })
    .positional('target', { type: 'string', describe: 'add: the new server\'s HOST:PORT (its --self); remove: the SID dpns servers lists' })
    .example('DPNS_SERVERS=ns1:7700,ns2:7700,ns3:7700 $0 servers', 'the cluster as its primary sees it (any member, while there is none)')
    .example('$0 servers --json', 'the raw answer, as JSON')
    .example('$0 servers add ns4:7700', 'add the server started with --join --self ns4:7700 (it gets the next unused SID)')
    .example('$0 servers remove 1', 'SID 1 leaves the cluster (it stops once that is committed)')
    .epilogue('Asked of the primary, or, when there is none, of the first server that answers; * marks the server that answered. '
      + 'LAG is how many log records a member is behind the primary. add and remove change one voter at a time and answer once the change is '
      + 'committed; a change while another is pending fails MEMBERSHIP_CHANGE_PENDING (docs/CLUSTER.md, "Membership changes").'),
  async run(ctx, argv) {
    const action = argv.action as (typeof ACTIONS)[number] | undefined;
    const target = optString(argv, 'target');
    if (action === undefined) {
      if (target !== undefined) throw new UsageError('servers takes add HOST:PORT or remove SID, or nothing');
      const r = await ctx.client({ admin: false }).servers();
      if (ctx.json) ctx.printJson(r);
      else for (const l of serversTable(r)) ctx.line(l);
      return;
    }
    if (target === undefined || target === '') throw new UsageError(`servers ${action} needs ${action === 'add' ? 'HOST:PORT' : 'SID'}`);
    let r: MembershipResult;
    if (action === 'add') {
      r = await ctx.client({ admin: true }).addServer(target);
    } else {
      if (!/^\d{1,7}$/.test(target)) throw new UsageError(`servers remove needs a SID (an integer, as dpns servers lists it), got ${JSON.stringify(target)}`);
      r = await ctx.client({ admin: true }).removeServer(Number(target));
    }
    if (ctx.json) ctx.printJson(r);
    else ctx.line(`${action === 'add' ? 'added' : 'removed'} SID ${r.sid}${r.address === '' ? '' : ` (${r.address})`}; voters now ${r.voters.join(', ')} (configuration record ${r.index})`);
  },
};

const dash = (v: string | number | undefined): string => (v === undefined ? '-' : String(v));

/** The table, then one line saying who the primary is and how the cluster replicates. */
export function serversTable(r: ServersResult): string[] {
  const rows = [['SID', 'URL', 'ROLE', 'EPOCH', 'LAST INDEX', 'LAG', 'CONNECTED']];
  for (const s of r.servers) rows.push([`${s.sid}${s.self ? '*' : ''}`, s.url, dash(s.role), dash(s.epoch), dash(s.lastIndex), dash(s.lag), connected(s)]);
  const primary = r.servers.find((s) => s.sid === r.primary);
  const who = r.primary === undefined ? 'no primary known' : `primary: SID ${r.primary}${primary === undefined ? '' : ` (${primary.url})`}`;
  return [...table(rows), `${who}; epoch ${r.epoch}; replication ${r.replication}; * = SID ${r.self}, the server that answered`];
}

function connected(s: ServerStatus): string {
  if (s.self) return 'self';
  const heard = s.lastHeardMs === undefined ? '' : ` (heard ${(s.lastHeardMs / 1000).toFixed(1)} s ago)`;
  return `${s.connected ? 'yes' : 'no'}${heard}`;
}
