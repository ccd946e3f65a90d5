// Sections 5.21 to 5.24 and 18 of PROTOCOL.md: external modules. Each section's server loads the
// shipped modules/ (dir and lb) at start, as the doc's server did, and the module files the doc
// names under /tmp/cap/mods are written by module-fixtures.ts.
import { join } from 'node:path';
import { identifySignature, newOwnerKey } from '@dpns/protocol';
import { isObject } from '../harness/doc-examples.js';
import { REPO_ROOT } from '../harness/index.js';
import { writeModuleFixtures } from './module-fixtures.js';
import { AS_SENT, type SectionCtx, type SectionScript } from './script.js';

const SHIPPED = join(REPO_ROOT, 'modules');
const WITH_SHIPPED = ['--modules-dir', SHIPPED];

/** Writes the fixtures, maps the doc's paths to this run's, and waits for dir and lb to run. */
async function modulesReady(ctx: SectionCtx): Promise<void> {
  ctx.subst.set('/tmp/cap/mods', writeModuleFixtures(ctx.dir));
  ctx.subst.set('/work/main/modules', SHIPPED);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await ctx.call('admin', 'modules.list');
    const running = (Array.isArray(r.modules) ? r.modules : []).filter((m) => isObject(m) && m.state === 'running').length;
    if (running >= 2) return;
    if (Date.now() > deadline) throw new Error(`dir and lb are not running: ${JSON.stringify(r)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Opens connection `name` and proves a fresh owner key on it (dir changes only for an identified caller). */
async function identified(ctx: SectionCtx, name: string): Promise<void> {
  const conn = await ctx.conn(name);
  const key = newOwnerKey();
  await ctx.call(name, 'identify', { publicKey: key.publicKey, signature: identifySignature(key, conn.nonce) });
}

/** `modules.load` of a fixture that must fail to load (it stays listed as failed, or is refused). */
async function loadFailing(ctx: SectionCtx, file: string): Promise<void> {
  const admin = await ctx.conn('admin');
  const a = await admin.request(`load ${file}`, 'modules.load', { path: join(ctx.dir, 'mods', file) }, 15_000);
  if (!('error' in a)) throw new Error(`${file} loaded: ${JSON.stringify(a)}`);
}

async function load(ctx: SectionCtx, file: string): Promise<void> {
  await ctx.call('admin', 'modules.load', { path: join(ctx.dir, 'mods', file) });
}

/** The documented answers' ids, each sent as `method` with `params(doc)` on "admin", answered in order. */
async function adminAnswers(ctx: SectionCtx, docs: readonly unknown[], method: string, params: (doc: Record<string, unknown>) => unknown): Promise<unknown[]> {
  const admin = await ctx.conn('admin');
  const out: unknown[] = [];
  for (const d of docs) {
    const doc = d as Record<string, unknown>;
    out.push(await admin.request(doc.id, method, params(doc), 15_000));
  }
  return out;
}

/** The path a documented module refusal names. */
function pathOf(doc: Record<string, unknown>): string {
  const e = isObject(doc.error) ? doc.error : {};
  return isObject(e.data) ? String(e.data.path) : '';
}

export const moduleSections: readonly SectionScript[] = [
  {
    section: '5.21',
    args: WITH_SHIPPED,
    setup: modulesReady,
    hooks: [{
      match: '"path":"/tmp/cap/mods/throws.mjs"',
      produce: async (ctx, docs) => {
        await loadFailing(ctx, 'throws.mjs');
        await loadFailing(ctx, 'initfails.mjs');
        const modules = (await ctx.call('admin', 'modules.list')).modules as Record<string, unknown>[];
        return docs.map((d) => modules.find((m) => m.path === (d as Record<string, unknown>).path));
      },
    }],
  },
  {
    section: '5.22',
    args: WITH_SHIPPED,
    setup: modulesReady,
    hooks: [{
      match: '"cause":"LOAD_FAILED"',
      produce: (ctx, docs) => adminAnswers(ctx, docs, 'modules.load', (d) => ({ path: pathOf(d) })),
    }],
  },
  {
    section: '5.23',
    args: WITH_SHIPPED,
    setup: async (ctx) => {
      await modulesReady(ctx);
      await load(ctx, 'probe.mjs');
      await loadFailing(ctx, 'throws.mjs');
    },
    hooks: [{
      match: 'was unloaded while the call was in flight',
      produce: async (ctx, docs) => {
        await load(ctx, 'probe2.mjs');
        const client = await ctx.conn('client');
        const id = (docs[0] as Record<string, unknown>).id;
        client.send({ jsonrpc: '2.0', id, method: 'probe2.wait', params: {} });
        await new Promise((resolve) => setTimeout(resolve, 200));
        await ctx.call('admin', 'modules.unload', { prefix: 'probe2' });
        return [await client.answer(id)];
      },
    }],
  },
  {
    section: '5.24',
    args: WITH_SHIPPED,
    setup: async (ctx) => {
      await modulesReady(ctx);
      await loadFailing(ctx, 'initfails.mjs');
    },
  },
  {
    section: '18.1',
    args: WITH_SHIPPED,
    setup: async (ctx) => {
      await modulesReady(ctx);
      await ctx.call('admin', 'advertiseService', { name: '/conf/room-1', host: '10.0.0.5', port: 7010, static: true });
      await ctx.call('admin', 'advertiseService', { name: '/conf/room-2', host: '10.0.0.6', port: 7010, static: true });
      await ctx.call('admin', 'register.alias', { name: '/conf/main', target: '/conf/room-1' });
      await load(ctx, 'probe.mjs');
      await identified(ctx, 'owner');
    },
    hooks: [{ match: '"method":"dir.register"', conn: 'owner' }],
  },
  {
    section: '18.2',
    args: WITH_SHIPPED,
    setup: async (ctx) => {
      await modulesReady(ctx);
      await load(ctx, 'probe.mjs');
      await load(ctx, 'probe2.mjs');
      await loadFailing(ctx, 'initfails.mjs');
      await ctx.call('gone', 'advertiseService', { name: '/conf/room-3', host: '10.0.0.7', port: 7010 });
      await identified(ctx, 'owner');
      await ctx.call('owner', 'dir.register', { person: 'cy', server: '/conf/room-3' });
      await ctx.drop('gone');
      await ctx.until('/conf/room-3', (e) => e?.state === 'lost');
    },
    hooks: [
      {
        // Two calls in flight when the module's process exits with code 3.
        match: 'its process exited (code 3)',
        produce: async (ctx, docs) => {
          const client = await ctx.conn('client');
          const ids = docs.map((d) => (d as Record<string, unknown>).id);
          for (const id of ids) client.send({ jsonrpc: '2.0', id, method: 'probe2.wait', params: {} });
          await new Promise((resolve) => setTimeout(resolve, 200));
          await client.request('exit', 'probe2.exit', {});
          return Promise.all(ids.map((id) => client.answer(id)));
        },
      },
      {
        // A handler that loops for ever, then two calls 50 ms and 450 ms later. The second goes
        // out as soon as the timeout is answered (the restart waits 200 ms, and a loaded machine
        // can stall 50 ms more), and how long the module takes to come back varies with the
        // load, so the last call is repeated (same id) while it answers RESTARTING, as the doc
        // tells callers to.
        match: '"method":"probe.spin"',
        produce: async (ctx, docs) => {
          const [spin, , restarting, , again] = docs as Record<string, unknown>[];
          const client = await ctx.conn('client');
          const out: unknown[] = [AS_SENT, await client.request(spin?.id, 'probe.spin', {}, 10_000)];
          out.push(AS_SENT, await client.request(restarting?.id, 'probe.echo', {}));
          await new Promise((resolve) => setTimeout(resolve, 400));
          const deadline = Date.now() + 15_000;
          for (;;) {
            const a = await client.request(again?.id, 'probe.echo', { again: true });
            const data = isObject(a.error) && isObject(a.error.data) ? a.error.data : {};
            if (data.cause !== 'RESTARTING' || Date.now() > deadline) return [...out, AS_SENT, a];
            await new Promise((resolve) => setTimeout(resolve, Number(data.retryAfterMs ?? 100)));
          }
        },
      },
    ],
  },
];
