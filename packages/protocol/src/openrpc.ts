// The method table as an OpenRPC document (https://spec.open-rpc.org): what `pnpm run openrpc`
// writes to docs/openrpc.json and the name server answers at GET /openrpc.json. Shapes with a
// `title` (EntryView, Location, …) become components; each method's traits go under `x-dpns`.
import type { TObject, TSchema } from '@sinclair/typebox';
import { MAX_REQUEST_ID_LENGTH } from './cluster.js';
import { MAX_PATTERN_LENGTH } from './glob.js';
import { PROTOCOL_VERSION } from './messages.js';
import { isWrite, METHOD_NAMES, METHODS, type MethodName } from './methods.js';
import { MAX_NAME_BYTES } from './names.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** The name rule (PROTOCOL.md §12.1, names.ts) as a JSON Schema pattern; openrpc.test.ts holds the two together. */
export const NAME_PATTERN = '^(?:/(?!\\.{1,2}(?:/|$))[A-Za-z0-9._-]+)+$';

/**
 * The server checks names, patterns and hosts with formats of its own; in the document they are
 * JSON Schema any validator knows (an unknown format is an error to some), and the rule in words.
 */
const FORMATS: Record<string, JsonObject> = {
  'dpns-name': { pattern: NAME_PATTERN, maxLength: MAX_NAME_BYTES, description: 'A service name: "/" and segments of [A-Za-z0-9._-], none "." or ".." (PROTOCOL.md §12.1).' },
  'dpns-pattern': {
    minLength: 1, maxLength: MAX_PATTERN_LENGTH,
    description: 'A name, or a glob over names with *, ?, [set] and \\ escapes (PROTOCOL.md §12.2); one without wildcards is held to the name rules.',
  },
  'dpns-host': { description: 'A host name, or an IPv4 or IPv6 literal without brackets (PROTOCOL.md §5.10).' },
  'dpns-host-pattern': { description: 'A dpns-host, or a host name pattern where * stands for any run of characters and ? for one (PROTOCOL.md §10.6).' },
};

/** Plain JSON of a schema (TypeBox's symbol keys dropped), its titled parts moved to `components`. */
function hoist(schema: TSchema, components: Record<string, Json>): Json {
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    let out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x);
    const format = typeof out.format === 'string' ? FORMATS[out.format] : undefined;
    if (format !== undefined) {
      const { format: _, description, ...rest } = out;
      out = { ...rest, ...format, ...(typeof description === 'string' ? { description: `${description} ${String(format.description)}` } : {}) };
    }
    const title = out.title;
    if (typeof title !== 'string') return out;
    const seen = components[title];
    if (seen !== undefined && JSON.stringify(seen) !== JSON.stringify(out)) throw new Error(`two different schemas are titled ${title}`);
    components[title] = out;
    return { $ref: `#/components/schemas/${title}` };
  };
  return walk(JSON.parse(JSON.stringify(schema)) as Json);
}

function traits(m: MethodName): JsonObject {
  const t = METHODS[m];
  switch (t.kind) {
    case 'write':
      return { kind: t.kind, admin: t.admin, answeredBy: 'primary', replayable: t.replayable };
    case 'launch':
      return { kind: t.kind, admin: t.admin, answeredBy: 'primary' };
    case 'read':
    case 'session':
    case 'auth':
    case 'modules':
    case 'cluster':
      return {
        kind: t.kind, admin: t.admin, answeredBy: t.answeredBy, channel: t.channel, resend: t.resend,
        ...(t.mayLaunch === undefined ? {} : { mayLaunch: true }),
      };
  }
}

const REQUEST_ID: Json = {
  name: 'requestId', required: false,
  description: 'Chosen once per logical write and sent again unchanged on every retry (PROTOCOL.md §19.4).',
  schema: { type: 'string', pattern: `^[\\x21-\\x7e]{1,${MAX_REQUEST_ID_LENGTH}}$` },
};

function methodObject(m: MethodName, components: Record<string, Json>): JsonObject {
  const def = METHODS[m];
  const params = def.params as TObject;
  const required = params.required ?? [];
  const list: Json[] = Object.entries(params.properties).map(([name, s]) => {
    const schema = hoist(s, components);
    return { name, required: required.includes(name), ...(typeof s.description === 'string' ? { description: s.description } : {}), schema };
  });
  if (isWrite(m)) list.push(REQUEST_ID);
  return {
    name: m,
    description: def.summary,
    paramStructure: 'by-name',
    params: list,
    result: { name: `${m}Result`, schema: hoist(def.result, components) },
    'x-dpns': traits(m),
  };
}

/** The OpenRPC document of the protocol's methods (module calls `<prefix>.<method>` are each module's own). */
export function openRpcDocument(): JsonObject {
  const components: Record<string, Json> = {};
  const methods = METHOD_NAMES.map((m) => methodObject(m, components));
  const sorted: JsonObject = {};
  for (const k of Object.keys(components).sort()) sorted[k] = components[k] as Json;
  return {
    openrpc: '1.2.6',
    info: {
      title: 'dpns name server',
      version: String(PROTOCOL_VERSION),
      description: 'JSON-RPC 2.0 over WebSocket; docs/PROTOCOL.md is the whole contract (hello, notifications, errors, tickets). '
        + 'Generated from the method table in packages/protocol/src/methods.ts by `pnpm run openrpc`. `x-dpns` gives each method\'s traits: '
        + 'kind, admin only, which servers answer it (answeredBy), the client connection that carries it (channel), whether the client resends it '
        + 'after a drop (resend), whether a retry with an applied requestId is answered from the log (replayable), and whether its params may '
        + 'launch a service (mayLaunch). Formats dpns-name, dpns-pattern and dpns-host are the rules of PROTOCOL.md §12 and §5.10.',
    },
    methods,
    components: { schemas: sorted },
  };
}

/** The document as docs/openrpc.json holds it and GET /openrpc.json serves it. */
export function openRpcText(): string {
  return `${JSON.stringify(openRpcDocument(), null, 2)}\n`;
}
