// Structured logs for the dpns daemons: one JSON object per line on stderr, so journald and jq can read them.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

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
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions, base: Record<string, unknown> = {}): Logger {
  const min = RANK[opts.level];
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const emit = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < min) return;
    const rec = { ts: new Date().toISOString(), level, msg, ...base, ...fields };
    if (opts.format === 'json') {
      write(`${JSON.stringify(rec, errorReplacer)}\n`);
    } else {
      const extra = Object.entries({ ...base, ...fields })
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, errorReplacer)}`)
        .join(' ');
      write(`${rec.ts} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ` ${extra}` : ''}\n`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(opts, { ...base, ...fields }),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}
