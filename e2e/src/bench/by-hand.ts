// The launch scenario's baseline: the example service started by hand, without dpns, timed
// from spawn until a client could use it (its listening line, then a TCP connect and one
// echoed line), the same end point the dpns launch is timed to.
//
// It runs in the environment the agent gives the programs it launches (childEnv in
// packages/launchd/src/spawn.ts: a minimal PATH, HOME, LANG, USER, LOGNAME and the spec's env)
// and in the agent's default working directory, `/`. Inheriting the benchmark's environment
// instead would time something else: on the development VM, NODE_EXTRA_CA_CERTS alone adds
// ~28 ms to every node start-up, which the agent's clean environment does not pay, and the
// difference would be credited to dpns.
import { spawn } from 'node:child_process';
import { homedir, userInfo } from 'node:os';
import { ECHO_SERVICE } from '../harness/index.js';
import { stopChild, trackChild } from './lifecycle.js';
import { reachEcho } from './reach.js';

const LISTENING = /^echo-service listening on (\S+):(\d+)$/;

/** The environment of a launched service, with the registered spec's env (DPNS_* set by the agent left out). */
function launchedEnv(): NodeJS.ProcessEnv {
  const user = userInfo().username;
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin', HOME: homedir(), LANG: process.env.LANG ?? 'C.UTF-8', USER: user, LOGNAME: user,
    DPNS_ADVERTISE_HOST: '127.0.0.1',
  };
}

/** What one start by hand took, in milliseconds from spawn. */
export interface HandStart {
  /** Until the listening line was read. */
  listeningMs: number;
  /** Until a line came back over TCP: the figure compared with a dpns launch. */
  reachableMs: number;
}

/**
 * Starts `node echo-service.mjs --standalone --host 127.0.0.1`, times it, and stops it again
 * (SIGTERM, waiting for its exit, which is not timed).
 */
export async function startByHand(seq: number, timeoutMs = 15_000): Promise<HandStart> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [ECHO_SERVICE, '--standalone', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: launchedEnv(), cwd: '/',
  });
  trackChild(child);
  try {
    const [host, port] = await new Promise<[string, number]>((resolve, reject) => {
      let out = '';
      let err = '';
      const timer = setTimeout(() => reject(new Error(`echo-service printed no listening line within ${timeoutMs} ms\n${out}${err}`)), timeoutMs);
      child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        for (const line of out.split('\n').slice(0, -1)) {
          const m = LISTENING.exec(line);
          if (m === null) continue;
          clearTimeout(timer);
          resolve([m[1] as string, Number(m[2])]);
          return;
        }
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot start echo-service: ${e.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`echo-service exited (${signal ?? code}) before listening\n${out}${err}`));
      });
    });
    const listeningMs = performance.now() - t0;
    await reachEcho(host, port, `by-hand ${seq}`);
    return { listeningMs, reachableMs: performance.now() - t0 };
  } finally {
    await stopChild(child);
  }
}
