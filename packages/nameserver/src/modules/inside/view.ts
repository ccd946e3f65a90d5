// The module's read-only copy of the registry, inside its child process: the snapshot it was started
// with, then every durable change after it. The same Registry class and queries as the name
// server's, so `find` here answers as `findServices` does; entries are frozen as they arrive.
import type { EntryView, Location } from '@dpns/protocol';
import { find, listNames, states } from '../../registry/queries.js';
import { Registry } from '../../registry/registry.js';
import type { ChangeBatch, ModuleChange } from '../wire.js';
import { deepFreeze } from './freeze.js';

/** What `ctx.registry` offers a module. Every answer is frozen. */
export interface ModuleRegistry {
  /** The revision of the last change this copy has applied. */
  readonly revision: number;
  readonly size: number;
  /** The entry named `name` (a service or an alias), or undefined. */
  get(name: string): EntryView | undefined;
  /** Follows aliases from `name` to its service; throws NOT_FOUND or ALIAS_CYCLE. */
  resolve(name: string): { service: EntryView; chain: readonly string[] };
  /** As `findServices` (without launching): a name must be running (else NOT_RUNNING); a pattern answers the running matches. */
  find(nameOrPattern: string): readonly Location[];
  /** Names matching a pattern (default every name), in name order. */
  list(pattern?: string): readonly string[];
  /** Entries matching a pattern, as `serviceState` answers. */
  entries(pattern?: string): readonly EntryView[];
}

export class RegistryView {
  private readonly reg = new Registry();
  /** The face handed to the module: closures over the copy, never the copy itself. */
  readonly facade: ModuleRegistry;

  constructor() {
    const reg = this.reg;
    this.facade = Object.freeze({
      get revision() {
        return reg.revision;
      },
      get size() {
        return reg.size;
      },
      get: (name: string) => reg.get(String(name)),
      resolve: (name: string) => {
        const { service, chain } = reg.resolve(String(name));
        return Object.freeze({ service, chain: Object.freeze(chain) });
      },
      find: (nameOrPattern: string) => deepFreeze(find(reg, String(nameOrPattern))),
      list: (pattern = '*') => Object.freeze(listNames(reg, String(pattern))),
      entries: (pattern = '*') => Object.freeze(states(reg, String(pattern))),
    });
  }

  /** Loads the snapshot (entries as of `revision`). */
  load(revision: number, entries: EntryView[]): void {
    for (const e of entries) deepFreeze(e);
    this.reg.load({ revision, entries });
  }

  /**
   * Applies one revision's changes and returns them as the module's onChange sees them; a
   * revision the snapshot already holds is skipped (the snapshot may be newer than the feed).
   */
  apply(batch: ChangeBatch): ModuleChange[] {
    if (batch.revision <= this.reg.revision) return [];
    deepFreeze(batch.changes);
    this.reg.apply(batch.changes.map((c) => (c.type === 'put' && c.entry !== undefined ? { t: 'put', e: c.entry } : { t: 'del', n: c.name })), batch.revision);
    return batch.changes;
  }
}
