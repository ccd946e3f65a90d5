// How a module's child process is started: Node's permission model with read access to the
// module host's own code only, no write access, no child processes, no worker threads, no
// addons; an empty environment; `/` as its working directory; and, when the name server runs
// as root, another user's uid and gid. The module's own file is not among what the child may
// read: the name server reads it and sends its source over the pipe (child-host.ts).
// Inside the single binary (`pnpm package`) the child is that binary started under the module
// host's name, its code already inside it: it may read no file at all, and Node's flags go in
// NODE_OPTIONS, since a single executable takes every argument as its own.
import { lstatSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, parse as parsePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SpawnOptions } from 'node:child_process';
import { DpnsError } from '@dpns/protocol';
import { COMMAND_NAMES, isSingleExecutable } from '@dpns/node-kit';
import type { ModuleLimits } from './limits.js';
import { lookupUser } from './module-user.js';

/** The child's program, compiled beside this file. */
export const CHILD_ENTRY = fileURLToPath(new URL('./inside/entry.js', import.meta.url));

/** What `spawn` is given for one module child. */
export interface ChildCommand {
  command: string;
  args: string[];
  options: SpawnOptions;
}

/** Environment variables a module's child inherits, when the name server has them; nothing else. */
export const CHILD_ENV_KEYS: readonly string[] = ['TZ'];

let readPaths: string[] | undefined;

/** The command line and options of a module child under `limits`. Throws MODULE_FAILED when the module user does not exist. */
export function childCommand(limits: ModuleLimits): ChildCommand {
  const single = isSingleExecutable();
  readPaths ??= single ? [] : hostCodePaths();
  const flags = [
    '--experimental-permission',
    ...readPaths.map((p) => `--allow-fs-read=${p}`),
    `--max-old-space-size=${limits.moduleMemoryMb}`,
    `--max-semi-space-size=${Math.max(1, Math.floor(limits.maxYoungGenerationMb / 2))}`,
    // The permission model's warning would be logged as the module's output at every start.
    '--disable-warning=ExperimentalWarning',
  ];
  const env: Record<string, string> = {};
  for (const k of CHILD_ENV_KEYS) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  const options: SpawnOptions = {
    cwd: '/',
    env,
    // 0-2: nothing in, the module's stray output out (logged); 3: the framed channel, both ways.
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    windowsHide: true,
  };
  if (single) {
    // No flag has a space in it (read paths are none here), so NODE_OPTIONS needs no quoting.
    env.NODE_OPTIONS = flags.join(' ');
    options.argv0 = COMMAND_NAMES.moduleHost;
  }
  const args = single ? [] : [...flags, CHILD_ENTRY];
  // As root the child would share root's right to read the data directory through any hole in
  // the permission model, and to signal the name server: give it a user of its own.
  if (process.getuid?.() === 0 && limits.user !== '') {
    const user = lookupUser(limits.user);
    if (user === undefined) {
      throw new DpnsError('MODULE_FAILED', `the module user ${limits.user} does not exist on this host; modules run as that user when the name server runs as root`, {
        details: { cause: 'LOAD_FAILED', user: limits.user },
      });
    }
    options.uid = user.uid;
    options.gid = user.gid;
  }
  return { command: process.execPath, args, options };
}

/**
 * Everything the child's program imports, and nothing else: the compiled modules/ and registry/
 * folders of the name server, and each package they import from (found as Node would find it,
 * both where its symlink lies and where it really is, since Node checks both).
 */
function hostCodePaths(): string[] {
  const modulesDir = dirname(fileURLToPath(import.meta.url));
  const paths = new Set<string>([`${modulesDir}/`, `${join(modulesDir, '..', 'registry')}/`]);
  addPackage('@dpns/protocol', modulesDir, paths, new Set());
  return [...paths];
}

function addPackage(name: string, from: string, paths: Set<string>, seen: Set<string>): void {
  if (seen.has(name)) return;
  seen.add(name);
  let main: string;
  try {
    main = createRequire(join(from, 'noop.js')).resolve(name);
  } catch {
    // An import only by ESM conditions: fall back on Node's ESM resolution from the same place.
    main = fileURLToPath(import.meta.resolve(name));
  }
  const root = packageRoot(main);
  paths.add(`${root}/`);
  for (const link of linksTo(name, from)) paths.add(link);
  let deps: Record<string, unknown> = {};
  try {
    deps = ((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, unknown> }).dependencies) ?? {};
  } catch {
    // No readable package.json: no dependencies to add.
  }
  for (const dep of Object.keys(deps)) addPackage(dep, root, paths, seen);
}

/** The folder holding the package.json of the file `file`. */
function packageRoot(file: string): string {
  for (let d = dirname(file); d !== parsePath(d).root; d = dirname(d)) {
    try {
      lstatSync(join(d, 'package.json'));
      return d;
    } catch {
      // Not here: one folder up.
    }
  }
  return dirname(file);
}

/** `node_modules/<name>` in `from` and each folder above it, where it exists (a pnpm symlink, say). */
function linksTo(name: string, from: string): string[] {
  const out: string[] = [];
  for (let d = from; ; d = dirname(d)) {
    const p = join(d, 'node_modules', name);
    try {
      lstatSync(p);
      out.push(p);
    } catch {
      // Not here.
    }
    if (d === parsePath(d).root) return out;
  }
}
