// The epoch this server has reached and whom it voted for in it, on disk before any answer that
// depends on them: a server that restarts must not vote twice in one epoch, or two primaries
// could win the same epoch.
import { closeSync, promises as fs, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDirSync } from '@dpns/node-kit';

export const ELECTION_FILE = 'election.json';

export interface Election {
  epoch: number;
  /** The SID voted for in `epoch`, if any. */
  votedFor?: number;
}

export class ElectionState {
  private constructor(private readonly path: string, private current: Election) {}

  static async open(dataDir: string): Promise<ElectionState> {
    const path = join(dataDir, ELECTION_FILE);
    let text: string | undefined;
    try {
      text = await fs.readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text === undefined) return new ElectionState(path, { epoch: 0 });
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      v = undefined;
    }
    const e = v as Partial<Election> | undefined;
    if (typeof e?.epoch !== 'number' || !Number.isSafeInteger(e.epoch) || e.epoch < 0 || (e.votedFor !== undefined && !Number.isSafeInteger(e.votedFor))) {
      throw new Error(`${path} does not hold {"epoch": N, "votedFor"?: SID}; it was damaged. Deleting it is safe only if every other member is running.`);
    }
    return new ElectionState(path, { epoch: e.epoch, ...(e.votedFor === undefined ? {} : { votedFor: e.votedFor }) });
  }

  get epoch(): number {
    return this.current.epoch;
  }

  get votedFor(): number | undefined {
    return this.current.votedFor;
  }

  /**
   * Persists (write, fsync, rename, fsync of the directory) before it returns. Blocking on
   * purpose: it runs once per vote, on the critical path of an election, where the same calls
   * made asynchronously cost six thread-pool round trips behind whatever else the server is doing
   * (5–9 ms measured during a failover under load, against ~1.3 ms for the calls themselves).
   */
  save(next: Election): void {
    if (next.epoch < this.current.epoch) throw new Error(`epoch may not go back from ${this.current.epoch} to ${next.epoch}`);
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(next)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    fsyncDirSync(join(this.path, '..'));
    this.current = { ...next };
  }
}
