// A module's own data: JSON values by key in `<data-dir>/modules/<prefix>.json`, kept by the
// name server for the module's child process, which has no file system rights of its own: the
// child holds a copy for reads and sends its writes here (inside/store-mirror.ts). Every write
// replaces the file atomically (temporary file, fsync, rename, fsync of the directory), so a
// crash leaves the old file or the new one, never half of each. Writes that arrive while one is
// in progress are folded into the next, so a burst costs two writes.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DpnsError } from '@dpns/protocol';
import { replaceFileDurably } from '@dpns/node-kit';
import { storeApi, type ModuleStoreApi } from './inside/store-mirror.js';

const stringify = JSON.stringify;
const parse = JSON.parse;

/**
 * The write in progress per store file: a module restarted (or reloaded) while its old child's
 * last writes are still going to disk reads the file only once they are there.
 */
const draining = new Map<string, Promise<void>>();

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export class ModuleStore {
  /** key → the value's JSON text: a `get` parses a fresh copy, so the module never aliases the stored value. */
  private readonly data = new Map<string, string>();
  private bytes = 2;
  private waiting: Waiter[] = [];
  private writing: Promise<void> | undefined;
  readonly api: ModuleStoreApi;

  private constructor(private readonly file: string, private readonly maxBytes: number) {
    this.api = storeApi(this.data, (key, value) => this.set(key, value), (key) => this.remove(key));
  }

  /** Reads the store file; a missing one is an empty store, a damaged one refuses to load. */
  static async open(file: string, maxBytes: number): Promise<ModuleStore> {
    await draining.get(file)?.catch(() => undefined);
    const store = new ModuleStore(file, maxBytes);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw new Error(`cannot read the module's store ${file}: ${(err as Error).message}`);
    }
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (err) {
      throw new Error(`the module's store ${file} is not valid JSON (${(err as Error).message}); move it away to start empty`);
    }
    const data = (doc as { data?: unknown } | null)?.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`the module's store ${file} has no "data" object; move it away to start empty`);
    for (const [k, v] of Object.entries(data)) store.data.set(k, stringify(v));
    store.bytes = text.length;
    return store;
  }

  /** Resolves once every write asked for so far is on disk. */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing.catch(() => undefined);
  }

  /** The whole store as its file holds it: what a module's child is started with. */
  document(): string {
    const parts: string[] = [];
    for (const [k, t] of this.data) parts.push(`${stringify(k)}:${t}`);
    return `{"version":1,"data":{${parts.join(',')}}}\n`;
  }

  private set(key: string, value: unknown): Promise<void> {
    let t: string | undefined;
    try {
      t = stringify(value);
    } catch (err) {
      return Promise.reject(new DpnsError('INVALID_PARAMS', `store.set(${stringify(key)}): the value cannot be stored as JSON: ${(err as Error).message}`));
    }
    if (t === undefined) return Promise.reject(new DpnsError('INVALID_PARAMS', `store.set(${stringify(key)}): the value cannot be stored as JSON (undefined or a function)`));
    return this.setJson(key, t);
  }

  /**
   * Stores `t`, the JSON text of a value, under `key`; resolves once it is on disk. The text
   * must already be known to be JSON (wire.ts checks what a child sends). Refusals reject with
   * INVALID_PARAMS or LIMIT_EXCEEDED.
   */
  setJson(key: string, t: string): Promise<void> {
    try {
      checkKey(key);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const old = this.data.get(key);
    const size = this.bytes + t.length - (old === undefined ? -(stringify(key).length + 2) : old.length);
    if (size > this.maxBytes) {
      return Promise.reject(new DpnsError('LIMIT_EXCEEDED', `store.set(${stringify(key)}): the store would grow to ${size} bytes, over its limit of ${this.maxBytes}`));
    }
    this.data.set(key, t);
    this.bytes = size;
    return this.persist();
  }

  /** Removes a key; resolves (true when it existed) once that is on disk. */
  remove(key: string): Promise<boolean> {
    try {
      checkKey(key);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const old = this.data.get(key);
    if (old === undefined) return this.persist().then(() => false);
    this.data.delete(key);
    this.bytes -= old.length + stringify(key).length + 2;
    return this.persist().then(() => true);
  }

  /** Queues a write of the whole store; one write covers every change made before it starts. */
  private persist(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (this.writing === undefined) {
        const w = this.drain();
        this.writing = w;
        draining.set(this.file, w);
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      try {
        await this.writeFile();
        for (const w of batch) w.resolve();
      } catch (err) {
        for (const w of batch) w.reject(new DpnsError('UNAVAILABLE', `the module's store could not be written: ${(err as Error).message}`));
      }
    }
    this.writing = undefined;
    draining.delete(this.file);
  }

  private async writeFile(): Promise<void> {
    const text = this.document();
    const dir = dirname(this.file);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await replaceFileDurably(this.file, text, { temp: `${this.file}.tmp` });
  }
}

function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > 256) {
    throw new DpnsError('INVALID_PARAMS', `a store key must be a string of 1 to 256 characters, got ${typeof key === 'string' ? `${key.length} characters` : typeof key}`);
  }
}
