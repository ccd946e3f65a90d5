// What each method does, given a parsed request and the connection that sent it.
import {
  DpnsError, checkAdminProof, checkIdentify, type MethodName, type Params, type Result,
} from '@dpns/protocol';
import type { Connection } from './connection.js';
import type { Liveness } from './liveness.js';
import type { Logger } from './log.js';
import type { Op } from './registry/ops.js';
import { find, listNames, states } from './registry/queries.js';
import type { Registry } from './registry/registry.js';
import { info, planAdd, planAdvertise, planAlias, planDelete, planEdit, planUnadvertise, type Actor } from './registry/rules.js';
import type { WatchHub } from './watch-hub.js';

/** What handlers need from the server around them. */
export interface HandlerContext {
  registry: Registry;
  hub: WatchHub;
  liveness: Liveness;
  commit(ops: Op[]): Promise<number>;
  /** Holds a read's answer until what it saw is durable. */
  afterDurable<T>(answer: T): T | Promise<T>;
  adminToken: string;
  maxWatchesPerConnection: number;
  log: Logger;
  now(): number;
}

type Handler<M extends MethodName> = (ctx: HandlerContext, conn: Connection, p: Params<M>) => Result<M> | Promise<Result<M>>;

function actor(conn: Connection): Actor {
  return conn.owner === undefined ? { admin: conn.admin, connId: conn.id } : { admin: conn.admin, connId: conn.id, owner: conn.owner };
}

const revision = (r: number) => ({ revision: r });

export const handlers: { [M in MethodName]: Handler<M> } = {
  login(ctx, conn, p) {
    if (!checkAdminProof(ctx.adminToken, conn.nonce, p.proof)) {
      ctx.log.warn('refused an admin login with a wrong credential', { conn: conn.id, remote: conn.remote });
      throw new DpnsError('UNAUTHORIZED', 'wrong admin credential: check --token / DPNS_TOKEN against the server\'s admin.token');
    }
    conn.admin = true;
    return { admin: true };
  },
  identify(_ctx, conn, p) {
    if (!checkIdentify(p.publicKey, conn.nonce, p.signature)) {
      throw new DpnsError('UNAUTHORIZED', 'identify: the signature does not match this connection\'s nonce and the given key');
    }
    conn.owner = p.publicKey;
    return { owner: p.publicKey };
  },
  ping(ctx) {
    return ctx.afterDurable({ revision: ctx.registry.revision, time: ctx.now() });
  },
  listServices(ctx, _conn, p) {
    return ctx.afterDurable({ names: listNames(ctx.registry, p.pattern) });
  },
  findServices(ctx, _conn, p) {
    return ctx.afterDurable({ services: find(ctx.registry, p.pattern) });
  },
  serviceState(ctx, _conn, p) {
    return ctx.afterDurable({ entries: states(ctx.registry, p.pattern) });
  },
  watch(ctx, conn, p) {
    if (conn.watches.size >= ctx.maxWatchesPerConnection) {
      throw new DpnsError('LIMIT_EXCEEDED', `at most ${ctx.maxWatchesPerConnection} watches per connection; close some with unwatch or use a wider pattern`, {
        details: { limit: ctx.maxWatchesPerConnection },
      });
    }
    const watchId = ctx.hub.add(p.pattern, conn);
    conn.watches.add(watchId);
    const out: Result<'watch'> = { watchId, revision: ctx.registry.revision };
    if (p.initial) out.entries = states(ctx.registry, p.pattern);
    return ctx.afterDurable(out);
  },
  unwatch(ctx, conn, p) {
    if (!conn.watches.has(p.watchId) || !ctx.hub.remove(p.watchId, conn)) {
      throw new DpnsError('NOT_FOUND', `no watch ${p.watchId} on this connection`, { details: { watchId: p.watchId } });
    }
    conn.watches.delete(p.watchId);
    return { ok: true };
  },
  advertiseService(ctx, conn, p) {
    const ops = planAdvertise(ctx.registry, p, actor(conn), ctx.liveness, ctx.now());
    if (p.static) ctx.liveness.unbind(p.name);
    else ctx.liveness.bind(p.name, conn);
    return ctx.commit(ops).then(revision);
  },
  unadvertiseService(ctx, conn, p) {
    const ops = planUnadvertise(ctx.registry, p.name, actor(conn), ctx.liveness, ctx.now());
    ctx.liveness.unbind(p.name);
    return ctx.commit(ops).then(revision);
  },
  'register.add'(ctx, _conn, p) {
    return ctx.commit(planAdd(ctx.registry, p.name, p.spec, ctx.now())).then(revision);
  },
  'register.delete'(ctx, _conn, p) {
    const ops = planDelete(ctx.registry, p.name);
    ctx.liveness.unbind(p.name);
    return ctx.commit(ops).then(revision);
  },
  'register.edit'(ctx, _conn, p) {
    const { ops, entry } = planEdit(ctx.registry, p, ctx.now());
    return ctx.commit(ops).then((r) => ({ revision: r, entry }));
  },
  'register.alias'(ctx, _conn, p) {
    return ctx.commit(planAlias(ctx.registry, p.name, p.target, ctx.now())).then(revision);
  },
  'register.info'(ctx, _conn, p) {
    return ctx.afterDurable(info(ctx.registry, p.name));
  },
};
