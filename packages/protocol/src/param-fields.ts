// The fields that method params are built of. Each is a JSON Schema (the compiled check on the
// request path, the types, docs/openrpc.json) carrying the hand-written check that says, in the
// words PROTOCOL.md quotes, what is wrong with a value the schema refused. The two must refuse
// the same values: param-fields.test.ts holds them to it.
import type { TArray, TObject, TOptional, TProperties, TRecord, TSchema, TString } from '@sinclair/typebox';
import { CHECK_KINDS, CHECK_LIMITS, RESTART_POLICIES, oneOf } from './entries.js';
import { DpnsError } from './errors.js';
import { compileGlob } from './glob.js';
import { prefixRuleProblem, MODULE_PREFIX_RULE } from './modules.js';
import { assertName, nameProblem } from './names.js';
import { FormatRegistry, Type } from './typebox.js';
import { HOSTS_LIMITS } from './host-patterns.js';
import { bad, bool, healthCheckValue, host, int, isHost, isHostEntry, object, onlyKeys, port, SPEC_LIMITS, specField, str, type Obj } from './validate.js';

/** Throws the DpnsError that says what is wrong with `o[key]` (named `${field}.${key}`), if anything. */
export type FieldCheck = (o: Obj, key: string, field: string) => unknown;

const CHECK = Symbol('dpns.fieldCheck');
declare const DEFAULTED: unique symbol;

/** Marks, for the types, a member that may be left out and then takes the schema's `default`. */
export interface DefaultMark { readonly [DEFAULTED]: true }
export type TDefaulted<T extends TSchema> = TOptional<T> & DefaultMark;

function withCheck<T extends TSchema>(schema: T, check: FieldCheck): T {
  Object.defineProperty(schema, CHECK, { value: check, enumerable: true });
  return schema;
}

/** The check a field schema carries; an object field's is the walk of its own fields. */
export function checkOf(schema: TSchema): FieldCheck {
  const c = (schema as { [CHECK]?: FieldCheck })[CHECK];
  if (c !== undefined) return c;
  if (schema.type === 'object' && schema.properties !== undefined) return (o, key, field) => explainObject(schema as TObject, o[key], `${field}.${key}`);
  throw new Error(`a param field without a check: ${JSON.stringify(schema)}`);
}

const ORDER = Symbol('dpns.checkOrder');
const NULL_IS_ABSENT = Symbol('dpns.nullIsAbsent');

/** A check of a whole object, for what spans members. */
export type ObjectCheck = (o: Obj, field: string) => void;

interface ObjectChecks {
  [ORDER]?: readonly (string | ObjectCheck)[];
}

/**
 * The first problem of `raw` against `schema`, thrown in today's words: not an object, then an
 * unknown member, then each member (and check of the whole) in check order. Returns when it
 * finds none.
 */
export function explainObject(schema: TObject, raw: unknown, field: string): void {
  const o = object(raw, field);
  const keys = Object.keys(schema.properties);
  onlyKeys(o, keys, field);
  const required = schema.required ?? [];
  for (const k of (schema as TObject & ObjectChecks)[ORDER] ?? keys) {
    if (typeof k === 'function') {
      k(o, field);
      continue;
    }
    if (o[k] === undefined && !required.includes(k)) continue;
    checkOf(schema.properties[k] as TSchema)(o, k, field);
  }
}

/**
 * Params: named members, none but these. `checkOrder` is the order a refused value's members are
 * looked at, when it is not the members' own (which the "allowed:" list of an unknown member
 * follows), with the checks of the whole object where they come; a value the schema admits still
 * needs those checks from the method's `finish`.
 */
export function members<P extends TProperties>(
  props: P, options: { description?: string; checkOrder?: readonly ((keyof P & string) | ObjectCheck)[] } = {},
): TObject<P> {
  const { checkOrder, ...rest } = options;
  const schema = Type.Object(props, { ...rest, additionalProperties: false }) as TObject<P> & ObjectChecks;
  if (checkOrder !== undefined) Object.defineProperty(schema, ORDER, { value: checkOrder, enumerable: true });
  return schema;
}

/** `schema`, where a null member means the member is left out (as it has long meant for these). */
export function nullIsAbsent<T extends TSchema>(schema: T): T {
  Object.defineProperty(schema, NULL_IS_ABSENT, { value: true, enumerable: true });
  return schema;
}

/** The members of `schema` where null means left out. */
export function nullAbsentKeys(schema: TObject): string[] {
  return Object.entries(schema.properties).filter(([, s]) => (s as { [NULL_IS_ABSENT]?: true })[NULL_IS_ABSENT] === true).map(([k]) => k);
}

/** `schema`, optional, with `value` when left out. */
export function withDefault<T extends TSchema>(schema: T, value: unknown): TDefaulted<T> {
  return Type.Optional({ ...schema, default: value } as T) as TDefaulted<T>;
}

const NO_NUL = '^[^\\u0000]*$';

/** A `description` keyword, when there is one. */
function doc(description: string | undefined): { description?: string } {
  return description === undefined ? {} : { description };
}

// Formats are the rules a JSON Schema keyword cannot say; docs/openrpc.json names them and
// PROTOCOL.md states them (§12 names and patterns, §5.10 hosts).
FormatRegistry.Set('dpns-name', (v) => nameProblem(v) === undefined);
FormatRegistry.Set('dpns-pattern', (v) => patternProblem(v, 'pattern') === undefined);
FormatRegistry.Set('dpns-host', isHost);
FormatRegistry.Set('dpns-host-pattern', isHostEntry);

function patternProblem(v: unknown, where: string): DpnsError | undefined {
  try {
    // A pattern without wildcards is a name, and is held to the name rules.
    const glob = compileGlob(v, where);
    if (glob.isLiteral) assertName(glob.literalPrefix, where);
    return undefined;
  } catch (e) {
    return e as DpnsError;
  }
}

/** A service name (PROTOCOL.md §12.1); INVALID_NAME. */
export function name(description?: string): TString {
  return withCheck(Type.String({ format: 'dpns-name', ...doc(description) }), (o, key, field) => assertName(o[key], `${field}.${key}`));
}

/** A pattern (PROTOCOL.md §12.2); INVALID_PATTERN, or INVALID_NAME for one without wildcards. */
export function pattern(description: string): TString {
  return withCheck(Type.String({ format: 'dpns-pattern', description }), (o, key, field) => {
    const problem = patternProblem(o[key], `${field}.${key}`);
    if (problem !== undefined) throw problem;
  });
}

/** Exactly `digits` lowercase hex digits. */
export function hex(digits: number, description?: string): TString {
  return withCheck(Type.String({ pattern: `^[0-9a-f]{${digits}}$`, ...doc(description) }), (o, key, field) => {
    const v = o[key];
    if (typeof v !== 'string' || v.length !== digits || !/^[0-9a-f]+$/.test(v)) throw bad(`${field}.${key}`, `${digits} lowercase hex digits`, v);
  });
}

/** A non-empty string without NUL, at most `max` characters. */
export function text(max = 4096, description?: string): TString {
  return withCheck(Type.String({ minLength: 1, maxLength: max, pattern: NO_NUL, ...doc(description) }), (o, key, field) => str(o, key, field, { max }));
}

/** True or false. */
export function flag(description?: string) {
  return withCheck(Type.Boolean(doc(description)), (o, key, field) => bool(o, key, field, false));
}

/** An integer in [min, max]; `expected` replaces today's "an integer from min to max" where it says more. */
export function integer(min: number, max: number, description?: string, expected?: string) {
  return withCheck(Type.Integer({ minimum: min, maximum: max, ...doc(description) }), (o, key, field) => {
    if (expected === undefined) return int(o, key, field, min, max);
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(`${field}.${key}`, expected, v);
    return v;
  });
}

/** A finite number >= 0. */
export function nonNegative(description: string) {
  return withCheck(Type.Number({ minimum: 0, description }), (o, key, field) => {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw bad(`${field}.${key}`, 'a finite number >= 0', v);
  });
}

/** A host name or an IPv4/IPv6 literal (PROTOCOL.md §5.10). */
export function hostName(description?: string): TString {
  return withCheck(Type.String({ format: 'dpns-host', minLength: 1, maxLength: 253, ...doc(description) }), (o, key, field) => host(o, key, field));
}

/** A TCP port. */
export function tcpPort() {
  return withCheck(Type.Integer({ minimum: 1, maximum: 65535 }), (o, key, field) => port(o, key, field));
}

/** An absolute path on the name server's host. */
export function absolutePath(description: string): TString {
  return withCheck(Type.String({ minLength: 1, maxLength: 4096, pattern: '^/[^\\u0000]*$', description }), (o, key, field) => {
    const v = str(o, key, field);
    if (!v.startsWith('/')) throw bad(`${field}.${key}`, 'an absolute path (the CLI makes a relative one absolute)', v);
  });
}

/** A module prefix by its rule alone: a reserved one is well-formed here (the server answers NOT_FOUND). */
export function modulePrefix(description: string): TString {
  return withCheck(Type.String({ pattern: `^${MODULE_PREFIX_RULE}$`, description }), (o, key, field) => {
    const problem = prefixRuleProblem(o[key]);
    if (problem !== undefined) throw new DpnsError('INVALID_PARAMS', `${field}.${key}: ${problem}`, { details: { field: `${field}.${key}` } });
  });
}

/** An array of the values of `values`. */
export function listOf<const V extends readonly string[]>(values: V, expected: string, description: string) {
  return withCheck(Type.Array(oneOf(values), { description }), (o, key, field) => {
    const v = o[key];
    if (!Array.isArray(v) || !v.every((u) => values.includes(u as string))) throw bad(`${field}.${key}`, expected, v);
  });
}

/**
 * A health check (PROTOCOL.md §7.6): its members' bounds in the schema; the rules across members
 * (checkRuleProblem) are the walk's, and the method's `finish` makes them too.
 */
export function healthCheck(description: string) {
  const { intervalMs, timeoutMs, threshold } = CHECK_LIMITS;
  const bounded = (b: { min: number; max: number; dflt: number }, d: string) => withDefault(Type.Integer({ minimum: b.min, maximum: b.max, description: d }), b.dflt);
  return withCheck(Type.Object({
    kind: oneOf(CHECK_KINDS, { description: 'tcp: a connection is accepted; http: GET `path` answers 2xx or 3xx (redirects are not followed).' }),
    path: Type.Optional(Type.String({ maxLength: CHECK_LIMITS.path, pattern: '^/[!-~]*$', description: 'The HTTP path (kind http only), e.g. /healthz.' })),
    intervalMs: bounded(intervalMs, 'Milliseconds between the starts of two probes.'),
    timeoutMs: bounded(timeoutMs, 'How long one probe may take; less than intervalMs.'),
    threshold: bounded(threshold, 'Failed probes in a row that make the service unhealthy.'),
  }, { additionalProperties: false, description }), (o, key, field) => healthCheckValue(o[key], `${field}.${key}`));
}

// A launch spec's fields, for `register.add` (whole) and `register.edit` (some). The checks are
// specField's, which the launch agent's wire (agent.ts) shares.
const specCheck: FieldCheck = (o, key, field) => specField(o, key as Parameters<typeof specField>[1], field);
const specString = (schema: TString): TString => withCheck(schema, specCheck);

/** The fields of a launch spec as a request gives them. */
export function launchSpecFields() {
  const { args, env, value, startTimeoutMs, idleStopMs } = SPEC_LIMITS;
  const arg: TString = Type.String({ maxLength: value, pattern: NO_NUL });
  return {
    host: specString(Type.String({ format: 'dpns-host', minLength: 1, maxLength: 253, description: 'The host whose launch agent starts the program.' })),
    hosts: withCheck(Type.Array(Type.String({ format: 'dpns-host-pattern', minLength: 1, maxLength: HOSTS_LIMITS.length }), {
      minItems: 1, maxItems: HOSTS_LIMITS.count, uniqueItems: true,
      description: 'Instead of host: host names and patterns (* any run of characters, ? one); each launch picks the least loaded reachable host with a trusted agent among them (PROTOCOL.md §10.6).',
    }) as TArray<TString>, specCheck),
    program: specString(Type.String({ minLength: 1, maxLength: 4096, pattern: NO_NUL, description: 'An absolute path, or a name the agent\'s allowlist maps to one.' })),
    args: withCheck(Type.Array(arg, { maxItems: args }) as TArray<TString>, specCheck),
    env: withCheck(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,255}$' }), arg, { maxProperties: env, additionalProperties: false }) as TRecord<TString, TString>, specCheck),
    cwd: specString(Type.String({ minLength: 1, maxLength: 4096, pattern: '^/[^\\u0000]*$', description: 'Absolute working directory; the agent\'s default when absent.' })),
    user: specString(Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z_][a-z0-9_-]{0,31}\\$?$', description: 'The user to run as when the agent runs as root.' })),
    startTimeoutMs: withCheck(Type.Integer({ minimum: startTimeoutMs.min, maximum: startTimeoutMs.max, description: 'How long the service has to advertise itself after it is spawned.' }), specCheck),
    restart: withCheck(oneOf(RESTART_POLICIES, { description: 'on-failure: relaunched, with back-off, when its process dies or a relaunch fails.' }), specCheck),
    check: healthCheck('Probes the address the launched service advertises; with restart on-failure, an unhealthy service is killed and launched again.'),
    idleStopMs: withCheck(Type.Integer({
      minimum: idleStopMs.min, maximum: idleStopMs.max,
      description: 'Scale to zero: stopped after this many milliseconds without a find, DNS answer, launchService or authenticateService while its load is 0 or unreported; the next lookup launches it (PROTOCOL.md §7.7).',
    }), specCheck),
  };
}
