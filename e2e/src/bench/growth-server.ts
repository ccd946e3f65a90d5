// The growth scenario's name server: one data directory that outlives the process, so the
// server can be killed with SIGKILL and started again on what it left, and the time until it
// answers again measured from outside.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NAMESERVER_BIN } from '../harness/index.js';
import { spawnUntil, stopChild, tempDir } from './lifecycle.js';
import { readMemory, type Memory } from './memory.js';
import { RpcConn } from './rpc-conn.js';

const LISTENING = /^dpns-nameserver \S+ listening on (ws:\/\/\S+)/;
const KEY = /^nameserver key: [0-9a-f]{64}/;

/** What node runs, with its arguments first (default: the workspace's tsc-built binary), and the environment it gets (default: the benchmark's). */
export interface Program {
  argv: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/** A running name server on a data directory this scenario keeps. */
export interface GrowthProc {
  readonly url: string;
  readonly pid: number;
  readonly token: string;
  /** What the server logged while starting: the `registry recovered` line says where the time went. */
  readonly output: readonly string[];
  memory(): Memory;
}

export class GrowthServer {
  readonly dataDir = tempDir('growth');
  private child: ChildProcess | undefined;
  private current: GrowthProc | undefined;

  constructor(private readonly args: readonly string[] = []) {}

  get proc(): GrowthProc {
    if (this.current === undefined) throw new Error('the growth server is not running');
    return this.current;
  }

  /** Starts the server on the data directory (empty or left by a kill) and waits for its key line. */
  async start(program: Program = { argv: [NAMESERVER_BIN] }): Promise<GrowthProc> {
    const { child, output } = await spawnUntil(process.execPath, [
      ...program.argv, '--listen', '127.0.0.1:0', '--data-dir', this.dataDir, ...this.args,
    ], KEY, { timeoutMs: 120_000, ...(program.env === undefined ? {} : { env: program.env }) });
    this.child = child;
    const url = output.map((l) => LISTENING.exec(l)?.[1]).find((u) => u !== undefined);
    const token = readFileSync(join(this.dataDir, 'admin.token'), 'utf8').trim();
    if (url === undefined || child.pid === undefined) throw new Error(`no listening line from the name server:\n${output.join('\n')}`);
    const pid = child.pid;
    this.current = { url, pid, token, output, memory: () => readMemory(pid) };
    return this.current;
  }

  /**
   * SIGKILL, then a new process (of `program`, as start() takes it) on the same directory; resolves with the milliseconds from the
   * kill to the first answered `findServices` of `name`, and how long the server itself said recovery took.
   */
  async killAndRestart(name: string, program?: Program): Promise<{ answeringMs: number; recovered: Recovered | undefined }> {
    const child = this.child;
    if (child === undefined) throw new Error('the growth server is not running');
    const exited = new Promise((r) => child.once('exit', r));
    const t0 = performance.now();
    child.kill('SIGKILL');
    await exited;
    const proc = await this.start(program);
    const conn = await RpcConn.open(proc.url);
    try {
      // The first answer must hold the name: a server that answered from an empty registry has not recovered.
      const res = await conn.ok<{ services: unknown[] }>('findServices', { pattern: name });
      if (res.services.length !== 1) throw new Error(`after the restart ${name} was not found: ${JSON.stringify(res)}`);
    } finally {
      await conn.close();
    }
    const answeringMs = performance.now() - t0;
    const recovered = proc.output.map(recoveredLine).find((r) => r !== undefined);
    const loaded = proc.output.map(loadedLine).find((l) => l !== undefined);
    return { answeringMs, recovered: recovered === undefined || loaded === undefined ? recovered : { ...recovered, loaded } };
  }

  /** Bytes under the data directory. */
  dataDirBytes(): number {
    return du(this.dataDir);
  }

  async stop(): Promise<void> {
    if (this.child !== undefined) await stopChild(this.child, 10_000);
    this.child = undefined;
    this.current = undefined;
  }
}

/** Where the server said its recovery's time went (its `registry recovered` log line). */
export interface Recovered {
  ms: number;
  replayed: number;
  /** Reading the snapshot and the log; building the registry from the snapshot; replaying the log (absent from older builds). */
  storeMs?: number;
  loadMs?: number;
  replayMs?: number;
  /** How the program was loaded (its `program loaded` line): `bundle, code cache accepted`, `modules`; absent from older builds. */
  loaded?: string;
}

function recoveredLine(line: string): Recovered | undefined {
  if (!line.includes('registry recovered')) return undefined;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    if (typeof o.ms !== 'number' || typeof o.replayed !== 'number') return undefined;
    const r: Recovered = { ms: o.ms, replayed: o.replayed };
    if (typeof o.storeMs === 'number') r.storeMs = o.storeMs;
    if (typeof o.loadMs === 'number') r.loadMs = o.loadMs;
    if (typeof o.replayMs === 'number') r.replayMs = o.replayMs;
    return r;
  } catch {
    return undefined;
  }
}

function loadedLine(line: string): string | undefined {
  if (!line.includes('program loaded')) return undefined;
  try {
    const o = JSON.parse(line) as { from?: unknown; codeCache?: unknown };
    return typeof o.from !== 'string' ? undefined : typeof o.codeCache === 'string' ? `${o.from}, code cache ${o.codeCache}` : o.from;
  } catch {
    return undefined;
  }
}

function du(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of readdirSync(path)) n += du(join(path, e));
  return n;
}
