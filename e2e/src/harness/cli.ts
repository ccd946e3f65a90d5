// Runs the REAL `dpns` command line as a child process: one-shot (`runCli`) or
// long-running (`spawnCli`, for `dpns watch`).
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI_BIN } from './paths.js';
import { killChild, trackChild } from './children.js';
import { LineLog } from './lines.js';

export interface CliOptions {
  /** Extra environment; DPNS_* variables of the test process are NOT inherited. */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Kill the command (SIGKILL) after this long; default 20 s. */
  timeoutMs?: number;
}

export interface CliResult {
  /** Exit code; null when it was killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A `dpns` command still running. */
export interface CliProcess {
  readonly proc: ChildProcess;
  readonly stdout: LineLog;
  readonly stderr: LineLog;
  /** Resolves when it exits, with everything it printed. */
  readonly done: Promise<CliResult>;
  /** Sends `signal` and resolves with the result once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
}

function cliEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DPNS_')) env[k] = v;
  return { ...env, ...extra };
}

/** Starts `node packages/client/bin/dpns.js ...args`. */
export function spawnCli(args: string[], opts: CliOptions = {}): CliProcess {
  const proc = spawn(process.execPath, [CLI_BIN, ...args], {
    env: cliEnv(opts.env),
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const exited = trackChild(proc);
  if (opts.input !== undefined && proc.stdin !== null) {
    proc.stdin.on('error', () => { /* the command may exit without reading stdin */ });
    proc.stdin.end(opts.input);
  }
  const stdout = new LineLog(proc.stdout, 'dpns stdout');
  const stderr = new LineLog(proc.stderr, 'dpns stderr');
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const done = exited.then((e): CliResult => {
    clearTimeout(timer);
    return { code: e.code, signal: e.signal, stdout: joined(stdout), stderr: joined(stderr) };
  });
  return {
    proc,
    stdout,
    stderr,
    done,
    stop: async (signal = 'SIGINT') => {
      await killChild(proc, signal);
      return done;
    },
  };
}

/** Runs `dpns ...args` to completion. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, opts).done;
}

function joined(log: LineLog): string {
  const t = log.text();
  return t === '' ? '' : `${t}\n`;
}
