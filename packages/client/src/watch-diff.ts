// What changed between the entries a watch knew before a reconnect and the entries the server
// has now: the synthetic events a re-subscribed watch emits so its consumer misses nothing.
import type { EntryView } from '@dpns/protocol';

export interface EntryChange {
  type: 'put' | 'delete';
  name: string;
  entry?: EntryView;
}

/** Puts for new or changed entries, deletes for vanished ones, in name order. */
export function diffEntries(before: ReadonlyMap<string, EntryView>, after: ReadonlyMap<string, EntryView>): EntryChange[] {
  const out: EntryChange[] = [];
  for (const [name, entry] of after) {
    const old = before.get(name);
    if (old === undefined || canonical(old) !== canonical(entry)) out.push({ type: 'put', name, entry });
  }
  for (const name of before.keys()) if (!after.has(name)) out.push({ type: 'delete', name });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** JSON with sorted keys, so two equal entries compare equal whatever their key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_key, value: unknown) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) sorted[k] = (value as Record<string, unknown>)[k];
    return sorted;
  });
}
