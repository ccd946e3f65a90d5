// Test support: an agent on 127.0.0.1 port 0 in a temporary directory, a name-server-side peer
// that speaks the wire protocol the way the name server will (through @dpns/protocol), fixture
// programs, and cleanup that leaves no process behind.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as wire from './wire.js';
import { WebSocket } from 'ws';
import type { AllowEntry } from './allowlist.js';
import { createLogger } from './log.js';
import { procStat } from './proc.js';
import { LaunchAgent } from './server.js';

export type SigningKey = wire.SigningKey;
export type AgentHello = wire.AgentHello;

export interface TestAgent {
  agent: LaunchAgent;
  url: string;
  /** World-traversable temp dir: fixtures live here, so a child running as nobody can read them. */
  dir: string;
  stateDir: string;
  /** A world-writable directory for files the fixtures write. */
  outDir: string;
  nsKey: SigningKey;
  /** Structured log lines the agent wrote. */
  logs: Record<string, unknown>[];
  /** Stops the agent (its children keep running) and starts a new one on the same state directory. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface TestAgentOptions {
  allow?: (dir: string) => AllowEntry[];
  users?: string[];
  windowMs?: number;
  idleMs?: number;
  trusted?: SigningKey[];
}

/** Makes a world-readable temp directory with a world-writable `out/` inside. */
export async function makeTempDir(prefix: string): Promise<{ dir: string; outDir: string }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  const outDir = join(dir, 'out');
  await mkdir(outDir);
  await chmod(outDir, 0o777);
  return { dir, outDir };
}

export async function startTestAgent(opts: TestAgentOptions = {}): Promise<TestAgent> {
  const { dir, outDir } = await makeTempDir('dpns-launchd-');
  const stateDir = join(dir, 'state');
  const nsKey = wire.newSigningKey();
  const logs: Record<string, unknown>[] = [];
  const make = () => new LaunchAgent({
    host: '127.0.0.1', port: 0, stateDir, logsDir: join(stateDir, 'logs'),
    trustedKeys: (opts.trusted ?? [nsKey]).map((k) => k.publicKey), allow: opts.allow?.(dir) ?? [], users: opts.users ?? [],
    defaultUser: 'nobody', windowMs: opts.windowMs ?? 30_000, killGraceMs: 5000, logLevel: 'debug', logFormat: 'json', hostNames: [],
    logger: createLogger({ level: 'debug', format: 'json', write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) }),
    ...(opts.idleMs === undefined ? {} : { idleMs: opts.idleMs }),
  });
  const agent = make();
  await agent.start();
  const t: TestAgent = {
    agent, url: agent.url, dir, stateDir, outDir, nsKey, logs,
    async restart() {
      await t.agent.close();
      t.agent = make();
      await t.agent.start();
      t.url = t.agent.url;
    },
    async close() {
      // Whatever a test launched is killed here, so a failed test leaves nothing running.
      const entries = t.agent.ledger?.entries() ?? [];
      for (const e of entries) killGroup(e.pgid);
      await until(async () => (await Promise.all(entries.map((e) => alive(e.pid)))).every((a) => !a), 5000, 'launched processes gone');
      await t.agent.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return t;
}

export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Writes an executable fixture script into `dir`. Its #! line names this very node: the agent
 * gives children a fixed PATH and refuses a spec that sets one (env-policy.ts), so
 * `#!/usr/bin/env node` would find only a system node, if any.
 */
export async function fixture(dir: string, name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!${process.execPath}\n${body}\n`, { mode: 0o755 });
  return path;
}

/** Reads its whole stdin (the ticket line), writes it to argv[2], then runs until killed. */
export const TICKET_WRITER = `
const fs = require('node:fs');
let got = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (c) => { got += c; });
process.stdin.on('end', () => {
  fs.writeFileSync(process.argv[2] + '.tmp', got);
  fs.renameSync(process.argv[2] + '.tmp', process.argv[2]);
});
setInterval(() => {}, 1 << 30);
`;

/** Ignores SIGTERM; writes argv[2] once it has installed the handler; runs until SIGKILL. */
export const STUBBORN = `
process.on('SIGTERM', () => {});
require('node:fs').writeFileSync(process.argv[2], 'ready');
setInterval(() => {}, 1 << 30);
`;

/** Creates argv[2] at once: proof that it ran. */
export const MARKER = `
require('node:fs').writeFileSync(process.argv[2], 'ran');
setInterval(() => {}, 1 << 30);
`;

/** What one connection gave: the hello, and the reply to the frame sent (as text). */
export interface Exchange {
  hello: AgentHello;
  reply: string;
  sent: string;
}

/**
 * Connects, waits for the hello (checked by @dpns/protocol's parseAgentHello, as the name server
 * will), sends what `frame` makes of it, and returns the reply once the agent has closed.
 */
export async function exchange(url: string, frame: (hello: AgentHello) => string | Buffer): Promise<Exchange> {
  const ws = new WebSocket(url);
  ws.on('error', () => undefined);
  return new Promise<Exchange>((resolve, reject) => {
    let hello: AgentHello | undefined;
    let sent = '';
    let reply: string | undefined;
    ws.on('message', (data: Buffer) => {
      try {
        if (hello === undefined) {
          hello = wire.parseAgentHello(data.toString('utf8'));
          const f = frame(hello);
          sent = typeof f === 'string' ? f : '';
          ws.send(f);
        } else {
          reply = data.toString('utf8');
        }
      } catch (e) {
        reject(e as Error);
        ws.terminate();
      }
    });
    ws.on('close', () => {
      if (hello === undefined || reply === undefined) reject(new Error(`connection closed before ${hello === undefined ? 'the hello' : 'a reply'}`));
      else resolve({ hello, reply, sent });
    });
  });
}

/** What a request names besides its operation; by default what a name server dialing 127.0.0.1 would. */
export interface RequestOptions {
  epoch?: number;
  now?: number;
  /** The host the request is meant for. */
  target?: string;
  /** The agent identity it is meant for; the hello's by default. */
  agent?: string;
}

/** A signed request for `op` on the connection of `hello`. */
export function signed(key: SigningKey, hello: AgentHello, op: wire.AgentOperation, opts: RequestOptions = {}): string {
  return JSON.stringify(wire.buildAgentRequest(key, op, {
    boxKey: hello.boxKey, epoch: opts.epoch ?? 0, now: opts.now ?? Date.now(), target: opts.target ?? '127.0.0.1', agent: opts.agent ?? hello.identity,
  }));
}

/** Sends one operation and parses the reply as the name server will. */
export async function request<O extends wire.AgentOpName>(
  t: { url: string; nsKey: SigningKey },
  op: (hello: AgentHello) => wire.AgentOperation & { op: O },
  opts: RequestOptions = {},
): Promise<wire.AgentReplyFor<O>> {
  let name: O | undefined;
  const ex = await exchange(t.url, (hello) => {
    const o = op(hello);
    name = o.op;
    return signed(t.nsKey, hello, o, opts);
  });
  return wire.parseAgentReply(ex.reply, name as O);
}

export interface LaunchFields {
  service?: string;
  program: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  user?: string;
}

/** A launch operation with a fresh ticket pair, all sealed to the hello's boxKey; `line` is the plain ticket line. */
export function launchOp(hello: AgentHello, f: LaunchFields): { op: wire.AgentSealedLaunchOp; plain: wire.AgentLaunchOp; line: string } {
  const service = f.service ?? '/test/svc';
  const servers = ['127.0.0.1:7700'];
  const line = wire.ticketLineText({ service, ticket: wire.newLaunchId() + wire.newLaunchId(), nameserverTicket: wire.newLaunchId() + wire.newLaunchId(), servers });
  const op: wire.AgentLaunchOp = {
    op: 'launch', service, launchId: wire.newLaunchId(), program: f.program, args: f.args ?? [], env: { ...f.env }, servers, ticketLine: line,
  };
  if (f.cwd !== undefined) op.cwd = f.cwd;
  if (f.user !== undefined) op.user = f.user;
  return { op: wire.sealLaunch(op, hello.boxKey), plain: op, line };
}

/** Resolves once `check` holds; fails after `ms`. For conditions no event announces (another process's files). */
export async function until(check: () => Promise<boolean> | boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

export async function alive(pid: number): Promise<boolean> {
  return (await procStat(pid)) !== undefined;
}
