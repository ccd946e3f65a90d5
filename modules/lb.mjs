// lb: load-aware selection among the running services that match a pattern, as a dpns module.
//
//   dpns call lb.pick '{"pattern":"/conf/*"}'   → {"name":"/conf/room-2","service":"/conf/room-2","host":"10.0.0.6","port":7010,"how":"round-robin"}
//
// When the matching entries report a load (a number in `entry.load`, which services report
// once the monitor's load reporting exists), the least-loaded one is picked; ties, and entries
// that report none, take turns. It reads only the module's copy of the registry, so a pick
// costs no more than a find. It imports nothing: copy it and make it yours.

export const manifest = {
  prefix: 'lb',
  version: '1.0.0',
  methods: {
    pick: { description: 'The least-loaded running service among those matching {pattern}, else the next in turn: {name, service, host, port, load?, how}' },
  },
};

/** The next turn per pattern, for round-robin; forgotten when it grows past MAX_PATTERNS. */
const turns = new Map();
const MAX_PATTERNS = 10000;

/** The load an entry reports, or undefined. */
function loadOf(entry) {
  const load = entry === undefined ? undefined : entry.load;
  return typeof load === 'number' && Number.isFinite(load) && load >= 0 ? load : undefined;
}

/** The next of `list` in this pattern's turn. */
function nextInTurn(pattern, list) {
  const turn = turns.get(pattern) ?? 0;
  if (!turns.has(pattern) && turns.size >= MAX_PATTERNS) turns.clear();
  turns.set(pattern, turn + 1);
  return list[turn % list.length];
}

export const handlers = {
  pick(params, ctx) {
    if (typeof params !== 'object' || params === null || Array.isArray(params) || typeof params.pattern !== 'string') {
      throw ctx.error('INVALID_PARAMS', 'params.pattern: expected a glob pattern, like /conf/*', { field: 'params.pattern' });
    }
    const { pattern } = params;
    // As findServices: running services only, aliases resolved; INVALID_PATTERN for a bad pattern.
    const found = ctx.registry.find(pattern);
    if (found.length === 0) throw ctx.error('NOT_RUNNING', `no running service matches ${pattern}`, { pattern });
    const scored = found.map((loc) => ({ loc, load: loadOf(ctx.registry.get(loc.service)) }));
    const reporting = scored.filter((s) => s.load !== undefined);
    if (reporting.length > 0) {
      const least = Math.min(...reporting.map((s) => s.load));
      const best = nextInTurn(pattern, reporting.filter((s) => s.load === least));
      return { ...best.loc, load: best.load, how: 'load' };
    }
    return { ...nextInTurn(pattern, found), how: 'round-robin' };
  },
};
