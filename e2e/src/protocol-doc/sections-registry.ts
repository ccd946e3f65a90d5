// Sections 5.7 to 5.11, 5.16 to 5.20, 5.25, 5.26, 6, 7 and 9 of PROTOCOL.md: reads, watches,
// advertisements and the admin's register.* methods, none of which needs a launch agent.
import { identifySignature, newOwnerKey } from '@dpns/protocol';
import { isObject } from '../harness/doc-examples.js';
import type { SectionCtx, SectionScript } from './script.js';
import { dbMainAndAlias } from './sections-transport.js';

/** `/demo/echo` as §5.16's first example registers it. */
export async function registerEchoHostA(ctx: SectionCtx): Promise<void> {
  await ctx.call('admin', 'register.add', { name: '/demo/echo', spec: { host: 'host-a', program: '/usr/local/bin/echo-server', args: ['--port=7007'] } });
}

/** `/own/a` advertised by a connection that proved an owner key, then lost: reserved for that key (§9.6). */
async function reservedOwnA(ctx: SectionCtx): Promise<void> {
  const owner = await ctx.conn('owner');
  const key = newOwnerKey();
  await ctx.call('owner', 'identify', { publicKey: key.publicKey, signature: identifySignature(key, owner.nonce) });
  await ctx.call('owner', 'advertiseService', { name: '/own/a', host: '10.0.0.9', port: 80 });
  await ctx.drop('owner');
  await ctx.until('/own/a', (e) => e?.state === 'lost');
}

/** The next watch.event on the "watcher" connection for `name` that `match` accepts. */
function event(ctx: SectionCtx, name: string, match: (p: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
  return ctx.conn('watcher').then((w) => w.message('watch.event', (p) => p.name === name && match(p)));
}

const entryState = (state: string) => (p: Record<string, unknown>): boolean => isObject(p.entry) && p.entry.state === state;

export const registrySections: readonly SectionScript[] = [
  {
    section: '5.7',
    setup: async (ctx) => {
      await dbMainAndAlias(ctx);
      await registerEchoHostA(ctx);
    },
  },
  {
    // The third watch of one connection, on a server started with --max-watches 2.
    section: '5.8',
    args: ['--max-watches', '2'],
    setup: async (ctx) => {
      await ctx.call('client', 'advertiseService', { name: '/rw/a', host: 'h', port: 1 });
      await ctx.call('client', 'advertiseService', { name: '/rw/b', host: '10.0.0.7', port: 7000 });
    },
  },
  {
    section: '5.9',
    setup: async (ctx) => {
      const r = await ctx.call('client', 'watch', { pattern: '*' });
      if (r.watchId !== 'w1') throw new Error(`the first watch of a fresh server is ${String(r.watchId)}, not w1`);
    },
  },
  {
    section: '5.10',
    setup: async (ctx) => {
      await ctx.call('keeper', 'advertiseService', { name: '/v/x', host: '10.0.0.1', port: 80 });
      await ctx.call('admin', 'register.alias', { name: '/v/al', target: '/v/x' });
      await registerEchoHostA(ctx);
    },
    hooks: [
      { match: '"host":"192.168.1.21"', conn: 'other' },
      { match: '"name":"/x","host":"h","port":1,"static":true', conn: 'client' },
    ],
  },
  {
    section: '5.11',
    setup: async (ctx) => {
      await registerEchoHostA(ctx);
      // An admin may advertise an auto-start name; unadvertised, it is `stopped`.
      await ctx.call('admin', 'advertiseService', { name: '/demo/echo', host: '127.0.0.1', port: 9 });
      await ctx.call('admin', 'unadvertiseService', { name: '/demo/echo' });
    },
    hooks: [
      { match: '"id":3,"result"', before: (ctx) => ctx.call('client', 'advertiseService', { name: '/svc/a', host: '192.168.1.20', port: 8080 }).then(() => undefined) },
      { match: 'FORBIDDEN', before: (ctx) => ctx.call('holder', 'advertiseService', { name: '/svc/a', host: '192.168.1.20', port: 8080 }).then(() => undefined) },
      { match: 'no service named /svc/a', before: (ctx) => ctx.call('holder', 'unadvertiseService', { name: '/svc/a' }).then(() => undefined) },
    ],
  },
  {
    section: '5.17',
    setup: async (ctx) => {
      await ctx.call('keeper', 'advertiseService', { name: '/v/x', host: '10.0.0.1', port: 80 });
      await ctx.call('admin', 'register.alias', { name: '/v/al', target: '/v/x' });
      await dbMainAndAlias(ctx);
    },
  },
  {
    section: '5.18',
    setup: registerEchoHostA,
    hooks: [
      {
        match: '"restart":"no"',
        before: async (ctx) => {
          await ctx.call('admin', 'register.delete', { name: '/demo/echo' });
          await ctx.call('admin', 'register.add', { name: '/demo/echo', spec: { host: '127.0.0.1', program: 'echo', args: ['--host', '127.0.0.1'], restart: 'on-failure' } });
        },
      },
      { match: '"program":"/bin/p"', before: (ctx) => ctx.call('keeper', 'advertiseService', { name: '/v/plain', host: '10.0.0.1', port: 80 }).then(() => undefined) },
      {
        // The entry is plain again (the example before made it auto-start).
        match: '"args":["x"]',
        before: async (ctx) => {
          await ctx.call('admin', 'register.delete', { name: '/v/plain' });
          await ctx.call('keeper', 'advertiseService', { name: '/v/plain', host: '10.0.0.1', port: 80 });
        },
      },
    ],
  },
  {
    section: '5.19',
    setup: (ctx) => ctx.call('admin', 'advertiseService', { name: '/db/main', host: '10.0.0.5', port: 5432, static: true }).then(() => undefined),
  },
  { section: '5.20', setup: dbMainAndAlias },
  {
    section: '5.25',
    setup: (ctx) => ctx.call('client', 'advertiseService', { name: '/demo/a', host: '127.0.0.1', port: 7001 }).then(() => undefined),
  },
  { section: '5.26', setup: reservedOwnA },
  {
    section: '6',
    setup: async (ctx) => {
      for (const pattern of ['/m/*', '/m/1', '/svc/*']) await ctx.call('watcher', 'watch', { pattern });
    },
    hooks: [
      {
        match: '"type":"delete","name":"/svc/a"',
        produce: async (ctx) => {
          await ctx.call('svc', 'advertiseService', { name: '/svc/a', host: '192.168.1.20', port: 8080 });
          await ctx.call('svc', 'unadvertiseService', { name: '/svc/a' });
          return [await event(ctx, '/svc/a', (p) => p.type === 'put'), await event(ctx, '/svc/a', (p) => p.type === 'delete')];
        },
      },
      {
        match: '"watchIds":["w1","w2"],"revision":62',
        produce: async (ctx) => {
          await ctx.call('m', 'advertiseService', { name: '/m/1', host: 'h', port: 1 });
          return [await event(ctx, '/m/1', entryState('running'))];
        },
      },
      {
        match: '"state":"lost"',
        produce: async (ctx) => {
          await ctx.call('m', 'advertiseService', { name: '/m/2', host: 'h', port: 2 });
          await ctx.drop('m');
          return [await event(ctx, '/m/1', entryState('lost')), await event(ctx, '/m/2', entryState('lost'))];
        },
      },
    ],
  },
  {
    section: '7.3',
    hooks: [{
      // Each spec, registered as written, is what register.info shows.
      match: '"program":"/bin/x"',
      produce: async (ctx, docs) => {
        const out: unknown[] = [];
        for (const [i, spec] of docs.entries()) {
          await ctx.call('admin', 'register.add', { name: `/spec/s${i}`, spec });
          out.push(((await ctx.call('admin', 'register.info', { name: `/spec/s${i}` })).entry as Record<string, unknown>).spec);
        }
        return out;
      },
    }],
  },
  {
    section: '7.5',
    hooks: [{
      match: '"redacted":true',
      produce: async (ctx) => {
        await ctx.call('admin', 'register.add', {
          name: '/spec/db', spec: { host: '127.0.0.1', program: 'node', args: ['db.mjs', '--password=hunter2'], env: { DB_PASSWORD: 'hunter2' }, cwd: '/srv/db' },
        });
        const r = await ctx.call('client', 'serviceState', { pattern: '/spec/db' });
        return [((r.entries as Record<string, unknown>[])[0] ?? {}).spec];
      },
    }],
  },
  {
    section: '9.6',
    setup: reservedOwnA,
    hooks: [{
      match: '"code":"RESERVED"',
      produce: async (ctx, docs) => {
        const c = await ctx.conn('client');
        return [await c.request((docs[0] as Record<string, unknown>).id, 'advertiseService', { name: '/own/a', host: '10.0.0.9', port: 80 })];
      },
    }],
  },
];
