// dpns agents list|join-token|trust|revoke: which launch agent the name servers trust on each
// host. A launch, kill or restart goes only to an agent trusted for its host (AGENT_UNTRUSTED otherwise).
import type { AgentInfo } from '@dpns/protocol';
import { duration, optString } from '../args.js';
import type { CliCommand } from '../command.js';
import { table } from '../table.js';
import { UsageError } from '../usage-error.js';

const ACTIONS = ['list', 'join-token', 'trust', 'revoke'] as const;

export const agentsCommand: CliCommand = {
  command: 'agents <action> [host] [key]',
  describe: 'List the trusted launch agents; make a join token, trust or revoke an agent (admin)',
  builder: (y) => y
    .positional('action', { choices: ACTIONS, describe: 'list (anyone) · join-token [--ttl 1h] [--host NAME] · trust HOST KEY · revoke HOST' })
    .positional('host', { type: 'string', describe: 'the host as services name it in their spec (what the name server dials); join-token: --host NAME, the one host the token may enroll' })
    .positional('key', { type: 'string', describe: 'trust: the agent\'s identity, 64 hex digits (dpns-launchd prints it at start as "identity: ...")' })
    .option('ttl', { type: 'string', describe: 'join-token: how long the token is good for: 90s, 30m, 1h, 2d (at most 7d)', default: '1h' })
    .example('$0 agents join-token --ttl 1h', 'prints a single-use token; on the host: dpns-launchd install --join TOKEN --server ns1:7700 ...')
    .example('$0 agents list', 'HOST FINGERPRINT HOW ENROLLED')
    .example('$0 agents trust web-1 3f2a…(64 hex)', 'trust that identity for web-1, without a token')
    .example('$0 agents revoke web-1', 'launches on web-1 fail AGENT_UNTRUSTED until an agent is enrolled again'),
  async run(ctx, argv) {
    const action = argv.action as (typeof ACTIONS)[number];
    const host = optString(argv, 'host');
    const key = optString(argv, 'key');
    switch (action) {
      case 'list': {
        if (key !== undefined) throw new UsageError('agents list takes no argument');
        const agents = await ctx.client({ admin: false }).agents.list();
        if (ctx.json) ctx.printJson({ agents });
        else for (const l of agentTable(agents)) ctx.line(l);
        return;
      }
      case 'join-token': {
        if (key !== undefined) throw new UsageError('agents join-token takes no KEY; name the host with --host');
        const ttlMs = duration(optString(argv, 'ttl') ?? '1h', 'ttl');
        const r = await ctx.client({ admin: true }).agents.joinToken({ ttlMs, ...(host === undefined ? {} : { host }) });
        if (ctx.json) ctx.printJson(r);
        else ctx.line(r.token);
        // The token alone on stdout, so `TOKEN=$(dpns agents join-token)` works; the rest on stderr.
        if (!ctx.json) ctx.note(`single use, until ${new Date(r.expiresAt).toISOString()}${r.host === undefined ? '' : `, for ${r.host} only`}; on the host: dpns-launchd join --join TOKEN --server HOST:PORT`);
        return;
      }
      case 'trust': {
        if (host === undefined || key === undefined) throw new UsageError('agents trust needs HOST and KEY');
        if (!/^[0-9a-f]{64}$/.test(key)) throw new UsageError(`KEY must be the agent's identity as 64 lowercase hex digits, got ${JSON.stringify(key)}`);
        const r = await ctx.client({ admin: true }).agents.trust(host, key);
        if (ctx.json) ctx.printJson({ ok: true, host, ...r });
        else ctx.line(`trusted ${key.slice(0, 16)}… for ${host}`);
        return;
      }
      case 'revoke': {
        if (host === undefined || key !== undefined) throw new UsageError('agents revoke needs exactly HOST');
        const r = await ctx.client({ admin: true }).agents.revoke(host);
        if (ctx.json) ctx.printJson({ ok: true, host, ...r });
        else ctx.line(`revoked the agent of ${host}`);
        return;
      }
      default: {
        const never: never = action;
        throw new UsageError(`unknown action ${String(never)}`);
      }
    }
  },
};

/** HOST FINGERPRINT HOW ENROLLED. */
export function agentTable(agents: AgentInfo[]): string[] {
  const rows = [['HOST', 'FINGERPRINT', 'HOW', 'ENROLLED']];
  for (const a of agents) rows.push([a.host, a.fingerprint, a.how, a.enrolledAt === undefined ? '-' : new Date(a.enrolledAt).toISOString()]);
  return table(rows);
}
