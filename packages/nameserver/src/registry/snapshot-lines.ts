// A registry snapshot as the elements of a line-per-element snapshot file (storage format 2):
// first a head with the revision, the epoch and how many elements of each kind follow, then the
// entries, tickets, requests, agents and joins in that order. Written a batch at a time, so the
// whole registry is never one string; read back element by element, so restart never parses one.
import type { EntryView } from '@dpns/protocol';
import type { RegistrySnapshot } from './registry.js';

const BATCH = 2000;

interface Head {
  revision: number;
  epoch?: number;
  entries: number;
  tickets?: number;
  requests?: number;
  agents?: number;
  joins?: number;
}

/**
 * The snapshot's elements in batches of complete lines. The arrays are read as they are when
 * `snap` was taken (Registry.snapshot() copies them, and entries are replaced, never changed in
 * place), so batches asked for later still describe that moment.
 */
export async function* snapshotLines(snap: RegistrySnapshot): AsyncGenerator<string> {
  const head: Head = { revision: snap.revision, ...(snap.epoch === undefined ? {} : { epoch: snap.epoch }), entries: snap.entries.length };
  if (snap.tickets !== undefined) head.tickets = snap.tickets.length;
  if (snap.requests !== undefined) head.requests = snap.requests.length;
  if (snap.agents !== undefined) head.agents = snap.agents.length;
  if (snap.joins !== undefined) head.joins = snap.joins.length;
  yield `${JSON.stringify(head)}\n`;
  for (const items of [snap.entries, snap.tickets, snap.requests, snap.agents, snap.joins]) {
    if (items === undefined) continue;
    for (let k = 0; k < items.length; k += BATCH) {
      let batch = '';
      for (let j = k; j < Math.min(k + BATCH, items.length); j++) batch += `${JSON.stringify(items[j])}\n`;
      yield batch;
    }
  }
}

/**
 * The registry snapshot a snapshot file held: a format-2 file's array of elements (checked
 * against its head's counts), or a format-1 file's object as it was stored.
 */
export function registrySnapshotOf(state: unknown): RegistrySnapshot {
  if (!Array.isArray(state)) {
    if (typeof state !== 'object' || state === null || !Array.isArray((state as { entries?: unknown }).entries)) {
      throw new Error('the snapshot is not a registry snapshot; the data directory belongs to something else');
    }
    return state as RegistrySnapshot;
  }
  const head = state[0] as Partial<Head> | undefined;
  if (typeof head !== 'object' || head === null || typeof head.revision !== 'number' || typeof head.entries !== 'number') {
    throw new Error('the snapshot has no registry head; the data directory belongs to something else');
  }
  let at = 1;
  const take = <T>(n: number | undefined): T[] | undefined => {
    if (n === undefined) return undefined;
    const part = state.slice(at, at + n) as T[];
    at += n;
    return part;
  };
  const snap: RegistrySnapshot = { revision: head.revision, entries: take<EntryView>(head.entries) ?? [] };
  const tickets = take<NonNullable<RegistrySnapshot['tickets']>[number]>(head.tickets);
  const requests = take<NonNullable<RegistrySnapshot['requests']>[number]>(head.requests);
  const agents = take<NonNullable<RegistrySnapshot['agents']>[number]>(head.agents);
  const joins = take<NonNullable<RegistrySnapshot['joins']>[number]>(head.joins);
  if (at !== state.length) throw new Error(`the snapshot's head counts ${at - 1} elements, the file has ${state.length - 1}`);
  if (tickets !== undefined) snap.tickets = tickets;
  if (head.epoch !== undefined) snap.epoch = head.epoch;
  if (requests !== undefined) snap.requests = requests;
  if (agents !== undefined) snap.agents = agents;
  if (joins !== undefined) snap.joins = joins;
  return snap;
}
