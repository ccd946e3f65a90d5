// What the storage layer's parts share: where they report, and what an open recovered.

/** Where the store reports what an operator should know (torn tails, stale locks, failures). */
export interface StoreLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** What was on disk at open: the state to start from and the records to apply on top of it. */
export interface Recovered {
  /** `state` is what snapshot() stored, or for snapshotStream() the file's lines unparsed (SnapshotLines). */
  snapshot: { index: number; state: unknown } | undefined;
  /** Every record after the snapshot, in index order. */
  records: { index: number; data: unknown }[];
  lastIndex: number;
  /** Set when a torn or corrupt tail of the last segment was cut off. */
  droppedTail?: { segment: string; offset: number; bytes: number; reason: string };
}
