// Starts the REAL dpns-launchd binary, optionally inside a test host's namespace, and waits
// until it listens; with `enroll`, trusts its printed identity for its host through the admin API
// (`agents.trust`), as a name server launches only through an agent enrolled for the host.
// Tracked like every other child, so teardown ends it.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killChild, trackChild, type ExitInfo } from './children.js';
import { LineLog } from './lines.js';
import { LAUNCHD_BIN } from './paths.js';
import { rpcOnce } from './raw-writer.js';
import { makeTempDir } from './tmp.js';

export interface StartAgentOptions {
  /** Name server public keys the agent trusts. */
  trustedKeys: string[];
  /** Short name → absolute program path. */
  allow: Record<string, string>;
  listenHost?: string;
  port?: number;
  /** Keep the ledger across restarts by passing the same directory. */
  stateDir?: string;
  /** A command prefix, e.g. `ip netns exec HOST`. */
  wrap?: string[];
  /** Users a launch may name (the agent's "users" setting); root only when listed. */
  users?: string[];
  /**
   * The name server (its primary's ws:// URL and admin token) to enroll the agent with once it
   * listens, for `host` (default: `listenHost`, the host services name in their spec).
   */
  enroll?: { url: string; token: string; host?: string };
  /** The agent's log level (info by default). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface AgentProcess {
  readonly port: number;
  readonly address: string;
  readonly identity: string;
  readonly stateDir: string;
  readonly proc: ChildProcess;
  readonly stdout: LineLog;
  readonly stderr: LineLog;
  readonly exited: Promise<ExitInfo>;
  kill(signal?: NodeJS.Signals): Promise<ExitInfo>;
  /** Starts it again with the same settings, state and port. */
  restart(): Promise<AgentProcess>;
}

const LISTENING = /^dpns-launchd \S+ listening on ws:\/\/(\S+):(\d+)/;
const IDENTITY = /^identity: ([0-9a-f]{64})/;

export async function startAgentProcess(opts: StartAgentOptions): Promise<AgentProcess> {
  const dir = makeTempDir('dpns-agent-');
  const stateDir = opts.stateDir ?? join(dir, 'state');
  const listenHost = opts.listenHost ?? '127.0.0.1';
  const config = join(dir, 'launchd.json');
  writeFileSync(config, JSON.stringify({
    listen: `${listenHost}:${opts.port ?? 0}`, stateDir, trustedKeys: opts.trustedKeys, allow: opts.allow, logLevel: opts.logLevel ?? 'info',
    ...(opts.users === undefined ? {} : { users: opts.users }),
  }));
  const wrap = opts.wrap ?? [];
  const argv = [...wrap, process.execPath, LAUNCHD_BIN, '--config', config];
  const proc = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = trackChild(proc);
  const stdout = new LineLog(proc.stdout, 'dpns-launchd stdout');
  const stderr = new LineLog(proc.stderr, 'dpns-launchd stderr');
  let listen: string;
  let identity: string;
  try {
    [listen, identity] = await Promise.race([
      Promise.all([stdout.waitFor(LISTENING, 15_000), stdout.waitFor(IDENTITY, 15_000)]),
      exited.then((e): never => {
        throw new Error(`dpns-launchd exited (code ${e.code}, signal ${e.signal}) before listening\n${stdout.text()}\n${stderr.text()}`);
      }),
    ]);
  } catch (e) {
    await killChild(proc, 'SIGKILL');
    throw e;
  }
  const port = Number(LISTENING.exec(listen)?.[2]);
  const key = IDENTITY.exec(identity)?.[1] ?? '';
  if (opts.enroll !== undefined) {
    const host = opts.enroll.host ?? listenHost;
    const a = await rpcOnce(opts.enroll.url, 'agents.trust', { host, key }, { token: opts.enroll.token });
    if (!a.ok) {
      await killChild(proc, 'SIGKILL');
      throw new Error(`could not enroll the agent for ${host}: ${JSON.stringify(a)}`);
    }
  }
  const self: AgentProcess = {
    port,
    address: `${listenHost}:${port}`,
    identity: key,
    stateDir,
    proc,
    stdout,
    stderr,
    exited,
    kill: (signal = 'SIGTERM') => killChild(proc, signal),
    restart: async () => {
      await killChild(proc, 'SIGTERM');
      return startAgentProcess({ ...opts, port, stateDir });
    },
  };
  return self;
}
