// What the watch workers (dpns and etcd) and the scenario that runs them say to each other.

export interface WatchWorkerData {
  url: string;
  connections: number;
  watchesPerConnection: number;
  pattern: string;
}

/** Sent once every watch request has been answered. */
export interface WatchReady {
  type: 'ready';
  watches: number;
  /** Error answers to `watch`, by `data.code`. */
  refused: Record<string, number>;
  setupMs: number;
}

/** Sent in answer to `expect`. */
export interface WatchCounts {
  type: 'counts';
  watches: number;
  /** Watches that saw at least the expected number of events. */
  complete: number;
  min: number;
  max: number;
  waitedMs: number;
}

export type WatchParentMessage = { type: 'expect'; writes: number; timeoutMs: number } | { type: 'close' };
