// Runs a watch worker (dpns or etcd) and talks to it: wait until its watches are set up,
// then ask whether every watch saw every write.
import { Worker } from 'node:worker_threads';
import type { WatchCounts, WatchParentMessage, WatchReady } from './watch-protocol.js';
import { onCleanup } from './lifecycle.js';

export interface Watchers {
  ready: WatchReady;
  /** Waits until every watch has seen `writes` events, or `timeoutMs` passed. */
  expect(writes: number, timeoutMs: number): Promise<WatchCounts>;
  close(): Promise<void>;
}

/** Starts `file` (a compiled worker module) with `data` and waits for its `ready`. */
export async function startWatchers(file: URL, data: unknown): Promise<Watchers> {
  const worker = new Worker(file, { workerData: data });
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      worker.postMessage({ type: 'close' } satisfies WatchParentMessage);
      const timer = setTimeout(() => void worker.terminate(), 2_000);
      await new Promise((r) => worker.once('exit', r));
      clearTimeout(timer);
    })();
    return closed;
  };
  const forget = onCleanup(close);
  const next = <T>(type: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: { type: string }): void => {
        if (m.type !== type) return;
        cleanup();
        resolve(m as T);
      };
      const onError = (e: Error): void => {
        cleanup();
        reject(e);
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`watch worker exited (${code}) before "${type}"`));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  try {
    const ready = await next<WatchReady>('ready');
    return {
      ready,
      expect: (writes, timeoutMs) => {
        const answer = next<WatchCounts>('counts');
        worker.postMessage({ type: 'expect', writes, timeoutMs } satisfies WatchParentMessage);
        return answer;
      },
      close: async () => {
        forget();
        await close();
      },
    };
  } catch (e) {
    forget();
    await worker.terminate();
    throw e;
  }
}
