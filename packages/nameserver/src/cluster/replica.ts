// This member's copy of the state, as the cluster core's `store` and `install` effects change it
// (cluster-node.ts carries them out): on a backup, records from the primary go to the local log
// first (fsynced), then into the registry, and on to watchers and modules; a snapshot from the
// primary replaces the whole of it. On a primary, the records the core makes itself (its epoch's
// first) go in like the committer's writes. The server supplies where things live.
import type { Committer } from '../committer.js';
import type { Logger } from '../log.js';
import { isLogRecord, type Change, type LogRecord } from '../registry/ops.js';
import type { LoadableSnapshot, Registry, RegistrySnapshot } from '../registry/registry.js';
import { registrySnapshotOf } from '../registry/snapshot-lines.js';
import { decodeSnapshot, encodeSnapshot } from '../storage/snapshot.js';
import { Store } from '../storage/store.js';
import { bufferView } from './buffer-view.js';
import { isSnapshotFile } from './snapshot-transfer.js';
import type { WireRecord } from '@dpns/cluster-core';

export interface ReplicaDeps {
  dataDir: string;
  log: Logger;
  registry: Registry;
  store(): Store | undefined;
  /** The store was replaced (a snapshot install); undefined while it is being rewritten. */
  setStore(s: Store | undefined): void;
  committer(): Committer | undefined;
  /** Closes every client connection, saying why. */
  dropClients(why: string): void;
  /** The disk failed: the server stops. */
  fatal(err: unknown): void;
}

export class Replica {
  constructor(private readonly d: ReplicaDeps) {}

  /** The last index on disk and applied: what reads here see. */
  applied(): number {
    return this.d.registry.revision;
  }

  /** The index of the last record in the local log (appended, perhaps not yet on disk). */
  lastIndex(): number {
    return this.d.store()?.lastIndex ?? 0;
  }

  /** Appends a backup's records from its primary; resolves once they are on disk and applied. */
  async append(recs: readonly WireRecord[]): Promise<void> {
    const durable = this.write(recs, 'from the primary');
    // A disk that fails a backup's write fails it for good, as on the primary: stop, and let a restart recover.
    await durable.catch((err: unknown) => {
      this.d.fatal(err);
      throw err;
    });
    const all: Change[] = [];
    for (const r of recs) all.push(...this.d.registry.applyRecord(logRecordOf(r), r.i));
    const last = (recs.at(-1) as WireRecord).i;
    this.d.committer()?.settled(all, last);
  }

  /**
   * Appends records a primary's core made itself (its epoch's first): applied at once, as the
   * committer applies a write, so later writes apply after them; resolves once they are on disk.
   * The caller settles them once they are committed.
   */
  appendOwn(recs: readonly WireRecord[]): Promise<void> {
    const durable = this.write(recs, 'of this primary');
    for (const r of recs) this.d.registry.applyRecord(logRecordOf(r), r.i);
    return durable.catch((err: unknown) => {
      this.d.fatal(err);
      throw err;
    });
  }

  private write(recs: readonly WireRecord[], whose: string): Promise<void> {
    const store = this.d.store();
    if (store === undefined) throw new Error('the store is being replaced');
    let durable: Promise<void> = Promise.resolve();
    for (const r of recs) {
      const rec = logRecordOf(r);
      const a = store.append(rec);
      if (a.index !== r.i) throw new Error(`record ${r.i} ${whose} landed at index ${a.index}`);
      durable = a.durable;
    }
    return durable;
  }

  /**
   * Replaces the whole local state with the primary's snapshot at `index`; resolves with the epoch
   * of its last record. The snapshot is a format-3 snapshot file (snapshot-transfer.ts), as bytes
   * (as text from a primary before 2026-12-07), checked whole before anything is replaced, then
   * stored as it is and loaded as a restart loads it; or, from a primary before 2026-12-04, the
   * registry's state as one JSON document.
   */
  async install(index: number, data: string | Uint8Array): Promise<number> {
    const { contents, state } = isSnapshotFile(data) ? checkedFile(data, index) : checkedJson(typeof data === 'string' ? data : Buffer.from(data).toString('utf8'), index);
    await this.d.store()?.close();
    this.d.setStore(undefined);
    // Checked and decoded above: stored as it is, and taken as read.
    const { store } = await Store.openReplaced({ dir: this.d.dataDir, logger: this.d.log }, { index, contents, state });
    this.d.setStore(store);
    this.d.registry.load(state);
    this.d.committer()?.resetDurable(index, index);
    this.d.dropClients('this backup replaced its state with the primary\'s; watch again');
    return this.d.registry.epoch;
  }
}

/** A primary's snapshot as a snapshot file (format 3), checked against its trailer and `index`. */
function checkedFile(data: string | Uint8Array, index: number): { contents: Buffer; state: LoadableSnapshot } {
  const contents = typeof data === 'string' ? Buffer.from(data, 'utf8') : bufferView(data);
  const d = decodeSnapshot(contents, index);
  if (!d.ok) throw new Error(`the primary's snapshot at ${index} does not check out: ${d.reason}`);
  const state = registrySnapshotOf(d.state);
  if (state.revision !== index) throw new Error(`the primary's snapshot at ${index} holds revision ${state.revision}`);
  return { contents, state };
}

/** A primary's snapshot as one JSON document (the form older primaries send). */
function checkedJson(json: string, index: number): { contents: Buffer; state: RegistrySnapshot } {
  const state = JSON.parse(json) as RegistrySnapshot;
  if (typeof state !== 'object' || state === null || !Array.isArray(state.entries) || state.revision !== index) {
    throw new Error(`the primary's snapshot at ${index} is not a registry state`);
  }
  return { contents: encodeSnapshot(index, state), state };
}

/**
 * A log record as the registry takes it. The core's own records (a primary's epoch's first, a
 * configuration record) carry only their epoch and perhaps a `config`: no ops. The registry
 * changes no entry for them; a configuration record's voters and address it keeps (cluster-members.ts).
 */
function logRecordOf(r: WireRecord): LogRecord {
  const d = r.d.ops === undefined && Object.keys(r.d).every((k) => k === 'ep' || k === 'config') ? { ...r.d, ops: [] } : r.d;
  if (!isLogRecord(d)) throw new Error(`record ${r.i} is not a registry change`);
  return d;
}
