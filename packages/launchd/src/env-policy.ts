// Which environment variables a launch may set. The allowlist says which program runs; these
// variables decide which *other* code that program loads (a preloaded library, a module required
// before main, an interpreter's search path, a shell's start-up file), so a spec that could set
// them would run code the allowlist never named. They are refused unless the program's allowlist
// entry permits them by name. The check runs in the agent, the trust boundary, before anything
// is spawned: a name server (or whoever holds its key) is not trusted to pick them.
import { AgentError } from './wire.js';

/**
 * Exact names. Each one makes a loader, interpreter or shell read or run code or configuration
 * from where the variable says:
 * - PATH: where `#!/usr/bin/env node` and every exec by name look (the agent gives a fixed one);
 * - NODE_OPTIONS (`--require`, `--import`), NODE_PATH, NODE_REPL_EXTERNAL_MODULE: Node.js;
 * - PERLLIB: Perl's module path (PERL5* is a prefix below);
 * - RUBYOPT, RUBYLIB: covered by the RUBY prefix, listed for the reader;
 * - JAVA_TOOL_OPTIONS, _JAVA_OPTIONS, JDK_JAVA_OPTIONS (`-javaagent:`), CLASSPATH: the JVM;
 * - BASH_ENV, ENV: a file every non-interactive bash / POSIX sh sources first; SHELLOPTS,
 *   BASHOPTS, PS4 (expanded with `set -x`, can run commands), IFS (word splitting): shells;
 * - GCONV_PATH, LOCPATH, NLSPATH, GLIBC_TUNABLES (CVE-2023-4911), HOSTALIASES, RESOLV_HOST_CONF,
 *   RES_OPTIONS, LOCALDOMAIN: glibc, which ignores them for set-uid programs for the same reason;
 * - TK_LIBRARY: Tk's scripts (TCL* is a prefix below);
 * - PHPRC, PHP_INI_SCAN_DIR: a php.ini can `auto_prepend_file` any script;
 * - DOTNET_STARTUP_HOOKS: .NET loads the named assemblies before main.
 */
const REFUSED_NAMES: ReadonlySet<string> = new Set([
  'PATH', 'NODE_OPTIONS', 'NODE_PATH', 'NODE_REPL_EXTERNAL_MODULE', 'PERLLIB', 'RUBYOPT', 'RUBYLIB',
  'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH',
  'BASH_ENV', 'ENV', 'IFS', 'SHELLOPTS', 'BASHOPTS', 'PS4',
  'GCONV_PATH', 'LOCPATH', 'NLSPATH', 'GLIBC_TUNABLES', 'HOSTALIASES', 'RESOLV_HOST_CONF', 'RES_OPTIONS', 'LOCALDOMAIN',
  'TK_LIBRARY', 'PHPRC', 'PHP_INI_SCAN_DIR', 'DOTNET_STARTUP_HOOKS',
]);

/**
 * Prefixes: whole families of such variables, where listing members would miss the next one.
 * LD_ (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT) and DYLD_: the dynamic loader; MALLOC_: glibc's
 * allocator hooks and traces; PYTHON (PYTHONPATH, PYTHONSTARTUP, PYTHONHOME...), PERL5 (PERL5LIB,
 * PERL5OPT, PERL5DB), RUBY, TCL, LUA_ (LUA_INIT runs code), GEM_, BUNDLE_: interpreters and their
 * package managers; BASH_FUNC_: functions bash imports from the environment; CORECLR_: .NET
 * profilers loaded into the process.
 */
const REFUSED_PREFIXES: readonly string[] = [
  'LD_', 'DYLD_', 'MALLOC_', 'PYTHON', 'PERL5', 'RUBY', 'TCL', 'LUA_', 'GEM_', 'BUNDLE_', 'BASH_FUNC_', 'CORECLR_',
];

/**
 * Whether `name` is a loader or interpreter variable. Names are compared exactly: the loader and
 * the shells read these exact names, and `path` is not `PATH` to any of them.
 */
export function isLoaderVariable(name: string): boolean {
  return REFUSED_NAMES.has(name) || REFUSED_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * Refuses (NOT_ALLOWED, naming the variables) a launch whose `env` sets a loader or interpreter
 * variable that `permitted` (the program's allowlist entry) does not name.
 */
export function checkLaunchEnv(env: Readonly<Record<string, string>>, permitted: ReadonlySet<string>, program: string): void {
  const refused = Object.keys(env).filter((name) => isLoaderVariable(name) && !permitted.has(name));
  if (refused.length === 0) return;
  const names = refused.map((n) => JSON.stringify(n)).join(', ');
  const first = refused[0] as string;
  throw new AgentError(
    'NOT_ALLOWED',
    `the launch sets the environment variable${refused.length > 1 ? 's' : ''} ${names}, which make${refused.length > 1 ? '' : 's'} a loader or interpreter run code the allowlist does not name; ` +
    `drop ${refused.length > 1 ? 'them' : 'it'} from the spec's env, or permit ${refused.length > 1 ? 'them' : 'it'} for ${program} in this agent's allowlist ` +
    `({"NAME": {"path": "${program}", "env": ["${first}"]}}, or --allow-env NAME=${first})`,
  );
}
