// `ctx.store` inside the child: a copy of the module's store for reads, kept in step with the
// name server's, which alone writes the file (the child has no file system rights). A write
// changes the copy at once and resolves once the name server says it is on disk.
import { DpnsError } from '@dpns/protocol';

/** What `ctx.store` offers a module. */
export interface ModuleStoreApi {
  /** A copy of the value under `key`, or undefined. */
  get(key: string): unknown;
  has(key: string): boolean;
  keys(): string[];
  /** Stores a JSON value; resolves once it is on disk. */
  set(key: string, value: unknown): Promise<void>;
  /** Removes a key; resolves (true when it existed) once that is on disk. */
  delete(key: string): Promise<boolean>;
}

/** Sends one write to the name server: the value's JSON text, or null to delete. */
export type SendStoreWrite = (id: number, key: string, json: string | null) => void;

// Taken before any module code runs: a module that replaces them cannot change what is stored.
const stringify = JSON.stringify;
const parse = JSON.parse;

/**
 * The store as a module sees it, over a map of key → the value's JSON text: `get` parses a fresh
 * copy, so a module never aliases a stored value. Shared by the module's mirror and the server's store.
 */
export function storeApi(
  data: ReadonlyMap<string, string>, set: (key: string, value: unknown) => Promise<void>, remove: (key: string) => Promise<boolean>,
): ModuleStoreApi {
  return Object.freeze({
    get: (key: string) => {
      const t = data.get(String(key));
      return t === undefined ? undefined : (parse(t) as unknown);
    },
    has: (key: string) => data.has(String(key)),
    keys: () => [...data.keys()],
    set,
    delete: remove,
  });
}

export class StoreMirror {
  /** key → the value's JSON text: a `get` parses a fresh copy, so the module never aliases the stored value. */
  private readonly data = new Map<string, string>();
  private bytes: number;
  private readonly pending = new Map<number, { resolve(): void; reject(err: unknown): void }>();
  private nextId = 1;
  private drained: (() => void) | undefined;
  readonly api: ModuleStoreApi;

  /** `document` is the store as the name server holds it (`{"version":1,"data":{...}}`). */
  constructor(document: string, private readonly maxBytes: number, private readonly send: SendStoreWrite) {
    const data = (parse(document) as { data?: Record<string, unknown> }).data ?? {};
    for (const [k, v] of Object.entries(data)) this.data.set(k, stringify(v));
    this.bytes = document.length;
    this.api = storeApi(this.data, (key, value) => this.set(key, value), (key) => this.remove(key));
  }

  /** The name server's answer to write `id`. */
  settled(id: number, error?: { code: string; message: string }): void {
    const w = this.pending.get(id);
    this.pending.delete(id);
    if (error === undefined) w?.resolve();
    else w?.reject(new DpnsError(error.code as never, error.message));
    if (this.pending.size === 0) this.drained?.();
  }

  /** Resolves once every write asked for so far is answered. */
  flush(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }

  private set(key: unknown, value: unknown): Promise<void> {
    const bad = keyProblem(key);
    if (bad !== undefined) return Promise.reject(bad);
    const k = key as string;
    let t: string | undefined;
    try {
      t = stringify(value);
    } catch (err) {
      return Promise.reject(new DpnsError('INVALID_PARAMS', `store.set(${stringify(k)}): the value cannot be stored as JSON: ${(err as Error).message}`));
    }
    if (t === undefined) return Promise.reject(new DpnsError('INVALID_PARAMS', `store.set(${stringify(k)}): the value cannot be stored as JSON (undefined or a function)`));
    const old = this.data.get(k);
    const size = this.bytes + t.length - (old === undefined ? -(stringify(k).length + 2) : old.length);
    if (size > this.maxBytes) {
      return Promise.reject(new DpnsError('LIMIT_EXCEEDED', `store.set(${stringify(k)}): the store would grow to ${size} bytes, over its limit of ${this.maxBytes}`));
    }
    this.data.set(k, t);
    this.bytes = size;
    return this.write(k, t);
  }

  private async remove(key: unknown): Promise<boolean> {
    const bad = keyProblem(key);
    if (bad !== undefined) throw bad;
    const k = key as string;
    const old = this.data.get(k);
    if (old !== undefined) {
      this.data.delete(k);
      this.bytes -= old.length + stringify(k).length + 2;
    }
    await this.write(k, null);
    return old !== undefined;
  }

  private write(key: string, json: string | null): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send(id, key, json);
    });
  }
}

function keyProblem(key: unknown): DpnsError | undefined {
  if (typeof key === 'string' && key.length > 0 && key.length <= 256) return undefined;
  return new DpnsError('INVALID_PARAMS', `a store key must be a string of 1 to 256 characters, got ${typeof key === 'string' ? `${key.length} characters` : typeof key}`);
}
