// The admin credential for the command line: --token, --token-file, DPNS_TOKEN, DPNS_TOKEN_FILE,
// in that order. Read only by commands that need it, so a stale variable cannot break `list`.
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
