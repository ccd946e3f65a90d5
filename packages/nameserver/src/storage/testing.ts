// Test-only helpers for the storage tests: throwaway data directories and a logger that remembers.
import { mkdtemp, open, readdir, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Recovered, StoreLogger, StoreOptions } from './store.js';
import { Store } from './store.js';

/** One logged line. */
export interface LogLine {
  level: 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown>;
}

/** A StoreLogger that keeps every line for assertions. */
export class MemoryLogger implements StoreLogger {
  readonly lines: LogLine[] = [];
  info(msg: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'info', msg, fields });
  }
  warn(msg: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'warn', msg, fields });
  }
  error(msg: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'error', msg, fields });
  }
  at(level: LogLine['level']): LogLine[] {
    return this.lines.filter((l) => l.level === level);
  }
}

/** A temporary data directory whose stores are closed, and which is removed, when the test ends. */
export class Scratch {
  readonly logger = new MemoryLogger();
  private readonly stores: Store[] = [];

  private constructor(readonly dir: string) {}

  static async create(t: TestContext): Promise<Scratch> {
    const scratch = new Scratch(await mkdtemp(join(tmpdir(), 'dpns-storage-')));
    t.after(async () => {
      for (const s of scratch.stores) await s.close();
      await rm(scratch.dir, { recursive: true, force: true });
    });
    return scratch;
  }

  get walDir(): string {
    return join(this.dir, 'wal');
  }

  /** Opens a store on this directory with the scratch logger. */
  async open(opts: Partial<StoreOptions> = {}): Promise<{ store: Store; recovered: Recovered }> {
    const opened = await Store.open({ dir: this.dir, logger: this.logger, ...opts });
    this.stores.push(opened.store);
    return opened;
  }

  /** Paths of the WAL segment files, oldest first. */
  async segments(): Promise<string[]> {
    return (await readdir(this.walDir)).filter((n) => n.endsWith('.log')).sort().map((n) => join(this.walDir, n));
  }
}

/** Appends every item and waits until all are durable. */
export async function appendAll(store: Store, items: unknown[]): Promise<number[]> {
  const pending = items.map((d) => store.append(d));
  await Promise.all(pending.map((p) => p.durable));
  return pending.map((p) => p.index);
}

/** 1, 2, ..., n */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, k) => from + k);
}

/**
 * Changes one digit of the first port in the snapshot file at `path` (1 for 2, or 2 for 1): its
 * lines still parse, its CRC-32 no longer matches.
 */
export async function corruptOnePortDigit(path: string): Promise<void> {
  const bytes = await readFile(path);
  const at = bytes.indexOf('"port":') + 8;
  bytes[at] = bytes[at] === 0x31 ? 0x32 : 0x31;
  await writeFile(path, bytes);
}

/**
 * Until the test ends, `seen` is called (and awaited) with the handle and arguments of every
 * FileHandle `method` call in the process, before the real call: how a test sees the flushes and
 * truncations the storage code makes on real files. `dir` holds the throwaway file it takes the
 * class from.
 */
export async function spyOnFileHandles<K extends 'datasync' | 'truncate'>(
  t: TestContext, dir: string, method: K, seen: (fh: FileHandle, args: Parameters<FileHandle[K]>) => unknown,
): Promise<void> {
  const probePath = join(dir, '.filehandle-probe');
  const probe = await open(probePath, 'w');
  const proto = Object.getPrototypeOf(probe) as Record<K, (this: FileHandle, ...args: Parameters<FileHandle[K]>) => Promise<void>>;
  await probe.close();
  await rm(probePath);
  const real = proto[method];
  proto[method] = async function (this: FileHandle, ...args: Parameters<FileHandle[K]>) {
    await seen(this, args);
    return real.apply(this, args);
  };
  t.after(() => {
    proto[method] = real;
  });
}
