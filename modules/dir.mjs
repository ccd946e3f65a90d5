// dir: the conferencing directory of the Tcl-DP Name Server paper, as a dpns module.
//
// People register which conferencing server they are on (the dpns service name of that server);
// `dir.lookup` answers where that server runs, read from the name server's registry, in one
// round trip: the client asks the name server, not a directory service that asks it in turn.
//
//   dpns call dir.register '{"person":"ann","server":"/conf/room-1"}'
//   dpns call dir.lookup   '{"person":"ann"}'   → {"person":"ann","server":"/conf/room-1","service":"/conf/room-1","host":"10.0.0.5","port":7010}
//   dpns call dir.list
//   dpns call dir.unregister '{"person":"ann"}'
//
// Anyone may look up and list. Changing an entry needs a caller the name server can vouch for
// (ctx.caller): a connection that proved an owner key with `identify` creates entries it owns,
// and only it — or an admin — may change or remove them later. An anonymous connection changes
// nothing: otherwise anyone could point ann's entry at their own server.
//
// Who is on which server is kept in the module's own store (<data-dir>/modules/dir.json), so it
// survives restarts. It imports nothing: copy it, change the prefix, and make it yours.

export const manifest = {
  prefix: 'dir',
  version: '1.1.0',
  methods: {
    register: { description: 'Record that {person} is on the conferencing server {server} (a dpns service name); admin, or an identified caller for a new entry or one it owns' },
    unregister: { description: 'Forget {person}; admin, or the identified caller that owns the entry' },
    lookup: { description: "Where {person}'s conferencing server runs: {person, server, service, host, port}; aliases followed, running only" },
    list: { description: 'Everyone in the directory: {people: [{person, server, since, owner}]}' },
  },
};

const PERSON = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
const SERVICE = /^(\/[A-Za-z0-9._-]+)+$/;
const KEY = 'person:';

/** The params object, with only the fields a method takes. */
function paramsOf(params, ctx, allowed) {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw ctx.error('INVALID_PARAMS', 'params: expected an object');
  }
  for (const k of Object.keys(params)) {
    if (!allowed.includes(k)) throw ctx.error('INVALID_PARAMS', `params: unknown field ${JSON.stringify(k)} (allowed: ${allowed.join(', ')})`);
  }
  return params;
}

function personOf(p, ctx) {
  if (typeof p.person !== 'string' || !PERSON.test(p.person)) {
    throw ctx.error('INVALID_PARAMS', 'params.person: expected 1 to 64 letters, digits and . _ @ + - (starting with a letter or digit)', { field: 'params.person' });
  }
  return p.person;
}

/**
 * Refuses a change to `person`'s entry unless the caller is an admin or owns it: UNAUTHORIZED
 * for a caller with no identity at all, FORBIDDEN for one that is not the entry's owner. An
 * entry with no owner (made by an admin without an owner key, or by an older version of this
 * module) is the admins' alone.
 */
function mayChange(ctx, person, rec) {
  const { admin, owner } = ctx.caller;
  if (admin) return;
  if (owner === null) {
    throw ctx.error('UNAUTHORIZED', `changing the directory needs an identity: identify with an owner key, or log in as admin (dpns --token)`, { person });
  }
  if (rec !== undefined && rec.owner !== owner) {
    throw ctx.error('FORBIDDEN', `${person}'s entry belongs to another owner; only it or an admin may change it`, { person });
  }
}

export const handlers = {
  async register(params, ctx) {
    const p = paramsOf(params, ctx, ['person', 'server']);
    const person = personOf(p, ctx);
    if (typeof p.server !== 'string' || p.server.length > 255 || !SERVICE.test(p.server)) {
      throw ctx.error('INVALID_PARAMS', 'params.server: expected the dpns name of a conferencing server, like /conf/room-1', { field: 'params.server' });
    }
    const old = ctx.store.get(KEY + person);
    mayChange(ctx, person, old);
    // An admin's change keeps the entry's owner; a new entry belongs to whoever made it.
    const owner = old !== undefined ? (old.owner ?? null) : ctx.caller.owner;
    // The store writes atomically and resolves once the record is on disk.
    await ctx.store.set(KEY + person, { server: p.server, since: Date.now(), owner });
    return { person, server: p.server };
  },

  async unregister(params, ctx) {
    const person = personOf(paramsOf(params, ctx, ['person']), ctx);
    const old = ctx.store.get(KEY + person);
    mayChange(ctx, person, old);
    if (old === undefined || !(await ctx.store.delete(KEY + person))) throw ctx.error('NOT_FOUND', `${person} is not in the directory`, { person });
    return { person };
  },

  lookup(params, ctx) {
    const person = personOf(paramsOf(params, ctx, ['person']), ctx);
    const rec = ctx.store.get(KEY + person);
    if (rec === undefined) throw ctx.error('NOT_FOUND', `${person} is not in the directory`, { person });
    // find() is the registry's own: aliases followed; NOT_FOUND or NOT_RUNNING (with the reason) otherwise.
    const [where] = ctx.registry.find(rec.server);
    return { person, server: rec.server, service: where.service, host: where.host, port: where.port };
  },

  list(params, ctx) {
    paramsOf(params, ctx, []);
    const people = ctx.store.keys()
      .filter((k) => k.startsWith(KEY))
      .sort()
      .map((k) => {
        const { server, since, owner } = ctx.store.get(k);
        return { person: k.slice(KEY.length), server, since, owner: owner ?? null };
      });
    return { people };
  },
};
