// A registry snapshot as the lines of a line-per-value snapshot file (storage formats 2 and 3):
// first a head with the revision, the epoch and how many lines of each kind follow, then the
// entries, tickets, requests, agents and joins in that order. Written a batch at a time, so the
// whole registry is never one string. Format 3 (written now) stores the entries in name order;
// at load the registry finds a plain service by its name's bytes in its line and holds the entry
// as the line's number, decoded and parsed only when the entry is first read (Registry.load,
// PlainNameIndex), so a restart builds neither an object nor a string per entry, not even for its
// name, nor a sort of the names.
import type { EntryView } from '@dpns/protocol';
import { SnapshotLines } from '../storage/snapshot-stream.js';
import { SERVICE_PREFIX } from './service-line.js';
import { isClusterMembers, type ClusterMembers } from './cluster-members.js';
import type { HeldEntries, HeldEntry, LoadableSnapshot, MarkedNames, RegistryImage, RegistrySnapshot } from './registry.js';

const BATCH = 2000;
/**
 * A batch also ends once it has taken this long to make. Each batch holds the event loop, and a
 * write waits for one at each of its steps (its request, its fsync, a backup's acknowledgement):
 * batches of 2,000 parsed entries (~4 ms) made every write ~13 ms while a snapshot was made.
 */
export const BATCH_MS = 1;
/** Entries made between looks at the clock. */
export const CLOCK_EVERY = 64;

interface Head {
  revision: number;
  epoch?: number;
  entries: number;
  tickets?: number;
  requests?: number;
  agents?: number;
  joins?: number;
  /** The cluster's configuration (small: it goes in the head, not counted in the lines). */
  cluster?: ClusterMembers;
  /**
   * Names of services that may have a health check, that are unhealthy, that may have an idle
   * stop: the registry's indexes of them, so a restart need not search the entries held as text
   * (absent from files written before; those entries are then searched).
   */
  checked?: string[];
  unhealthy?: string[];
  idle?: string[];
  /** Names of session advertisements: a restart parses their lines and need not search every other line for `"session"`. */
  sessions?: string[];
}

/**
 * The image's lines in batches of complete lines. Entries are read from the image as their
 * batch is made (it keeps the ones changed meanwhile as they were), so the batches describe the
 * revision the image was taken at.
 */
export async function* snapshotLines(image: RegistryImage): AsyncGenerator<string> {
  yield headLine(image);
  let batch = '';
  let inBatch = 0;
  let started = performance.now();
  for (const run of image.names) {
    for (const name of run) {
      batch += `${entryText(image, name, image.entry(name))}\n`;
      if (++inBatch === BATCH || (inBatch % CLOCK_EVERY === 0 && performance.now() - started >= BATCH_MS)) {
        yield batch;
        batch = '';
        inBatch = 0;
        started = performance.now();
      }
    }
  }
  if (batch !== '') yield batch;
  yield* tableLines(image);
}

/** The image's head line: its revision, epoch, counts and small tables' names. */
export function headLine(image: RegistryImage): string {
  const head: Head = {
    revision: image.revision, epoch: image.epoch, entries: image.nameCount,
    tickets: image.tickets.length, requests: image.requests.ids.length, agents: image.agents.length, joins: image.joins.length,
    ...(image.cluster === undefined ? {} : { cluster: image.cluster }),
    checked: image.marked.checked, unhealthy: image.marked.unhealthy, idle: image.marked.idle, sessions: image.marked.sessions,
  };
  return `${JSON.stringify(head)}\n`;
}

/** The lines after the entries: tickets, requests, agents and joins, in batches. */
export function* tableLines(image: RegistryImage): Generator<string> {
  const { tickets, requests, agents, joins } = image;
  yield* valueLines(tickets.length, (j) => tickets[j]);
  yield* valueLines(requests.ids.length, (j) => [requests.ids[j], requests.revisions[j]]);
  yield* valueLines(agents.length, (j) => agents[j]);
  yield* valueLines(joins.length, (j) => joins[j]);
}

/** The entry line's text for `e` as entry() gave it for `name`; an object is held as that text from now on where it can be. */
function entryText(image: RegistryImage, name: string, e: HeldEntry): string {
  if (typeof e === 'string') return e;
  const text = JSON.stringify(e);
  image.heldAsText(name, e, text);
  return text;
}

/** `count` values as lines of JSON, a batch at a time. */
function* valueLines(count: number, value: (j: number) => unknown): Generator<string> {
  for (let k = 0; k < count; k += BATCH) {
    let batch = '';
    for (let j = k; j < Math.min(k + BATCH, count); j++) batch += `${JSON.stringify(value(j))}\n`;
    yield batch;
  }
}

/**
 * The registry snapshot a snapshot file held: a format-3 file's lines (entries held as text
 * where they can be), a format-2 file's array of values (checked against its head's counts), or
 * a format-1 file's object as it was stored.
 */
export function registrySnapshotOf(state: unknown): LoadableSnapshot {
  if (state instanceof SnapshotLines) return fromLines(state);
  if (!Array.isArray(state)) {
    if (typeof state !== 'object' || state === null || !Array.isArray((state as { entries?: unknown }).entries)) {
      throw new Error('the snapshot is not a registry snapshot; the data directory belongs to something else');
    }
    return state as RegistrySnapshot;
  }
  const values: readonly unknown[] = state;
  return assemble(values[0], values.length, (from, to) => values.slice(from, to) as EntryView[], (from, to) => values.slice(from, to));
}

function fromLines(lines: SnapshotLines): LoadableSnapshot {
  let head: unknown;
  try {
    head = lines.count === 0 ? undefined : JSON.parse(lines.line(0));
  } catch {
    head = undefined;
  }
  const marked = markedNames(head);
  const entries = (from: number, to: number): HeldEntries => {
    // The registry reads the lines as it needs them (Registry.load).
    if (marked !== undefined) return { lines, from, to, marked };
    // A file written before its head listed names: each line is searched as text.
    const names: string[] = new Array<string>(to - from);
    const held: HeldEntry[] = new Array<HeldEntry>(to - from);
    for (let k = from; k < to; k++) {
      const line = lines.line(k);
      const name = plainServiceName(line);
      const e = name === undefined ? (JSON.parse(line) as EntryView) : undefined;
      names[k - from] = e === undefined ? (name as string) : e.name;
      held[k - from] = e ?? line;
    }
    return { names, held };
  };
  return assemble(head, lines.count, entries, (from, to) => Array.from({ length: to - from }, (_, j) => JSON.parse(lines.line(from + j)) as unknown));
}

/** The head's lists of names for the per-kind indexes and the session advertisements, when it has all four (a file written before them has none). */
function markedNames(head: unknown): MarkedNames | undefined {
  const h = head as Partial<Head> | undefined;
  const list = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (typeof h !== 'object' || h === null || !list(h.checked) || !list(h.unhealthy) || !list(h.idle) || !list(h.sessions)) return undefined;
  return { checked: h.checked, unhealthy: h.unhealthy, idle: h.idle, sessions: h.sessions };
}

/**
 * The name of a plain service's line, sliced out of it; undefined for any other line, which is
 * parsed. An alias's line holds `"alias"` and a session advertisement's `"session"`
 * (JSON.stringify writes those values so, and inside a string a quote is always escaped), so a
 * line with neither is neither; a line that merely mentions one is parsed, which costs only time.
 * So is a line whose name has an escape in it, or that does not start as the registry's services do.
 */
function plainServiceName(line: string): string | undefined {
  if (line.includes('"alias"') || line.includes('"session"')) return undefined;
  return serviceName(line);
}

/** The name of a line that starts as the registry's services do, when it has no escape in it; undefined otherwise. */
function serviceName(line: string): string | undefined {
  if (!line.startsWith(SERVICE_PREFIX)) return undefined;
  const end = line.indexOf('"', SERVICE_PREFIX.length);
  if (end < 0 || line.lastIndexOf('\\', end) >= SERVICE_PREFIX.length) return undefined;
  // Parsed rather than sliced: a slice would keep to the line's text, and V8 compares and hashes
  // such strings more slowly, which every lookup and insert of the name index then pays.
  return JSON.parse(line.slice(SERVICE_PREFIX.length - 1, end + 1)) as string;
}

/**
 * A line-per-value snapshot from its head (the first value) and its `total` values: the
 * sections the head counts, read by `entries` and `values` (from, to: positions in the file).
 */
function assemble<E extends EntryView[] | HeldEntries>(
  head: unknown, total: number, entries: (from: number, to: number) => E, values: (from: number, to: number) => unknown[],
): Omit<RegistrySnapshot, 'entries'> & { entries: E } {
  const h = head as Partial<Head> | undefined;
  if (typeof h !== 'object' || h === null || typeof h.revision !== 'number' || typeof h.entries !== 'number') {
    throw new Error('the snapshot has no registry head; the data directory belongs to something else');
  }
  const counted = 1 + h.entries + (h.tickets ?? 0) + (h.requests ?? 0) + (h.agents ?? 0) + (h.joins ?? 0);
  if (counted !== total) throw new Error(`the snapshot's head counts ${counted - 1} elements, the file has ${total - 1}`);
  let at = 1 + h.entries;
  const take = <T>(n: number | undefined): T[] | undefined => {
    if (n === undefined) return undefined;
    at += n;
    return values(at - n, at) as T[];
  };
  const snap: Omit<RegistrySnapshot, 'entries'> & { entries: E } = { revision: h.revision, entries: entries(1, 1 + h.entries) };
  const tickets = take<NonNullable<RegistrySnapshot['tickets']>[number]>(h.tickets);
  const requests = take<NonNullable<RegistrySnapshot['requests']>[number]>(h.requests);
  const agents = take<NonNullable<RegistrySnapshot['agents']>[number]>(h.agents);
  const joins = take<NonNullable<RegistrySnapshot['joins']>[number]>(h.joins);
  if (h.epoch !== undefined) snap.epoch = h.epoch;
  if (tickets !== undefined) snap.tickets = tickets;
  if (requests !== undefined) snap.requests = requests;
  if (agents !== undefined) snap.agents = agents;
  if (joins !== undefined) snap.joins = joins;
  if (isClusterMembers(h.cluster)) snap.cluster = h.cluster;
  return snap;
}
