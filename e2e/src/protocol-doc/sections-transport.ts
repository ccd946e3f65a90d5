// Sections 2 to 5.5 and 13 of PROTOCOL.md: frames, batches, limits, hello, login, identify, ping,
// listServices, and the error object.
import { isObject } from '../harness/doc-examples.js';
import type { SectionCtx, SectionScript } from './script.js';

/** Sends `frame` on a fresh connection and returns the next answer with `"id":null`. */
async function nullIdAnswer(ctx: SectionCtx, frame: unknown): Promise<unknown> {
  const conn = await ctx.conn('client');
  conn.send(frame);
  return conn.next((f) => isObject(f) && f.id === null, 10_000, 'an answer with "id":null');
}

/** Sends each documented answer's request (made by `request` from the answer) and returns the answers. */
async function answersTo(ctx: SectionCtx, docs: readonly unknown[], request: (doc: Record<string, unknown>) => Record<string, unknown>, conn = 'client'): Promise<unknown[]> {
  const c = await ctx.conn(conn);
  const sent = docs.map((d) => {
    const req: Record<string, unknown> = { jsonrpc: '2.0', ...request(d as Record<string, unknown>) };
    c.send(req);
    return req.id;
  });
  return Promise.all(sent.map((id) => c.answer(id)));
}

/** The method an UNAUTHORIZED message names first ("register.info needs the admin credential…"). */
function methodNamed(doc: Record<string, unknown>): string {
  const error = isObject(doc.error) ? doc.error : {};
  return String(error.message).split(' ')[0] ?? '';
}

/** `/db/main` static at 10.0.0.5:5432 and the alias `/db/primary`, as §5.10 and §5.19 make them. */
export async function dbMainAndAlias(ctx: SectionCtx): Promise<void> {
  await ctx.call('admin', 'advertiseService', { name: '/db/main', host: '10.0.0.5', port: 5432, static: true });
  await ctx.call('admin', 'register.alias', { name: '/db/primary', target: '/db/main' });
}

export const transportSections: readonly SectionScript[] = [
  {
    section: '2.2',
    hooks: [
      { match: 'binary frames are not accepted', produce: async (ctx) => [await nullIdAnswer(ctx, Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping"}'))] },
      // The parser's message names the position of the fault: here, just after "ping" (39).
      { match: 'not valid JSON', produce: async (ctx) => [await nullIdAnswer(ctx, '{"jsonrpc":"2.0","id":1,"method":"ping""params":{}}')] },
      { match: 'deeper than 32 levels', produce: async (ctx) => [await nullIdAnswer(ctx, `${'['.repeat(33)}${']'.repeat(33)}`)] },
    ],
  },
  {
    section: '2.3',
    hooks: [
      { match: 'method must be a string', produce: async (ctx) => [await nullIdAnswer(ctx, '{"jsonrpc":"2.0","method":1}')] },
      {
        // "sending advertise (id 1), find (id 2) and unwatch (id 3, of a watch the connection
        // held) back to back gave the answers in the order 3, 1, 2": the order is checked too,
        // as the rules make it certain (an unwatch is answered at once, a write once fsynced,
        // and a read after the write it sees).
        match: '"id":3,"result":{"ok":true}',
        produce: async (ctx, docs) => {
          const c = await ctx.conn('client');
          const w = await ctx.call('client', 'watch', { pattern: '/elsewhere/*' });
          c.send({ jsonrpc: '2.0', id: 1, method: 'advertiseService', params: { name: '/rw/a', host: 'h', port: 1 } });
          c.send({ jsonrpc: '2.0', id: 2, method: 'findServices', params: { pattern: '/rw/a' } });
          c.send({ jsonrpc: '2.0', id: 3, method: 'unwatch', params: { watchId: w.watchId } });
          const answers: unknown[] = [];
          for (const _ of docs) answers.push(await c.next((f) => isObject(f) && 'id' in f && !('method' in f), 10_000, 'an answer'));
          return answers;
        },
      },
    ],
  },
  {
    section: '2.4',
    setup: async (ctx) => {
      await ctx.call('client', 'advertiseService', { name: '/rw/a', host: 'h', port: 1 });
    },
    hooks: [{
      match: 'an empty batch is not a request',
      produce: async (ctx) => [
        await nullIdAnswer(ctx, '[]'),
        await nullIdAnswer(ctx, Array.from({ length: 65 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'ping' }))),
      ],
    }],
  },
  {
    section: '2.5',
    hooks: [{
      match: 'FRAME_TOO_LARGE',
      produce: async (ctx) => {
        // A frame of exactly the size the doc names, 1572924 bytes.
        const head = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"';
        const tail = '"}}';
        return [await nullIdAnswer(ctx, `${head}${'x'.repeat(1572924 - head.length - tail.length)}${tail}`)];
      },
    }],
  },
  {
    // A server just started on an empty data directory: revision 1 (its start record).
    section: '3',
    exact: ['revision'],
    hooks: [{ match: '"method":"hello"', produce: async (ctx) => [(await ctx.conn('fresh')).hello] }],
  },
  {
    section: '5.1',
    hooks: [{
      match: 'needs the admin credential',
      produce: (ctx, docs) => answersTo(ctx, docs, (d) => ({ id: d.id, method: methodNamed(d), params: {} })),
    }],
  },
  { section: '5.4', exact: ['revision'] },
  { section: '5.5', setup: dbMainAndAlias },
  {
    section: '13',
    hooks: [{ match: 'no service named /nope', produce: (ctx, docs) => answersTo(ctx, docs, (d) => ({ id: d.id, method: 'findServices', params: { pattern: '/nope' } })) }],
  },
];
