// The ledger: every process this agent launched and still tracks, on disk in
// <stateDir>/ledger.json, so that a kill after an agent restart can still reach it, and a kill of
// anything else can never reach anything.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFileDurably } from '@dpns/node-kit';
import { processIdentity } from './proc.js';
import { Serial } from './serial.js';
import { parseLedgerEntry, type AgentLedgerEntry } from './wire.js';

/** How many pruned entries are remembered, so a kill of one that just died says "already gone". */
const RECENTLY_GONE = 1024;

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
}

export class Ledger {
  private readonly byLaunch = new Map<string, AgentLedgerEntry>();
  private readonly gone = new Map<string, AgentLedgerEntry>();
  private readonly serial = new Serial();
  /** After close(), changes are kept in memory only: the agent is stopping and the file is left as it was. */
  private closed = false;

  private constructor(readonly path: string) {}

  /** Reads the ledger in `stateDir` (empty when there is none) and prunes what has died. */
  static async open(stateDir: string): Promise<Ledger> {
    const ledger = new Ledger(join(stateDir, 'ledger.json'));
    let text: string | undefined;
    try {
      text = await readFile(ledger.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined) {
      for (const entry of parseLedger(text, ledger.path)) ledger.byLaunch.set(entry.launchId, entry);
    }
    await ledger.prune();
    return ledger;
  }

  entries(): AgentLedgerEntry[] {
    return [...this.byLaunch.values()];
  }

  find(launchId: string): AgentLedgerEntry | undefined {
    return this.byLaunch.get(launchId);
  }

  /** An entry pruned or removed lately, for telling "already gone" from "never launched". */
  recentlyGone(launchId: string): AgentLedgerEntry | undefined {
    return this.gone.get(launchId);
  }

  /** Records a launch durably before its reply is sent. */
  add(entry: AgentLedgerEntry): Promise<void> {
    return this.serial.run(async () => {
      this.byLaunch.set(entry.launchId, entry);
      await this.save();
    });
  }

  remove(launchId: string): Promise<void> {
    return this.serial.run(async () => {
      const entry = this.byLaunch.get(launchId);
      if (entry === undefined) return;
      this.byLaunch.delete(launchId);
      this.rememberGone(entry);
      await this.save();
    });
  }

  /** Drops entries whose process has exited (or whose pid now names another process). */
  prune(): Promise<AgentLedgerEntry[]> {
    return this.serial.run(async () => {
      const dead: AgentLedgerEntry[] = [];
      for (const entry of this.byLaunch.values()) {
        if ((await processIdentity(entry.pid, entry.startTime)) !== 'alive') dead.push(entry);
      }
      for (const entry of dead) {
        this.byLaunch.delete(entry.launchId);
        this.rememberGone(entry);
      }
      if (dead.length > 0) await this.save();
      return dead;
    });
  }

  /** Waits for writes in progress; later changes (a service exiting after the agent stopped) are not written. */
  async close(): Promise<void> {
    await this.serial.run(async () => {
      this.closed = true;
    });
  }

  private rememberGone(entry: AgentLedgerEntry): void {
    this.gone.set(entry.launchId, entry);
    if (this.gone.size > RECENTLY_GONE) {
      const oldest = this.gone.keys().next().value;
      if (oldest !== undefined) this.gone.delete(oldest);
    }
  }

  private async save(): Promise<void> {
    if (this.closed) return;
    await replaceFileDurably(this.path, `${JSON.stringify({ version: 1, entries: this.entries() }, null, 1)}\n`);
  }
}

function parseLedger(text: string, path: string): AgentLedgerEntry[] {
  const fix = `move it aside to start with an empty ledger (the processes it lists can then no longer be killed through dpns)`;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new LedgerError(`ledger ${path} is not valid JSON (${(e as Error).message}); ${fix}`);
  }
  const o = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  if (o === undefined || o.version !== 1 || !Array.isArray(o.entries)) {
    throw new LedgerError(`ledger ${path} is not a version 1 ledger ({"version":1,"entries":[...]}); ${fix}`);
  }
  return o.entries.map((e, i) => {
    try {
      return parseLedgerEntry(e, `entries[${i}]`);
    } catch (err) {
      throw new LedgerError(`ledger ${path}: ${(err as Error).message}; ${fix}`);
    }
  });
}
