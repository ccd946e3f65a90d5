// A single-member etcd on loopback for the comparison: its own temporary data directory,
// random ports, quiet logs. Ready when its JSON gateway answers a range request.
import { spawn, spawnSync } from 'node:child_process';
import { onCleanup, removeDir, stopChild, tempDir, trackChild } from './lifecycle.js';
import { readMemory, type Memory } from './memory.js';
import { b64, etcdPost } from './etcd-http.js';
import { freePorts } from '../harness/index.js';

export interface EtcdProcess {
  /** `http://127.0.0.1:PORT`, the client URL. */
  readonly url: string;
  readonly pid: number;
  readonly version: string;
  memory(): Memory;
  stop(): Promise<void>;
}

/** The `etcd` version on the PATH, or undefined when there is none. */
export function etcdVersion(): string | undefined {
  const r = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return /etcd Version: (\S+)/.exec(r.stdout)?.[1] ?? 'unknown';
}

export async function startEtcd(): Promise<EtcdProcess> {
  const version = etcdVersion() ?? 'unknown';
  const dir = tempDir('etcd');
  const [client, peer] = (await freePorts(2)) as [number, number];
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const child = spawn('etcd', [
    '--name', 'bench', '--data-dir', dir,
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `bench=${peerUrl}`, '--initial-cluster-state', 'new',
    '--logger', 'zap', '--log-level', 'error',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  trackChild(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 10_000) stderr += String(d);
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= stopChild(child).then(() => removeDir(dir));
    return stopped;
  };
  const forget = onCleanup(stop);
  try {
    const deadline = performance.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`etcd exited (${child.exitCode}):\n${stderr}`);
      if ((await etcdPost(url, '/v3/kv/range', { key: b64('probe') }, 1_000)) !== undefined) break;
      if (performance.now() > deadline) throw new Error(`etcd did not answer within 20 s:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    forget();
    await stop();
    throw e;
  }
  return {
    url,
    pid: child.pid ?? -1,
    version,
    memory: () => readMemory(child.pid ?? -1),
    stop: async () => {
      forget();
      await stop();
    },
  };
}
