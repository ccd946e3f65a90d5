// Structured logs for the dpns daemons on pino: one JSON object a line on stderr (`ts`, `level`,
// `msg` and the call's fields), for journald and jq, or a text line for a terminal. Secrets are
// redacted by pino's path configuration before a line is written, whatever the format: the code
// is not meant to log any, and this is the net under it.
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  format: 'json' | 'text';
  /** Where each line goes (tests); stderr by default, written synchronously. */
  write?: (line: string) => void;
}

/** What a redacted value reads as. */
export const LOG_REDACTED = '[redacted]';

/**
 * Fields whose values never reach a log line, at the top of a call's fields or one or two
 * objects down (`{ spec: { env } }`, `{ params: { spec: { env } } }`): the admin token and login
 * proofs, tickets and ticket pairs, join-token secrets, private keys and seeds, and a launch
 * spec's environment values and arguments (where passwords go). docs/SECURITY.md lists them.
 */
const SECRET_KEYS = [
  'token', 'adminToken', 'proof', 'secret', 'password', 'ticket', 'nameserverTicket', 'clientTicket', 'serviceTicket',
  'joinToken', 'seed', 'privateKey', 'secretKey', 'clusterKey', 'boxKey', 'sealed',
];
const SPEC_KEYS = ['env.*', 'args'];
export const REDACTED_LOG_PATHS: readonly string[] = [
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
  ...SPEC_KEYS.flatMap((k) => [`spec.${k}`, `*.spec.${k}`, `*.*.spec.${k}`]),
];

export function createLogger(opts: LoggerOptions, base: Record<string, unknown> = {}): Logger {
  const write = opts.write ?? stderrWriter();
  const destination: DestinationStream = { write: opts.format === 'json' ? write : (line: string) => write(textLine(line)) };
  const root = pino({
    level: opts.level,
    base: null,
    messageKey: 'msg',
    timestamp: () => `,"ts":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: [...REDACTED_LOG_PATHS], censor: LOG_REDACTED },
  }, destination);
  return wrap(Object.keys(base).length === 0 ? root : root.child(errorsAsFields(base)));
}

function wrap(p: PinoLogger): Logger {
  return {
    debug: (m, f) => p.debug(errorsAsFields(f), m),
    info: (m, f) => p.info(errorsAsFields(f), m),
    warn: (m, f) => p.warn(errorsAsFields(f), m),
    error: (m, f) => p.error(errorsAsFields(f), m),
    child: (fields) => wrap(p.child(errorsAsFields(fields))),
  };
}

/** Stderr, written synchronously: the last lines before a crash or exit are the ones that matter. */
function stderrWriter(): (line: string) => void {
  const dest = pino.destination({ fd: 2, sync: true });
  return (line) => dest.write(line);
}

/** An Error under any top-level key logs its name, message and stack (JSON would drop them). */
function errorsAsFields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (fields === undefined) return {};
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) (out ??= { ...fields })[k] = errorFields(v);
  }
  return out ?? fields;
}

function errorFields(v: unknown): unknown {
  return v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v;
}

/** `ts LEVEL msg key=value …` from pino's JSON line (already redacted). */
function textLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { ts, level, msg, ...fields } = rec;
  const extra = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  return `${String(ts)} ${String(level).toUpperCase().padEnd(5)} ${String(msg)}${extra ? ` ${extra}` : ''}\n`;
}
