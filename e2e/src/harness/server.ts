// Starts the REAL name server binary as a child process, the way an operator would, and
// waits for it to say where it listens. Every instance is tracked and killed at teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { NAMESERVER_BIN } from './paths.js';
import { killChild, trackChild, type ExitInfo } from './children.js';
import { LineLog, type LineMatcher } from './lines.js';
import { makeTempDir } from './tmp.js';

export interface StartServerOptions {
  /** Data directory; a fresh temporary one when omitted. */
  dataDir?: string;
  /** Port to listen on, 0 (the default) for any free one; a restart passes the old port. */
  port?: number;
  /** Extra command-line arguments, e.g. `['--client-heartbeat-ms', '200']`. */
  args?: string[];
  /** Extra environment variables (the rest is inherited). */
  env?: Record<string, string>;
  /** How long to wait for the "listening" line. */
  startTimeoutMs?: number;
  /** Address to listen on; 127.0.0.1 by default, a test host's address inside a namespace. */
  listenHost?: string;
  /** A command prefix to run the server under, e.g. `ip netns exec HOST` (see netns.ts). */
  wrap?: string[];
  /** Another build's dpns-nameserver.js (the benchmark's --baseline); this checkout's by default. */
  bin?: string;
}

/** A running name server process. */
export interface ServerProcess {
  /** `ws://127.0.0.1:PORT` as the server announced it. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:PORT`: what `--server` and `DpnsClient({servers})` take. */
  readonly server: string;
  readonly dataDir: string;
  /** The admin credential file, as the server announced it. */
  readonly tokenPath: string;
  /** The admin credential, read from `tokenPath` and trimmed. */
  readonly token: string;
  /** The public key launch agents must trust, as the server announced it. */
  readonly publicKey: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly stdout: LineLog;
  readonly stderr: LineLog;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** Sends `signal` (default SIGKILL) and resolves once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  stop(): Promise<void>;
  /** Kills this process if still alive (SIGKILL) and starts a new one on the same port and data dir. */
  restart(opts?: { args?: string[]; env?: Record<string, string> }): Promise<ServerProcess>;
  /** Waits for a stdout line (already printed or still to come). */
  waitForStdout(match: LineMatcher, timeoutMs?: number): Promise<string>;
  stdoutLines(): string[];
  stderrLines(): string[];
}

const LISTENING = /^dpns-nameserver \S+ listening on (ws:\/\/(\S+):(\d+))\s*$/;
const TOKEN = /^admin token: (.+?)(?: \(created now[^)]*\))?\s*$/;
const KEY = /^nameserver key: ([0-9a-f]{64})/;

/** Spawns `dpns-nameserver --listen 127.0.0.1:PORT --data-dir DIR ...args` and waits until it listens. */
export async function startServerProcess(opts: StartServerOptions = {}): Promise<ServerProcess> {
  const dataDir = opts.dataDir ?? makeTempDir('dpns-ns-');
  const args = opts.args ?? [];
  const env = opts.env ?? {};
  const listenHost = opts.listenHost ?? '127.0.0.1';
  const argv = [opts.bin ?? NAMESERVER_BIN, '--listen', `${listenHost}:${opts.port ?? 0}`, '--data-dir', dataDir, ...args];
  const wrap = opts.wrap ?? [];
  const [cmd, ...cmdArgs] = wrap.length > 0 ? [...wrap, process.execPath, ...argv] : [process.execPath, ...argv];
  const proc = spawn(cmd as string, cmdArgs, {
    env: { ...inheritedEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = trackChild(proc);
  const stdout = new LineLog(proc.stdout, 'name server stdout');
  const stderr = new LineLog(proc.stderr, 'name server stderr');
  const timeoutMs = opts.startTimeoutMs ?? 15_000;

  let listenLine: string;
  let tokenLine: string;
  let keyLine: string;
  const died = exited.then((e) => {
    throw new Error(
      `dpns-nameserver exited (code ${e.code}, signal ${e.signal}) before listening\n` +
      `stdout:\n${stdout.text()}\nstderr:\n${stderr.text()}`,
    );
  });
  died.catch(() => undefined);
  try {
    [listenLine, tokenLine, keyLine] = await Promise.race([
      Promise.all([stdout.waitFor(LISTENING, timeoutMs), stdout.waitFor(TOKEN, timeoutMs), stdout.waitFor(KEY, timeoutMs)]),
      died,
    ]);
  } catch (err) {
    // Stdout ends a moment before the exit is reported, and the exit's error is the one that
    // carries stderr (why it stopped): wait a little for it.
    const exit = await Promise.race([died.then(() => undefined, (e: unknown) => e), new Promise((r) => setTimeout(r, 2000, undefined))]);
    await killChild(proc, 'SIGKILL');
    throw exit ?? err;
  }
  const [, url = '', host = '', portText = ''] = LISTENING.exec(listenLine) ?? [];
  const tokenPath = TOKEN.exec(tokenLine)?.[1] ?? '';
  const token = (await readFile(tokenPath, 'utf8')).trim();
  const port = Number(portText);

  const self: ServerProcess = {
    url,
    host,
    port,
    server: `${listenHost}:${port}`,
    dataDir,
    tokenPath,
    token,
    publicKey: KEY.exec(keyLine)?.[1] ?? '',
    proc,
    pid: proc.pid ?? -1,
    stdout,
    stderr,
    exited,
    kill: (signal = 'SIGKILL') => killChild(proc, signal),
    stop: async () => {
      await killChild(proc, 'SIGTERM');
    },
    restart: async (more = {}) => {
      await killChild(proc, 'SIGKILL');
      return startServerProcess({
        dataDir,
        port,
        args: more.args ?? args,
        env: more.env ?? env,
        startTimeoutMs: timeoutMs,
        listenHost,
        wrap,
      });
    },
    waitForStdout: (match, ms) => stdout.waitFor(match, ms),
    stdoutLines: () => [...stdout.lines],
    stderrLines: () => [...stderr.lines],
  };
  return self;
}

/** The test's environment without DPNS_* settings, so the flags given here are the whole story. */
function inheritedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DPNS_')) env[k] = v;
  return env;
}
