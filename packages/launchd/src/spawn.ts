// Starting a service process so that it outlives the agent and the connection (the paper's
// reason for inetd over rsh): its own session and process group, no pipe back to the agent
// except stdin (which carries the ticket line and is then closed), output appended to a log
// file it holds itself, and no exit hook in the agent that would take it down.
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { RunAs } from './run-as.js';
import { AgentError } from './wire.js';

export interface SpawnSpec {
  service: string;
  /** The real path, already allowed. */
  program: string;
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  cwd: string;
  runAs: RunAs;
  servers: readonly string[];
  /** The host the name server dialed this agent at (the request's `target`): DPNS_HOST, so a service launched on one of several hosts can advertise this one. */
  host: string;
  /** The decrypted ticket line, without its newline. */
  ticketLine: string;
  logsDir: string;
}

/** How a spawned process ended. */
export interface ExitInfo {
  exitCode?: number;
  signal?: string;
}

export interface Spawned {
  pid: number;
  logPath: string;
  /** Settles when the process exits, while this agent still runs. */
  exited: Promise<ExitInfo>;
  /** The exit, once it has happened. */
  exitInfo(): ExitInfo | undefined;
}

/** The log file of a service: its name with "/" as "_", e.g. /demo/echo → _demo_echo.log. */
export function logFileName(service: string): string {
  return `${service.replaceAll('/', '_')}.log`;
}

/**
 * The child's environment: a minimal safe base, then the spec's, then what dpns tells it. Nothing
 * else of the agent's own environment (extendEnv: false) reaches the child but LANG: the agent's
 * unit may carry settings and credentials its services must not see. The spec's env has already
 * passed the environment policy (env-policy.ts), so it cannot replace PATH or add LD_PRELOAD.
 */
export function childEnv(spec: Pick<SpawnSpec, 'env' | 'runAs' | 'service' | 'servers' | 'host'>): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: spec.runAs.home,
    LANG: process.env.LANG ?? 'C.UTF-8',
    USER: spec.runAs.name,
    LOGNAME: spec.runAs.name,
    ...spec.env,
    DPNS_SERVICE: spec.service,
    DPNS_SERVERS: spec.servers.join(','),
    DPNS_HOST: spec.host,
  };
}

export async function spawnDetached(spec: SpawnSpec): Promise<Spawned> {
  await mkdir(spec.logsDir, { recursive: true, mode: 0o750 });
  const logPath = join(spec.logsDir, logFileName(spec.service));
  // The child gets the file itself, not a pipe to us: when the agent exits there is no reader to
  // lose, so no SIGPIPE and no blocked write in the service.
  const log = await open(logPath, 'a', 0o640);
  // execa's types list only descriptors up to 9, but it hands any descriptor number to
  // child_process.spawn unchanged (lib/stdio/native.js), which dup2()s it onto the child's 1 and 2.
  const logFd = log.fd as 3;
  let child;
  try {
    child = execa(spec.program, [...spec.args], {
      cwd: spec.cwd,
      env: childEnv(spec),
      extendEnv: false,
      detached: true,
      // execa would otherwise kill the child when the agent exits.
      cleanup: false,
      reject: false,
      buffer: false,
      stdin: 'pipe',
      stdout: logFd,
      stderr: logFd,
      ...(spec.runAs.uid === undefined ? {} : { uid: spec.runAs.uid, gid: spec.runAs.gid }),
    });
  } finally {
    // The child holds its own copy of the descriptor from here on.
    await log.close();
  }

  if (child.pid === undefined) {
    const result = await child;
    throw spawnFailure(spec, result.code, result.originalMessage ?? result.message ?? 'unknown error');
  }
  const pid = child.pid;
  let exit: ExitInfo | undefined;
  const exited = child.then(
    (r): ExitInfo => (exit = r.signal === undefined ? { exitCode: r.exitCode ?? -1 } : { signal: r.signal }),
    // With reject: false execa does not reject; this only keeps an internal failure from going unhandled.
    (): ExitInfo => (exit = { exitCode: -1 }),
  );
  // A child that exits without reading its stdin makes this write fail with EPIPE; its exit tells the story.
  child.stdin.on('error', () => undefined);
  child.stdin.end(`${spec.ticketLine}\n`);
  // Nothing of the child keeps the agent's event loop alive: the agent may stop while it runs.
  child.unref();
  return { pid, logPath, exited, exitInfo: () => exit };
}

function spawnFailure(spec: SpawnSpec, code: string | undefined, osMessage: string): AgentError {
  const as = spec.runAs.uid === undefined ? '' : ` as ${spec.runAs.name}`;
  const hint =
    code === 'ENOENT' ? ': no such file (is the interpreter named on its #! line installed?)'
    : code === 'EACCES' ? `: permission denied (can ${spec.runAs.name} read and execute it, and enter its directories and ${spec.cwd}?)`
    : code === 'ENOEXEC' ? ': not a format the kernel can run (a script needs a #! line)'
    : code === 'EPERM' ? ': operation not permitted (switching users needs the agent to run as root)'
    : '';
  return new AgentError('SPAWN_FAILED', `the OS could not start ${spec.program}${as}: ${osMessage}${hint}`);
}
