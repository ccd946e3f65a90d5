// The half of a watch worker that is the same for dpns and etcd: the per-watch event counts,
// and answering the parent's `expect` and `close`.
import type { MessagePort } from 'node:worker_threads';
import type { WatchCounts, WatchParentMessage } from './watch-protocol.js';

/** Per-watch event counts: a Map, or anything else that can list them. */
export interface EventCounts {
  readonly size: number;
  values(): Iterable<number>;
}

function tally(counts: EventCounts, writes: number): Omit<WatchCounts, 'type' | 'waitedMs'> {
  let complete = 0;
  let min = Infinity;
  let max = 0;
  for (const n of counts.values()) {
    if (n >= writes) complete++;
    min = Math.min(min, n);
    max = Math.max(max, n);
  }
  return { watches: counts.size, complete, min: counts.size === 0 ? 0 : min, max };
}

/** Answers `expect` by polling `counts` until every watch is complete or time is up; `close` runs `onClose`. */
export function serveCounts(port: MessagePort, counts: EventCounts, onClose: () => void): void {
  port.on('message', (msg: WatchParentMessage) => {
    if (msg.type === 'close') {
      onClose();
      port.close();
      return;
    }
    const since = performance.now();
    const poll = (): void => {
      const t = tally(counts, msg.writes);
      const waitedMs = performance.now() - since;
      if (t.complete === t.watches || waitedMs >= msg.timeoutMs) port.postMessage({ type: 'counts', ...t, waitedMs } satisfies WatchCounts);
      else setTimeout(poll, 50);
    };
    poll();
  });
}
