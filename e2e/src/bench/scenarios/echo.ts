// Scenario 1, the transport's ceiling: the same generator against a bare `ws` echo server
// in its own process, with frames as large as a `findServices` answer.
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../context.js';
import { spawnUntil, stopChild } from '../lifecycle.js';
import type { Issue } from '../loadgen.js';
import { readMemory } from '../memory.js';
import { status, type Row } from '../report.js';
import { openMany } from '../rpc-conn.js';
import { randInt } from '../shapes.js';
import { measureSlices, type Target } from '../slices.js';
import { findName } from './services.js';

const ECHO_SERVER = fileURLToPath(new URL('../echo-server.js', import.meta.url));

/** A request frame padded to the length of the answer a `find` of the same name gets. */
export function echoFrame(id: number, name: string): string {
  const answer = JSON.stringify({ jsonrpc: '2.0', id, result: { services: [{ name, service: name, host: '127.0.0.1', port: 40000 }] } });
  const bare = JSON.stringify({ jsonrpc: '2.0', id, method: 'findServices', params: { pattern: name }, pad: '' });
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'findServices', params: { pattern: name }, pad: 'x'.repeat(Math.max(0, answer.length - bare.length)) });
}

/** The echo server, started, with connections open and the request shape ready. */
export async function startEcho(ctx: BenchContext): Promise<Target & { row(res: Parameters<BenchContext['measured']>[0]): Row }> {
  const { cfg } = ctx;
  status('echo: starting the echo server');
  const { child, match } = await spawnUntil(process.execPath, [ECHO_SERVER], /listening on (ws:\/\/\S+)/);
  const conns = await openMany(match[1] as string, cfg.connections, { expectHello: false });
  const issue: Issue = (slot, _seq, done) => {
    const conn = conns[slot % conns.length];
    if (conn === undefined) return;
    const id = conn.takeId();
    conn.sendRaw(id, echoFrame(id, findName(randInt(cfg.findServices))), (msg) => done(!('error' in msg)));
  };
  return {
    issue,
    pid: child.pid ?? -1,
    row: (res) => ({
      key: 'echo', label: 'echo ceiling', system: 'echo', shape: ctx.shape(cfg.inFlight, cfg.connections),
      ...ctx.measured(res), peakRssMB: readMemory(child.pid ?? -1).peakMB,
    }),
    stop: async () => {
      await Promise.all(conns.map((c) => c.close()));
      await stopChild(child);
    },
  };
}

/** The echo ceiling on its own (when `find` is not selected; otherwise the two run interleaved). */
export async function runEcho(ctx: BenchContext): Promise<void> {
  const echo = await startEcho(ctx);
  try {
    const [res] = await measureSlices(ctx.cfg, [echo]);
    if (res !== undefined) ctx.add(echo.row(res));
  } finally {
    await echo.stop();
  }
}
