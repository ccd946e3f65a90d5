// The admin credential for the command line: --token-file, DPNS_TOKEN_FILE or DPNS_TOKEN, and the
// deprecated --token, which still works (scripts keep running) but warns: a command line is
// readable by every user of the host (ps, /proc/PID/cmdline), a file of mode 0600 or the
// environment (/proc/PID/environ, owner only) is not. Precedence: --token, --token-file,
// DPNS_TOKEN, DPNS_TOKEN_FILE. Read only by commands that need it, so a stale variable cannot
// break `list`.
import { readFileSync } from 'node:fs';
import { UsageError } from './usage-error.js';

export interface TokenSources {
  token?: string | undefined;
  tokenFile?: string | undefined;
  env: NodeJS.ProcessEnv;
}

/** The token, or undefined when none is configured; bad usage when a named file cannot be read. */
export function resolveToken(s: TokenSources): string | undefined {
  if (s.token !== undefined) return nonEmpty(s.token, '--token');
  if (s.tokenFile !== undefined) return readToken(s.tokenFile, '--token-file');
  const envToken = s.env.DPNS_TOKEN;
  if (envToken !== undefined && envToken !== '') return envToken.trim();
  const envFile = s.env.DPNS_TOKEN_FILE;
  if (envFile !== undefined && envFile !== '') return readToken(envFile, 'DPNS_TOKEN_FILE');
  return undefined;
}

/** The warning printed when --token is used (never an advice to use it). */
export const TOKEN_FLAG_WARNING =
  'warning: --token puts the admin token on the command line, where every user of this host can read it (ps, /proc/PID/cmdline); ' +
  'use --token-file FILE (mode 0600), DPNS_TOKEN_FILE or DPNS_TOKEN instead';

function readToken(path: string, from: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(`cannot read the token file ${path} (${from}): ${code}`);
  }
  return nonEmpty(text, `the token file ${path}`);
}

function nonEmpty(token: string, from: string): string {
  const t = token.trim();
  if (t === '') throw new UsageError(`${from} is empty`);
  return t;
}
