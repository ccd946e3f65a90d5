// The name server under test: the real binary in its own process (through the e2e harness),
// so its memory is its own and the generator does not share its event loop.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchConfig } from './args.js';
import { NAMESERVER_BIN, removeTempDirs, startServerProcess } from '../harness/index.js';
import { onCleanup, removeDir, spawnUntil, stopChild, tempDir } from './lifecycle.js';
import { readMemory, type Memory } from './memory.js';
import { openMany, type RpcConn } from './rpc-conn.js';

/** A name server started for one scenario, with what the scenario needs to drive it. */
export interface BenchServer {
  readonly url: string;
  readonly pid: number;
  readonly token: string;
  /** The key launch agents must trust (`nameserver key:` at start). */
  readonly publicKey: string;
  /** The DNS port, when started with --dns-listen. */
  readonly dnsPort: number | undefined;
  memory(): Memory;
  /** Opens `n` connections, logged in as admin when `admin` is true. */
  connect(n: number, admin: boolean): Promise<RpcConn[]>;
  /** Stops the process and removes its data directory. */
  stop(): Promise<void>;
}

interface Proc {
  url: string;
  pid: number;
  token: string;
  publicKey: string;
  dnsPort: number | undefined;
  stop(): Promise<void>;
}

/** The start-up line of a server answering DNS. */
const DNS_LISTENING = /^dns: listening on \S+:(\d+) /;

async function harnessProc(args: string[], bin: string | undefined): Promise<Proc> {
  const proc = await startServerProcess({ args, ...(bin === undefined ? {} : { bin }) });
  const dnsLine = args.includes('--dns-listen') ? await proc.waitForStdout(DNS_LISTENING) : undefined;
  return {
    url: proc.url, pid: proc.pid, token: proc.token, publicKey: proc.publicKey, dnsPort: dnsLine === undefined ? undefined : Number(DNS_LISTENING.exec(dnsLine)?.[1]),
    stop: async () => {
      await proc.stop();
      await removeTempDirs(proc.dataDir);
    },
  };
}

const LISTENING = /^dpns-nameserver \S+ listening on (ws:\/\/\S+)/;
const KEY = /^nameserver key: ([0-9a-f]{64})/;

/**
 * The same binary under `node --cpu-prof`: the harness cannot pass node flags, and
 * NODE_OPTIONS does not take --cpu-prof, so this spawns it directly. The profile is
 * written when the server exits after SIGTERM.
 */
async function profiledProc(args: string[], profileDir: string, bin: string): Promise<Proc> {
  const dataDir = tempDir('ns');
  // The key line is the last of the start-up lines, so the listening line is in `output` by then.
  const { child, match, output } = await spawnUntil(process.execPath, [
    '--cpu-prof', `--cpu-prof-dir=${profileDir}`, bin, '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...args,
  ], KEY);
  const url = output.map((l) => LISTENING.exec(l)?.[1]).find((u) => u !== undefined);
  const token = (await readFile(join(dataDir, 'admin.token'), 'utf8').catch(() => '')).trim();
  if (token === '' || url === undefined) throw new Error(`no listening line or admin token in ${dataDir}:\n${output.join('\n')}`);
  // The DNS line is written with the key line, so it is in `output` too.
  const dnsPort = output.map((l) => DNS_LISTENING.exec(l)?.[1]).find((p) => p !== undefined);
  return {
    url, pid: child.pid ?? -1, token, publicKey: match[1] as string, dnsPort: dnsPort === undefined ? undefined : Number(dnsPort),
    stop: async () => {
      await stopChild(child, 10_000);
      removeDir(dataDir);
    },
  };
}

/**
 * Starts a fresh name server with an empty data directory (profiled when `cfg.profileDir` is set);
 * with `baseline`, the --baseline checkout's instead of this one's.
 */
export async function startBenchServer(cfg: BenchConfig, args: string[] = [], baseline = false): Promise<BenchServer> {
  const bin = baseline ? cfg.baselineBin : undefined;
  const proc = cfg.profileDir === undefined ? await harnessProc(args, bin) : await profiledProc(args, cfg.profileDir, bin ?? NAMESERVER_BIN);
  const conns: RpcConn[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.allSettled(conns.map((c) => c.close()));
      await proc.stop();
    })();
    return stopped;
  };
  const forget = onCleanup(stop);
  return {
    url: proc.url,
    pid: proc.pid,
    token: proc.token,
    publicKey: proc.publicKey,
    dnsPort: proc.dnsPort,
    memory: () => readMemory(proc.pid),
    async connect(n, admin) {
      const opened = await openMany(proc.url, n);
      conns.push(...opened);
      if (admin) await Promise.all(opened.map((c) => c.login(proc.token)));
      return opened;
    },
    async stop() {
      forget();
      await stop();
    },
  };
}
