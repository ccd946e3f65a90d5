// Section 17 of PROTOCOL.md: the launch agent's own protocol. The agent's frames come from a
// real dpns-launchd; the name server's come through a recording proxy on the agent's port; the
// refusals are provoked by requests the test signs with the name server's key (or another).
import { hostname } from 'node:os';
import { randomHex } from '@dpns/protocol';
import { isObject } from '../harness/doc-examples.js';
import { ECHO_SERVICE } from '../harness/index.js';
import { bodyParsed, envelope, openAgent, recordAgentLink, RequestSigner, type AgentExchange } from './agent-link.js';
import type { SectionCtx, SectionScript } from './script.js';

/** The spec §17.5's launch was made for. */
const LAUNCHED = { host: '127.0.0.1', program: 'echo', args: ['--host', '127.0.0.1'], env: { DPNS_ADVERTISE_HOST: '127.0.0.1' } };

/** Launches and kills `/demo/echo` through a recorded link; returns the launch and kill exchanges. */
async function launchAndKill(ctx: SectionCtx): Promise<{ launch: AgentExchange; kill: AgentExchange }> {
  const link = await recordAgentLink(ctx);
  try {
    await ctx.call('admin', 'register.add', { name: '/demo/echo', spec: LAUNCHED });
    await ctx.call('admin', 'launchService', { name: '/demo/echo' });
    await ctx.call('admin', 'killService', { name: '/demo/echo' });
    const op = (x: AgentExchange): unknown => {
      const body = bodyParsed(x.request);
      return isObject(body) && isObject(body.body) ? body.body.op : undefined;
    };
    const all = link.exchanges();
    const launch = all.find((x) => op(x) === 'launch');
    const kill = all.find((x) => op(x) === 'kill');
    if (launch === undefined || kill === undefined) throw new Error(`no launch and kill recorded: ${JSON.stringify(all).slice(0, 500)}`);
    return { launch, kill };
  } finally {
    await link.close();
  }
}

/** A status request on a fresh connection to the section's agent, as `signer`, with `body` changes. */
async function status(ctx: SectionCtx, signer: RequestSigner, more: (conn: Awaited<ReturnType<typeof openAgent>>) => Record<string, unknown> = () => ({})): Promise<Record<string, unknown>> {
  const conn = await openAgent(ctx.agent?.port ?? 0);
  try {
    return await conn.send(signer.frame({ op: 'status', ...envelope(conn), ...more(conn) }));
  } finally {
    conn.close();
  }
}

export const agentSections: readonly SectionScript[] = [
  {
    section: '17.2',
    agent: {},
    setup: async (ctx) => {
      ctx.subst.set('"host":"vm"', JSON.stringify({ host: hostname() }).slice(1, -1));
    },
    hooks: [{
      match: '"type":"hello"',
      produce: async (ctx) => {
        const conn = await openAgent(ctx.agent?.port ?? 0);
        conn.close();
        return [conn.hello];
      },
    }],
  },
  {
    section: '17.3',
    agent: {},
    volatile: ['ts'],
    hooks: [{ match: '\\"op\\":\\"kill\\"', view: bodyParsed, produce: async (ctx) => [(await launchAndKill(ctx)).kill.request] }],
  },
  {
    // The sealed box's length follows the ports in the sealed servers and ticket line.
    section: '17.5',
    agent: {},
    volatile: ['ts', 'box'],
    hooks: [{
      match: '\\"op\\":\\"launch\\"',
      view: bodyParsed,
      produce: async (ctx) => {
        const { launch } = await launchAndKill(ctx);
        return [launch.request, launch.reply];
      },
    }],
  },
  {
    section: '17.7',
    agent: {},
    setup: async (ctx) => {
      // Both services are the example service here; the doc's /demo/raw ran a capture program.
      ctx.subst.set('/work/main/examples/echo-service/echo-service.mjs', ECHO_SERVICE);
      ctx.subst.set('/tmp/cap/capture-service.mjs', ECHO_SERVICE);
      for (const name of ['/demo/raw', '/demo/echo']) {
        await ctx.call('admin', 'register.add', { name, spec: { host: '127.0.0.1', program: 'echo', args: ['--host', '127.0.0.1'] } });
        await ctx.call('admin', 'launchService', { name });
      }
    },
    hooks: [{ match: '"entries":[', produce: async (ctx) => [await status(ctx, RequestSigner.ofNameServer(ctx.ns.dataDir))] }],
  },
  {
    section: '17.8',
    agent: {},
    hooks: [{
      match: '"code":"UNKNOWN_KEY"',
      produce: async (ctx) => {
        const ns = RequestSigner.ofNameServer(ctx.ns.dataDir);
        const port = ctx.agent?.port ?? 0;
        const out: unknown[] = [];
        out.push(await status(ctx, new RequestSigner()));
        {
          const conn = await openAgent(port);
          const frame = ns.frame({ op: 'status', ...envelope(conn) });
          out.push(await conn.send({ ...frame, sig: `${String(frame.sig).slice(0, 127)}${String(frame.sig).endsWith('0') ? '1' : '0'}` }));
          conn.close();
        }
        out.push(await status(ctx, ns, () => ({ ts: Date.now() - 60_017 })));
        const other = await openAgent(port);
        out.push(await status(ctx, ns, () => ({ boxKey: other.hello.boxKey })));
        other.close();
        const nonce = randomHex(32);
        await status(ctx, ns, () => ({ nonce }));
        out.push(await status(ctx, ns, () => ({ nonce })));
        await status(ctx, ns, () => ({ epoch: 5 }));
        out.push(await status(ctx, ns, () => ({ epoch: 4 })));
        out.push(await status(ctx, ns, () => ({ target: '198.18.0.3', epoch: 5 })));
        out.push(await status(ctx, ns, () => ({ extra: 1, epoch: 5 })));
        return out;
      },
    }],
  },
  {
    // The figures are this machine's: only their types are held to the document's.
    section: '17.11',
    agent: {},
    volatile: ['loadavg', 'cpus'],
    hooks: [{
      match: '"loadavg"',
      produce: async (ctx) => {
        const conn = await openAgent(ctx.agent?.port ?? 0);
        try {
          return [await conn.send(RequestSigner.ofNameServer(ctx.ns.dataDir).frame({ op: 'load', ...envelope(conn) }))];
        } finally {
          conn.close();
        }
      },
    }],
  },
];
