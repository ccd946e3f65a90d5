// A backup's copy of the state: records from the primary go to the local log first (fsynced),
// then into the registry, and on to watchers and modules; a snapshot from the primary replaces
// the whole of it. What the Follower calls; the server supplies where things live.
import type { Committer } from '../committer.js';
import type { Logger } from '../log.js';
import { isLogRecord, type Change } from '../registry/ops.js';
import type { Registry, RegistrySnapshot } from '../registry/registry.js';
import { Store } from '../storage/store.js';
import type { ReplicaSink } from './follower.js';
import type { LogTail } from './log-tail.js';
import type { LogPosition, WireRecord } from './peer-messages.js';

export interface ReplicaDeps {
  dataDir: string;
  log: Logger;
  registry: Registry;
  tail: LogTail;
  store(): Store | undefined;
  /** The store was replaced (a snapshot install); undefined while it is being rewritten. */
  setStore(s: Store | undefined): void;
  committer(): Committer | undefined;
  /** Closes every client connection, saying why. */
  dropClients(why: string): void;
  /** The disk failed: the server stops. */
  fatal(err: unknown): void;
}

export class Replica implements ReplicaSink {
  constructor(private readonly d: ReplicaDeps) {}

  position(): LogPosition {
    return { lastIndex: this.d.store()?.lastIndex ?? 0, lastEpoch: this.d.tail.lastEpoch };
  }

  applied(): number {
    return this.d.registry.revision;
  }

  async append(recs: WireRecord[]): Promise<void> {
    const store = this.d.store();
    if (store === undefined) throw new Error('the store is being replaced');
    let durable: Promise<void> = Promise.resolve();
    for (const r of recs) {
      if (!isLogRecord(r.d)) throw new Error(`record ${r.i} from the primary is not a registry change`);
      const a = store.append(r.d);
      if (a.index !== r.i) throw new Error(`record ${r.i} from the primary landed at index ${a.index}`);
      this.d.tail.push(r.i, r.d);
      durable = a.durable;
    }
    // A disk that fails a backup's write fails it for good, as on the primary: stop, and let a restart recover.
    await durable.catch((err: unknown) => {
      this.d.fatal(err);
      throw err;
    });
    const all: Change[] = [];
    for (const r of recs) all.push(...this.d.registry.applyRecord(r.d, r.i));
    const last = (recs.at(-1) as WireRecord).i;
    this.d.committer()?.settled(all, last);
  }

  async install(index: number, json: string): Promise<void> {
    const state = JSON.parse(json) as RegistrySnapshot;
    if (typeof state !== 'object' || state === null || !Array.isArray(state.entries) || state.revision !== index) {
      throw new Error(`the primary's snapshot at ${index} is not a registry state`);
    }
    await this.d.store()?.close();
    this.d.setStore(undefined);
    await Store.replaceWithSnapshot(this.d.dataDir, index, state);
    const { store } = await Store.open({ dir: this.d.dataDir, logger: this.d.log });
    this.d.setStore(store);
    this.d.registry.load(state);
    this.d.tail.reset(index, this.d.registry.epoch);
    this.d.committer()?.resetDurable(index, index);
    this.d.dropClients('this backup replaced its state with the primary\'s; watch again');
  }
}
