// dpns servers: the members of the name server cluster as one of them sees it.
import type { ServerStatus } from '@dpns/protocol';
import type { ServersResult } from '../../client.js';
import type { CliCommand } from '../command.js';
import { table } from '../table.js';

export const serversCommand: CliCommand = {
  command: 'servers',
  describe: 'Show the cluster\'s name servers: SID URL ROLE EPOCH LAST INDEX LAG CONNECTED',
  builder: (y) => y
    .example('DPNS_SERVERS=ns1:7700,ns2:7700,ns3:7700 $0 servers', 'the cluster as its primary sees it (any member, while there is none)')
    .example('$0 servers --json', 'the raw answer, as JSON')
    .epilogue('Asked of the primary, or, when there is none, of the first server that answers; * marks the server that answered. '
      + 'LAG is how many log records a member is behind the primary.'),
  async run(ctx) {
    const r = await ctx.client({ admin: false }).servers();
    if (ctx.json) ctx.printJson(r);
    else for (const l of serversTable(r)) ctx.line(l);
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
