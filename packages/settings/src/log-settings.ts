// The two settings every dpns daemon has, spelled and defaulted alike: how much it logs, and how.
import type { LogLevel } from '@dpns/node-kit';
import { oneOf } from './kinds.js';
import { setting } from './table.js';

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const satisfies readonly LogLevel[];

/** logLevel and logFormat, under `group`. */
export function logSettings(group: string) {
  return {
    logLevel: setting({ kind: oneOf<LogLevel>(LOG_LEVELS), default: 'info', group, help: 'the least severe log lines written to stderr' }),
    logFormat: setting({ kind: oneOf(['json', 'text'] as const), default: 'json', group, help: 'json: one object a line, for journald and jq; text: for a terminal' }),
  };
}
