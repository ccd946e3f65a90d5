// The REAL name server under strace, and a reader for what strace wrote: which system calls ran,
// on which file or socket, with which bytes, in which order. For claims no test can see from the
// outside because `kill -9` keeps the page cache: "answered only once fdatasynced".
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess, type StartServerOptions } from './server.js';
import { makeTempDir } from './tmp.js';

/** Why strace cannot run here, or undefined when it can. */
export function straceUnavailable(): string | undefined {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'strace is missing; .ci/run installs it';
  }
  return undefined;
}

/** One system call: where it started and ended in the trace, the fd's path, the bytes it carried. */
export interface Syscall {
  pid: number;
  name: string;
  /** Line (0-based) where it was entered: a complete line, or the `<unfinished ...>` one. */
  start: number;
  /** Line where it returned: the same line, or the `<... resumed>` one. */
  end: number;
  /** The first argument's path as `-y` prints it (`/data/wal/wal-1.log`, `socket:[123]`), if any. */
  fd: string | undefined;
  /** Every string argument (a write's buffer, a writev's iovecs), decoded and joined, as UTF-8. */
  data: string;
  /** The return value as printed (`0`, `50`, `-1 EIO (...)`); undefined if the trace ends first. */
  ret: string | undefined;
  /** The text of the line(s), for messages. */
  text: string;
}

const HEAD = /^(\d+)\s+\d\d:\d\d:\d\d\.\d+\s+(.*)$/;
const RESUMED = /^<\.\.\. (\w+) resumed>(.*)$/;
const CALL = /^(\w+)\((.*)$/;
const UNFINISHED = ' <unfinished ...>';

/**
 * Reads an `strace -f -tt -y -o FILE` trace. Calls interrupted by another thread's come as two
 * lines (`<unfinished ...>`, `<... resumed>`), joined here by thread id. Lines strace prints for
 * signals and exits are skipped.
 */
export function parseStrace(text: string): Syscall[] {
  const out: Syscall[] = [];
  const open = new Map<number, Syscall>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = HEAD.exec(lines[i] as string);
    if (head === null) continue;
    const pid = Number(head[1]);
    const rest = head[2] as string;
    const resumed = RESUMED.exec(rest);
    if (resumed !== null) {
      const call = open.get(pid);
      if (call === undefined || call.name !== resumed[1]) continue;
      open.delete(pid);
      call.end = i;
      call.ret = returned(resumed[2] as string);
      call.text += `\n${lines[i] as string}`;
      continue;
    }
    const m = CALL.exec(rest);
    if (m === null) continue;
    const unfinished = rest.endsWith(UNFINISHED);
    const args = unfinished ? (m[2] as string).slice(0, -UNFINISHED.length) : (m[2] as string);
    const call: Syscall = {
      pid, name: m[1] as string, start: i, end: i, fd: fdPath(args), data: strings(args),
      ret: unfinished ? undefined : returned(args), text: lines[i] as string,
    };
    if (unfinished) open.set(pid, call);
    out.push(call);
  }
  return out;
}

/** `19</tmp/d/wal/wal-1.log>, ...` → `/tmp/d/wal/wal-1.log`. */
function fdPath(args: string): string | undefined {
  return /^\d+<([^>]*)>/.exec(args)?.[1];
}

/** What follows the last `) = ` of a line: the return value. */
function returned(tail: string): string | undefined {
  const at = tail.lastIndexOf(') = ');
  return at < 0 ? undefined : tail.slice(at + 4).trim();
}

/** The one-letter escapes strace prints in strings; the rest are \xHH or octal. */
const ESCAPES: Readonly<Record<string, number>> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, '"': 34, '\\': 92 };

/** Every C string literal in `args`, unescaped to bytes, joined and read as UTF-8. */
function strings(args: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== '"') continue;
    for (i++; i < args.length && args[i] !== '"'; i++) {
      const c = args[i] as string;
      if (c !== '\\') {
        bytes.push(c.charCodeAt(0) & 0xff);
        continue;
      }
      const e = args[++i] as string;
      const simple = ESCAPES[e];
      if (simple !== undefined) bytes.push(simple);
      else if (e === 'x') {
        bytes.push(parseInt(args.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        const oct = /^[0-7]{1,3}/.exec(args.slice(i))?.[0] ?? '0';
        bytes.push(parseInt(oct, 8));
        i += oct.length - 1;
      }
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A name server running under strace, with the file its trace goes to. */
export interface TracedServer {
  /** The name server as the harness sees it; its process is strace's. */
  ns: ServerProcess;
  /** The traced name server's own pid (strace's child). */
  pid: number;
  tracePath: string;
  /** SIGTERM to the name server; resolves once strace has written the whole trace and exited. */
  stop(): Promise<void>;
  /** The trace so far (strace writes a line as it happens). */
  read(): Syscall[];
}

/**
 * Starts the real name server under `strace -f -tt -y -e trace=SYSCALLS`. libuv may hand file
 * I/O to io_uring, where strace sees none of it; UV_USE_IO_URING=0 keeps it on the thread pool,
 * as Node 20 does by default anyway.
 */
export async function startTracedServer(syscalls: readonly string[], opts: StartServerOptions = {}): Promise<TracedServer> {
  const tracePath = join(makeTempDir('dpns-strace-'), 'trace.txt');
  // -I 1: strace blocks no signals (with -o it would ignore SIGTERM), so stopping it works too.
  // The name server itself is stopped and killed by its own pid: a SIGKILLed strace detaches
  // from it and would leave it running.
  const wrap = ['strace', '-f', '-tt', '-y', '-I', '1', '-s', '65536', '-o', tracePath, '-e', `trace=${syscalls.join(',')}`];
  const ns = await startServerProcess({ ...opts, wrap, env: { ...opts.env, UV_USE_IO_URING: '0' } });
  const pid = tracee(ns.pid);
  const self: TracedServer = {
    ns,
    pid,
    tracePath,
    stop: async () => {
      signal(pid, 'SIGTERM');
      await ns.exited;
    },
    read: () => parseStrace(readFileSync(tracePath, 'utf8')),
  };
  // The harness kills strace at teardown, which would leave the name server running untraced.
  void ns.exited.then(() => signal(pid, 'SIGKILL'));
  process.once('exit', () => signal(pid, 'SIGKILL'));
  return self;
}

/** The one child strace started. */
function tracee(stracePid: number): number {
  const children = readFileSync(`/proc/${stracePid}/task/${stracePid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  const pid = children[0];
  if (children.length !== 1 || pid === undefined || !Number.isSafeInteger(pid)) {
    throw new Error(`strace (pid ${stracePid}) should have one child, the name server; it has ${JSON.stringify(children)}`);
  }
  return pid;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}
