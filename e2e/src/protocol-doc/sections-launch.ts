// Sections 2.8, 5.6, 5.12 to 5.15, 10 and 11 of PROTOCOL.md: launching on demand through a
// real dpns-launchd on 127.0.0.1 (the example echo service as the launched program), kills,
// resets, and the ticket exchanges of a launched service, with the test speaking for it.
import { randomHex } from '@dpns/protocol';
import { isObject } from '../harness/doc-examples.js';
import {
  advertiseAsService, advertiseParams, authenticate, launchTicketPrinter, SHELL_ALLOW, type AuthExchange, type CapturedLaunch,
} from './launched.js';
import { AS_SENT, type SectionCtx, type SectionScript } from './script.js';
import { dbMainAndAlias } from './sections-transport.js';

/** The launch spec the doc's echo examples use: the example service, advertising 127.0.0.1. */
const ECHO_SPEC = { host: '127.0.0.1', program: 'echo', args: ['--host', '127.0.0.1'] } as const;

/** Registers `name` as the example echo service, and launches it when asked. */
async function echo(ctx: SectionCtx, name: string, launch = false): Promise<void> {
  await ctx.call('admin', 'register.add', { name, spec: ECHO_SPEC });
  if (launch) await ctx.call('admin', 'launchService', { name });
}

/** A plain service `name`, kept advertised by the "keeper" connection. */
async function plain(ctx: SectionCtx, name: string): Promise<void> {
  await ctx.call('keeper', 'advertiseService', { name, host: '10.0.0.3', port: 3000 });
}

/** The next watch.event on "watcher" for `name` whose entry is in `state` (and has a pid, or not). */
async function event(ctx: SectionCtx, name: string, state: string, pid?: boolean): Promise<Record<string, unknown>> {
  const w = await ctx.conn('watcher');
  return w.message('watch.event', (p) => p.name === name && isObject(p.entry) && p.entry.state === state &&
    (pid === undefined || ('pid' in p.entry) === pid), 30_000);
}

/** The documented answers' ids, sent as `request(id)` on `conn`, answered in doc order. */
async function answers(ctx: SectionCtx, conn: string, docs: readonly unknown[], request: (id: unknown, i: number) => [string, unknown]): Promise<unknown[]> {
  const c = await ctx.conn(conn);
  const ids = docs.map((d) => (d as Record<string, unknown>).id);
  ids.forEach((id, i) => {
    const [method, params] = request(id, i);
    c.send({ jsonrpc: '2.0', id, method, params });
  });
  return Promise.all(ids.map((id) => c.answer(id, 30_000)));
}

/** Per-run state of the sections whose blocks share one launched service. */
const run: { launch?: CapturedLaunch; auth?: AuthExchange } = {};
function captured(): CapturedLaunch {
  if (run.launch === undefined) throw new Error('the section set up no captured launch');
  return run.launch;
}

/** `/demo/raw` launched as the ticket printer and advertised by the test on "svc". */
async function rawService(ctx: SectionCtx): Promise<void> {
  run.launch = await launchTicketPrinter(ctx, '/demo/raw');
  await advertiseAsService(ctx, run.launch);
}

/** One authenticateService of `/demo/raw`, made once per section and shown block by block. */
async function exchange(ctx: SectionCtx): Promise<AuthExchange> {
  run.auth ??= await authenticate(ctx, captured(), 8);
  return run.auth;
}

export const launchSections: readonly SectionScript[] = [
  {
    section: '2.8',
    agent: SHELL_ALLOW,
    setup: async (ctx) => {
      run.auth = undefined;
      await rawService(ctx);
    },
    hooks: [{
      // The server's challenge, and the answer the test sent for the service (which the server accepted).
      match: '"method":"ticket.challenge"',
      produce: async (ctx) => {
        const a = await exchange(ctx);
        return [a.challenge, AS_SENT];
      },
    }],
  },
  {
    section: '5.6',
    agent: {},
    setup: async (ctx) => {
      await dbMainAndAlias(ctx);
      await echo(ctx, '/demo/echo');
      await ctx.call('admin', 'register.alias', { name: '/demo/alias', target: '/demo/echo' });
      await echo(ctx, '/demo/raw');
      await ctx.call('gone', 'advertiseService', { name: '/svc/a', host: '192.168.1.20', port: 8080 });
      await ctx.drop('gone');
      await ctx.until('/svc/a', (e) => e?.state === 'lost');
    },
    hooks: [
      { match: '"id":1,"method":"findServices","params":{"pattern":"/demo/echo"}', volatile: ['port'] },
      {
        // "/demo/echo was stopped": kill it first, so this find launches it again.
        match: '"pattern":"/demo\\\\/echo"', volatile: ['port'],
        before: (ctx) => ctx.call('admin', 'killService', { name: '/demo/echo' }).then(() => undefined),
      },
      { match: '"pattern":"/demo/alias"', volatile: ['port'] },
    ],
  },
  {
    section: '5.12',
    agent: {},
    setup: async (ctx) => {
      await echo(ctx, '/demo/raw');
      await echo(ctx, '/demo/echo', true);
      await plain(ctx, '/plain/x');
      await ctx.call('admin', 'register.add', { name: '/fail/notallowed', spec: { host: '127.0.0.1', program: '/bin/true' } });
    },
    hooks: [
      { match: '"name":"/demo/raw"}}', volatile: ['port'] },
      { match: '"launched":false', volatile: ['port'] },
    ],
  },
  {
    section: '5.13',
    agent: {},
    setup: async (ctx) => {
      await echo(ctx, '/demo/echo', true);
      await echo(ctx, '/demo/raw', true);
      await plain(ctx, '/plain/x');
      ctx.subst.set('127.0.0.1:41395', ctx.agent?.address ?? '');
    },
    hooks: [
      // The agent is down (the services it launched keep running).
      { match: 'AGENT_UNREACHABLE', before: (ctx) => ctx.stopAgent() },
      {
        // "it had been restarted with another name server's key in trustedKeys".
        match: 'AGENT_UNKNOWN_KEY',
        before: async (ctx) => {
          await ctx.restartAgent();
          await ctx.call('admin', 'launchService', { name: '/demo/echo' });
          await ctx.restartAgent({ trustedKeys: [randomHex(32)] });
        },
      },
    ],
  },
  {
    section: '5.14',
    agent: {},
    setup: (ctx) => echo(ctx, '/demo/raw', true),
    hooks: [{ match: '"method":"resetService"', volatile: ['port'] }],
  },
  {
    section: '5.15',
    agent: SHELL_ALLOW,
    setup: async (ctx) => {
      await rawService(ctx);
      await echo(ctx, '/demo/echo', true);
      await ctx.call('admin', 'killService', { name: '/demo/echo' });
      await plain(ctx, '/plain/x');
    },
    hooks: [
      {
        match: '"id":8,"method":"authenticateService"',
        produce: async (ctx) => {
          const a = await authenticate(ctx, captured(), 8);
          return [AS_SENT, a.result];
        },
      },
      {
        // The service answers the first challenge with an error, the second with a wrong proof,
        // and closes its connection when the third comes.
        match: 'did not answer the ticket challenge (connection closed)',
        produce: async (ctx, docs) => {
          const t = captured().ticket;
          const client = await ctx.conn('client');
          const svc = await ctx.conn('svc');
          const out: unknown[] = [];
          for (const [i, d] of docs.entries()) {
            const id = (d as Record<string, unknown>).id;
            client.send({ jsonrpc: '2.0', id, method: 'authenticateService', params: { name: t.service, boxKey: randomHex(32) } });
            const challenge = await svc.message('ticket.challenge');
            if (i === 0) svc.send({ jsonrpc: '2.0', id: challenge.id, error: { code: -32601, message: 'this client does not answer "ticket.challenge"', data: { code: 'METHOD_NOT_FOUND' } } });
            else if (i === 1) svc.send({ jsonrpc: '2.0', id: challenge.id, result: { proof: randomHex(32) } });
            else await ctx.drop('svc');
            out.push(await client.answer(id));
          }
          return out;
        },
      },
    ],
  },
  {
    section: '10.1',
    agent: {},
    volatile: ['port'],
    setup: async (ctx) => {
      await echo(ctx, '/demo/echo');
      await ctx.call('watcher', 'watch', { pattern: '/demo/*' });
    },
    hooks: [{
      match: '"state":"starting"',
      produce: async (ctx) => {
        (await ctx.conn('client')).send({ jsonrpc: '2.0', id: 1, method: 'findServices', params: { pattern: '/demo/echo' } });
        return [await event(ctx, '/demo/echo', 'starting', false), await event(ctx, '/demo/echo', 'starting', true), await event(ctx, '/demo/echo', 'running')];
      },
    }],
  },
  {
    section: '10.2',
    agent: { sleep: '/bin/sleep' },
    setup: async (ctx) => {
      const specs: Record<string, Record<string, unknown>> = {
        '/fail/unreachable': { host: '127.0.0.9', program: 'echo' },
        // Lives long enough for the agent's reply (a process gone by then is SPAWN_FAILED), then exits.
        '/fail/exits': { host: '127.0.0.1', program: 'sleep', args: ['2'] },
        '/fail/timeout': { host: '127.0.0.1', program: '/bin/sleep', args: ['30'], startTimeoutMs: 1000 },
        '/fail/cwd': { host: '127.0.0.1', program: 'sleep', args: ['30'], cwd: '/nonexistent' },
        '/fail/root': { host: '127.0.0.1', program: 'sleep', args: ['30'], user: 'root' },
      };
      for (const [name, spec] of Object.entries(specs)) await ctx.call('admin', 'register.add', { name, spec });
      // An agent is trusted for 127.0.0.9 but none listens there, so it cannot be reached.
      await ctx.call('admin', 'agents.trust', { host: '127.0.0.9', key: randomHex(32) });
      ctx.subst.set('127.0.0.9:41395', `127.0.0.9:${ctx.agent?.port ?? 0}`);
    },
    hooks: [
      {
        match: '"cause":"AGENT_UNREACHABLE"',
        produce: (ctx, docs) => answers(ctx, 'client', docs, (_, i) =>
          ['launchService', { name: ['/fail/unreachable', '/fail/exits', '/fail/timeout', '/fail/cwd', '/fail/root'][i] }]),
      },
      { match: '"state":"failed"', produce: async (ctx) => [(await ctx.call('admin', 'register.info', { name: '/fail/timeout' })).entry] },
    ],
  },
  {
    section: '10.3',
    agent: { sleep: '/bin/sleep' },
    setup: async (ctx) => {
      await echo(ctx, '/demo/echo', true);
      await ctx.call('admin', 'register.add', { name: '/demo/sleepy', spec: { host: '127.0.0.1', program: 'sleep', args: ['30'] } });
      await ctx.call('watcher', 'watch', { pattern: '/demo/*' });
    },
    hooks: [
      {
        match: '"state":"stopping"',
        volatile: ['port'],
        produce: async (ctx) => {
          await ctx.restartAgent({ trustedKeys: [randomHex(32)] });
          const admin = await ctx.conn('admin');
          const refused = await admin.request(42, 'killService', { name: '/demo/echo' });
          if (!isObject(refused.error)) throw new Error(`the kill was not refused: ${JSON.stringify(refused)}`);
          return [await event(ctx, '/demo/echo', 'stopping'), await event(ctx, '/demo/echo', 'running')];
        },
      },
      {
        match: 'was stopped while it was starting',
        before: (ctx) => ctx.restartAgent(),
        produce: async (ctx, docs) => {
          const [kill, launch, find] = docs.map((d) => (d as Record<string, unknown>).id);
          const client = await ctx.conn('client');
          client.send({ jsonrpc: '2.0', id: launch, method: 'launchService', params: { name: '/demo/sleepy' } });
          client.send({ jsonrpc: '2.0', id: find, method: 'findServices', params: { pattern: '/demo/sleepy' } });
          await ctx.until('/demo/sleepy', (e) => e?.state === 'starting' && 'pid' in e);
          const admin = await ctx.conn('admin');
          return [await admin.request(kill, 'killService', { name: '/demo/sleepy' }, 30_000), await client.answer(launch), await client.answer(find)];
        },
      },
    ],
  },
  {
    // 21 launches in one batch on a fresh connection; the 21st has no token left. The service's
    // host has no agent trusted, so each of the first 20 fails at once (AGENT_UNTRUSTED).
    section: '10.4',
    setup: (ctx) => ctx.call('admin', 'register.add', { name: '/demo/rl', spec: { host: '127.0.0.8', program: 'echo' } }).then(() => undefined),
    hooks: [{
      match: 'RATE_LIMITED',
      produce: async (ctx, docs) => {
        const last = (docs[0] as Record<string, unknown>).id as number;
        const c = await ctx.conn('client');
        c.send(Array.from({ length: 21 }, (_, i) => ({ jsonrpc: '2.0', id: last - 20 + i, method: 'launchService', params: { name: '/demo/rl' } })));
        const all = await c.batchAnswer(30_000);
        return [all[20]];
      },
    }],
  },
  {
    section: '10.5',
    agent: {},
    volatile: ['port'],
    setup: async (ctx) => {
      await ctx.call('admin', 'register.add', { name: '/demo/phoenix', spec: { ...ECHO_SPEC, restart: 'on-failure' } });
      await ctx.call('admin', 'launchService', { name: '/demo/phoenix' });
      await ctx.call('watcher', 'watch', { pattern: '/demo/*' });
    },
    hooks: [{
      match: '"name":"/demo/phoenix"',
      produce: async (ctx) => {
        const info = await ctx.call('admin', 'register.info', { name: '/demo/phoenix' });
        const pid = isObject(info.entry) ? Number(info.entry.pid) : NaN;
        process.kill(pid, 'SIGKILL');
        const name = '/demo/phoenix';
        return [await event(ctx, name, 'lost'), await event(ctx, name, 'starting', false), await event(ctx, name, 'starting', true), await event(ctx, name, 'running')];
      },
    }],
  },
  {
    section: '11.2',
    agent: SHELL_ALLOW,
    setup: async (ctx) => {
      run.launch = await launchTicketPrinter(ctx, '/demo/raw');
      ctx.subst.set('127.0.0.1:34549', ctx.ns.server);
    },
    hooks: [{ match: '"nameserverTicket"', produce: async () => [JSON.parse(captured().line)] }],
  },
  {
    section: '11.3',
    agent: SHELL_ALLOW,
    setup: async (ctx) => {
      run.launch = await launchTicketPrinter(ctx, '/demo/raw');
    },
    hooks: [{
      // The doc's request as written, with the proof made anew over this connection's nonce.
      match: '"nameserverProof"',
      conn: 'svc',
      rewrite: (req, conn) => {
        const params = isObject(req.params) ? req.params : {};
        const fresh = advertiseParams(captured().ticket, conn, String(params.host), Number(params.port));
        return { ...req, params: { ...params, proof: fresh.proof } };
      },
    }],
  },
  {
    section: '11.4',
    agent: SHELL_ALLOW,
    setup: async (ctx) => {
      run.auth = undefined;
      await rawService(ctx);
    },
    hooks: [
      {
        match: '"id":8,"method":"authenticateService"',
        produce: async (ctx) => {
          await exchange(ctx);
          return [AS_SENT];
        },
      },
      {
        // The challenge and the answer the test sent for the service (the doc shows them as two blocks).
        match: '"method":"ticket.challenge"',
        produce: async (ctx) => {
          const a = await exchange(ctx);
          return [a.challenge, AS_SENT];
        },
      },
      {
        // The pair as both sides open it: from ticket.pair with the service ticket, and from the answer with the client's box key.
        match: '"clientTicket"',
        produce: async (ctx) => {
          const a = await exchange(ctx);
          if (a.clientPairText !== a.pairText) throw new Error(`the client opened ${String(a.clientPairText)}, the service ${a.pairText}`);
          return [JSON.parse(a.pairText)];
        },
      },
      { match: '"method":"ticket.pair"', produce: async (ctx) => [(await exchange(ctx)).pairFrame] },
      { match: '"id":8,"result"', produce: async (ctx) => [(await exchange(ctx)).result] },
    ],
  },
];
