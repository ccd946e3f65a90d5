// Which programs the agent will run. A request names a short name from the allow map or an
// absolute path; either way what is compared is the real path (every symlink and ".." resolved)
// against the real paths of the allowed entries, so no spelling of a path reaches `rm`.
import { constants, promises as fs } from 'node:fs';
import { isAbsolute } from 'node:path';
import { AgentError } from './wire.js';

/**
 * One allowed program: an absolute path, optionally reachable by a short name, and the loader or
 * interpreter variables (env-policy.ts) a launch of it may set.
 */
export interface AllowEntry {
  name?: string;
  path: string;
  env?: readonly string[];
}

/** A program a launch may run: its real path, and the loader variables its entries permit. */
export interface AllowedProgram {
  path: string;
  env: ReadonlySet<string>;
}

export class Allowlist {
  private readonly byName = new Map<string, AllowEntry>();

  constructor(readonly entries: readonly AllowEntry[]) {
    for (const e of entries) if (e.name !== undefined) this.byName.set(e.name, e);
  }

  /**
   * The real path to execute for `program`, or an AgentError: NOT_ALLOWED (not on the list, by
   * any spelling), NOT_FOUND (on the list but missing), NOT_EXECUTABLE.
   */
  async resolve(program: string): Promise<string> {
    return (await this.resolveProgram(program)).path;
  }

  /**
   * As `resolve`, with the variables permitted for the program: those of every entry whose real
   * path it is, since the permission is for the program, whichever spelling reached it.
   */
  async resolveProgram(program: string): Promise<AllowedProgram> {
    const quoted = JSON.stringify(program);
    let requested: string;
    let candidates: readonly AllowEntry[];
    if (!program.includes('/')) {
      // Never a PATH search: a bare name means the allow map's entry, or nothing.
      const entry = this.byName.get(program);
      if (entry === undefined) {
        throw new AgentError('NOT_ALLOWED', `program ${quoted} is not a short name in this agent's allow map (names are not looked up in PATH); add it to "allow" in the agent's config`);
      }
      requested = entry.path;
      candidates = [entry];
    } else if (!isAbsolute(program)) {
      throw new AgentError('NOT_ALLOWED', `program ${quoted} is a relative path; give an absolute path or a short name from the agent's allow map`);
    } else if (program.split('/').some((seg) => seg === '.' || seg === '..')) {
      throw new AgentError('NOT_ALLOWED', `program ${quoted} has a "." or ".." part; give the allowed absolute path itself`);
    } else {
      requested = program;
      candidates = this.entries;
    }

    const real = await realpathOrUndefined(requested);
    if (real === undefined) {
      // Only a listed path is worth a precise "missing"; anything else stays NOT_ALLOWED so the
      // agent does not answer questions about which files exist on its host.
      if (candidates.some((e) => e.path === requested)) {
        throw new AgentError('NOT_FOUND', `program ${JSON.stringify(requested)} is in this agent's allowlist but does not exist on this host; install it or fix the path in the agent's config`);
      }
      throw new AgentError('NOT_ALLOWED', `program ${quoted} is not in this agent's allowlist`);
    }
    const allowedReals = await Promise.all(candidates.map((e) => realpathOrUndefined(e.path)));
    if (!allowedReals.includes(real)) {
      const via = real === requested ? '' : ` (it resolves to ${JSON.stringify(real)})`;
      throw new AgentError('NOT_ALLOWED', `program ${quoted}${via} is not in this agent's allowlist; add its real path to "allow" in the agent's config`);
    }
    await assertExecutable(real, quoted);
    const reals = candidates === this.entries ? allowedReals : await Promise.all(this.entries.map((e) => realpathOrUndefined(e.path)));
    const env = new Set(this.entries.flatMap((e, i) => (reals[i] === real ? e.env ?? [] : [])));
    return { path: real, env };
  }
}

async function realpathOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await fs.realpath(path);
  } catch {
    // ENOENT, ENOTDIR, ELOOP, EACCES: none of them resolves to a file we may run.
    return undefined;
  }
}

async function assertExecutable(real: string, quoted: string): Promise<void> {
  const st = await fs.stat(real);
  if (!st.isFile()) {
    throw new AgentError('NOT_EXECUTABLE', `program ${quoted} resolves to ${JSON.stringify(real)}, which is not a regular file`);
  }
  try {
    await fs.access(real, constants.X_OK);
  } catch {
    throw new AgentError('NOT_EXECUTABLE', `program ${quoted} (${JSON.stringify(real)}) is not executable (mode ${(st.mode & 0o777).toString(8)}); chmod +x it on this host`);
  }
}
