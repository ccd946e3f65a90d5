// The registry: entries by name, an ordered index for patterns, and alias back-links.
// It only applies ops and answers queries; the rules that produce ops live in rules.ts.
import { isClusterMembers, withChange, type ClusterMembers } from './cluster-members.js';
import { DpnsError, type EntryView, type Glob, type ServiceView } from '@dpns/protocol';
import { ChangedEntries } from './changed-entries.js';
import { EntryTable } from './entry-table.js';
import { OrderedNames } from './ordered-names.js';
import { PlainNameIndex, plainNameAt, type LineBytes } from './plain-name-index.js';
import type { AgentRecord, Change, JoinTokenRecord, LaunchTickets, LogRecord, Op } from './ops.js';

/** How many applied request ids are remembered (oldest forgotten first); retries come within seconds. */
export const REMEMBERED_REQUESTS = 100_000;

/** Longest alias chain followed; cycles are refused when made, this bounds a corrupt registry. */
export const MAX_ALIAS_DEPTH = 32;

export interface RegistrySnapshot {
  revision: number;
  entries: EntryView[];
  /** Launch tickets by service name. */
  tickets?: [string, LaunchTickets][];
  /** The epoch of the record at `revision`. */
  epoch?: number;
  /** The newest applied request ids with the revision that applied each, oldest first. */
  requests?: [string, number][];
  /** Agents trusted per host. */
  agents?: AgentRecord[];
  /** Unspent join tokens. */
  joins?: JoinTokenRecord[];
  /** The cluster's configuration, once a membership change was made (cluster-members.ts). */
  cluster?: ClusterMembers;
}

/**
 * An entry as the registry holds it: parsed, or the JSON text it was loaded from a snapshot as,
 * parsed the first time it is read. Only a service that no connection advertises is held as
 * text (it needs no index but the name's), so aliases and session advertisements are always parsed.
 */
export type HeldEntry = EntryView | string;

/**
 * An entry as the registry stores it: as an image hands it out (HeldEntry), or, until it is
 * first read, the number of its line in the snapshot file the registry was loaded from
 * (HeldEntries.lines): a restart makes no string for it but its name.
 */
export type LoadedEntry = HeldEntry | number;

/** A loaded snapshot file's entry lines, by number. */
export interface EntryLines {
  line(k: number): string;
}

/**
 * A snapshot's entries as a format-3 file gives them: the file's lines [from, to), in name order,
 * when its head lists the names each per-kind index holds (LineEntries); otherwise (a file
 * written before those lists) names and what to hold for each, found by a scan of the text.
 */
export type HeldEntries = LineEntries | NamedEntries;

/** The entry lines of a file whose head lists the per-kind indexes' names: the registry reads them as it needs them. */
export interface LineEntries {
  lines: EntryLines & LineBytes;
  from: number;
  to: number;
  marked: MarkedNames;
}

/** Entries of a file written before its head listed the per-kind indexes' names: parsed, or held as their lines' text. */
export interface NamedEntries {
  names: string[];
  held: HeldEntry[];
}

/**
 * Names the registry indexes by what their entry says, as a snapshot's head lists them, so that
 * a restart finds them without reading entries held as text (each may be a superset).
 */
export interface MarkedNames {
  /** Services that may have a health check. */
  checked: string[];
  /** Services that are `unhealthy`. */
  unhealthy: string[];
  /** Auto-start services that may have an idle stop. */
  idle: string[];
  /** Services a connection advertises or advertised (their lines are parsed at load, for the grace period and the strays). */
  sessions: string[];
}

/** A snapshot as read back from a file, ready for Registry.load(). */
export type LoadableSnapshot = Omit<RegistrySnapshot, 'entries'> & { entries: EntryView[] | HeldEntries };

/**
 * The registry at one revision, for a snapshot written a batch at a time: what is small is
 * copied at once, the entries are read as their batches are written, and an entry changed
 * meanwhile is read as it was (copied when it changes). release() when done.
 */
export interface RegistryImage {
  revision: number;
  epoch: number;
  /** Entry names in order, in runs (copies of the ordered index's, or runs of a loaded file's lines). */
  names: readonly Iterable<string>[];
  /** How many names `names` holds. */
  nameCount: number;
  /** The entry `name` (one of `names`) as it was when the image was taken. */
  entry(name: string): HeldEntry;
  /**
   * The entry `name` as it was when the image was taken (undefined: there was none), given
   * `latest`, its entry when the changes were taken with the image (Registry.takeChanged): that
   * one, unless the name was put or removed since.
   */
  entryAsTaken(name: string, latest: EntryView | undefined): HeldEntry | undefined;
  /**
   * A whole snapshot wrote entry `name` (as entry() gave it) as `text`: a plain service still
   * unchanged is held as that text from now on, until something reads it: a next snapshot
   * written whole copies the text instead of serialising the entry again (one made from the
   * snapshot before copies the file's line instead, and holds nothing: snapshot-merge.ts) (−12 % of the server's CPU a write at
   * a million names; the replaced objects are garbage until V8 collects them, so RSS after a burst
   * of writes is higher: docs/BENCHMARKS.md, History, 2026-12-05).
   */
  heldAsText(name: string, entry: EntryView, text: string): void;
  tickets: [string, LaunchTickets][];
  /** The remembered request ids and the revision each was written at, in the order they were remembered. */
  requests: { ids: string[]; revisions: number[] };
  agents: AgentRecord[];
  joins: JoinTokenRecord[];
  cluster: ClusterMembers | undefined;
  /** The per-kind indexes' names at the image's revision. */
  marked: MarkedNames;
  release(): void;
}

/** Entries that may differ from their lines in the last snapshot (Registry.takeChanged). */
export interface ChangedNames {
  /** Which registry they are of: a load() starts a new one, and names of an older one say nothing of it. */
  generation: number;
  /**
   * Each changed name's entry when they were taken, so a snapshot made from the one before need
   * not look each up among all the entries again (at a million names a cold lookup costs ~1.5 µs).
   * Undefined when more changed than are kept track of (snapshots kept failing): the next must
   * be written whole.
   */
  entries: ChangedEntries | undefined;
}

/**
 * Changes kept track of between two snapshots at most: as many as the registry has entries, and
 * at least this many (a name changed twice counts twice). Each change's entry is held with it, so
 * the list is kept no larger than the registry; snapshots normally come every eighth of its
 * records, so this is reached only while they keep failing (a snapshot is made from the one
 * before only when at most half the entries changed anyway: committer.ts), and the next snapshot
 * is then written whole.
 */
const MIN_CHANGED_TRACKED = 10_000;

/**
 * What one record is about to change, taken before it is applied: a record is applied before it
 * is durable, and a write that then fails for want of disk space is put back from this.
 */
export interface Undo {
  rev: number;
  epoch: number;
  /** The record's request id, and the revision it was remembered with before (undefined: not remembered). */
  rid?: { id: string; before: number | undefined };
  entries: Map<string, EntryView | undefined>;
  tickets: Map<string, LaunchTickets | undefined>;
  agents: Map<string, AgentRecord | undefined>;
  joins: Map<string, JoinTokenRecord | undefined>;
}

export class Registry {
  private readonly entries = new EntryTable<LoadedEntry>();
  /**
   * The lines of the snapshot file loaded last, which entries held as numbers are: dropped when
   * none is left (at a million names the file's 150 MB).
   */
  private lines: EntryLines | undefined;
  private readonly names = new OrderedNames();
  /** target name → names of aliases that point straight at it. */
  private readonly aliasesOf = new Map<string, Set<string>>();
  private readonly tickets = new Map<string, LaunchTickets>();
  /** host → the agent trusted there. */
  private readonly agents = new Map<string, AgentRecord>();
  /** token id → an unspent join token. */
  private readonly joins = new Map<string, JoinTokenRecord>();
  private rev = 0;
  private lastEpoch = 0;
  private members: ClusterMembers | undefined;
  /** Lost entries nobody keeps: a connection advertised them and went (stray-expiry.ts sweeps them). */
  private readonly strayNames = new Set<string>();
  /** Services whose advertiser is (or, lost, was) a connection. */
  private readonly sessionNames = new Set<string>();
  /** Services that may have a health check (static or in their spec); a superset while entries are held as text. */
  private readonly checkNames = new Set<string>();
  /** Auto-start services with an idle stop (the idle stopper reads only these); a superset while entries are held as text. */
  private readonly idleNames = new Set<string>();
  /** Services that are `unhealthy` (for /metrics, without a walk). */
  private readonly unhealthyNames = new Set<string>();
  /** Bumped by load(): an image taken before it no longer describes this registry. */
  private generation = 0;
  /** request id → the revision that applied it; in insertion order, so the oldest go first. */
  private readonly requests = new Map<string, number>();
  /** Told the name of every entry put or removed (a sliced scan that must end at one revision). */
  private readonly observers = new Set<(name: string) => void>();
  // Names put or removed since load() or the last takeChanged(), each with its entry now (undefined:
  // removed): every other entry is as a snapshot file taken then holds it (committer.ts makes the
  // next one from it). An entry parsed back from its text is not one: its line is still what the file holds.
  private changed: ChangedEntries | undefined = new ChangedEntries();

  /** Calls `fn` with the name of each entry put or removed from now on, until the returned stop is called. */
  observe(fn: (name: string) => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  /** The revision of the last applied change (the log index that made it). */
  get revision(): number {
    return this.rev;
  }

  /** The epoch of the last applied record. */
  get epoch(): number {
    return this.lastEpoch;
  }

  /** The revision that applied the write with this request id, if it is still remembered. */
  appliedRequest(rid: string): number | undefined {
    return this.requests.get(rid);
  }

  /** Applies one logged record: its ops, its epoch and its request id. */
  applyRecord(rec: LogRecord, index: number): Change[] {
    const changes = this.apply(rec.ops, index);
    // A configuration record changes no entry: only who is in the cluster.
    if (rec.config !== undefined) this.members = withChange(this.members, rec.config);
    if (rec.ep !== undefined && rec.ep > this.lastEpoch) this.lastEpoch = rec.ep;
    if (rec.rid !== undefined) {
      this.requests.set(rec.rid, index);
      if (this.requests.size > REMEMBERED_REQUESTS) this.requests.delete(this.requests.keys().next().value as string);
    }
    return changes;
  }

  /** The state `rec` would change, to put back with restore() if its write fails. */
  beforeImage(rec: LogRecord): Undo {
    const u: Undo = {
      rev: this.rev, epoch: this.lastEpoch, entries: new Map(), tickets: new Map(), agents: new Map(), joins: new Map(),
      ...(rec.rid === undefined ? {} : { rid: { id: rec.rid, before: this.requests.get(rec.rid) } }),
    };
    const keep = <K, V>(m: Map<K, V | undefined>, k: K, v: V | undefined): void => {
      if (!m.has(k)) m.set(k, v);
    };
    for (const op of rec.ops) {
      if (op.t === 'put') keep(u.entries, op.e.name, this.get(op.e.name));
      else if (op.t === 'del') {
        keep(u.entries, op.n, this.get(op.n));
        keep(u.tickets, op.n, this.tickets.get(op.n));
      } else if (op.t === 'tickets') keep(u.tickets, op.n, this.tickets.get(op.n));
      else if (op.t === 'agent') keep(u.agents, op.h, this.agents.get(op.h));
      else keep(u.joins, op.id, this.joins.get(op.id));
    }
    return u;
  }

  /**
   * Puts back what a record changed (records undone newest first). A request id that the record
   * pushed out of the remembered window stays forgotten: a retry that old is applied again.
   */
  restore(u: Undo): void {
    for (const [name, e] of u.entries) {
      if (e === undefined) this.remove(name);
      else this.put(e);
    }
    const back = <K, V>(m: Map<K, V>, before: Map<K, V | undefined>): void => {
      for (const [k, v] of before) {
        if (v === undefined) m.delete(k);
        else m.set(k, v);
      }
    };
    back(this.tickets, u.tickets);
    back(this.agents, u.agents);
    back(this.joins, u.joins);
    if (u.rid !== undefined) {
      if (u.rid.before === undefined) this.requests.delete(u.rid.id);
      else this.requests.set(u.rid.id, u.rid.before);
    }
    this.rev = u.rev;
    this.lastEpoch = u.epoch;
  }

  /** Names of `lost` entries that a connection advertised (not static, not auto-start): candidates for expiry. */
  strays(): ReadonlySet<string> {
    return this.strayNames;
  }

  /** Names of services that may have a health check: the health checker reads each (health/checker.ts). */
  checked(): ReadonlySet<string> {
    return this.checkNames;
  }

  /** Names of auto-start services that may have an idle stop (launch/idle-stopper.ts reads each). */
  idleStopping(): ReadonlySet<string> {
    return this.idleNames;
  }

  /** How many services are `unhealthy`. */
  get unhealthyCount(): number {
    return this.unhealthyNames.size;
  }

  /** Names of services a connection advertises (running) or advertised (lost). */
  sessionAdvertised(): ReadonlySet<string> {
    return this.sessionNames;
  }

  get size(): number {
    return this.entries.size;
  }

  /** How many entries of each kind there are (for /metrics; a walk, so not for hot paths). */
  countByKind(): { service: number; alias: number } {
    const out = { service: 0, alias: 0 };
    // Text is only ever a service's.
    for (const e of this.entries.values()) out[typeof e === 'object' ? e.kind : 'service']++;
    return out;
  }

  /** How `name`'s entry is held now: parsed, as text, or as its line in the loaded file (tests). */
  heldAs(name: string): 'parsed' | 'text' | 'line' | undefined {
    const e = this.entries.get(name);
    return e === undefined ? undefined : typeof e === 'object' ? 'parsed' : typeof e === 'string' ? 'text' : 'line';
  }

  /** Every entry, in no particular order (any held as text parsed on the way; do not apply ops while iterating). */
  *all(): Generator<EntryView> {
    for (const name of this.entries.keys()) yield this.get(name) as EntryView;
  }

  get(name: string): EntryView | undefined {
    const e = this.entries.get(name);
    if (e === undefined || typeof e === 'object') return e;
    const parsed = JSON.parse(this.textOf(e)) as EntryView;
    this.entries.set(name, parsed);
    this.released(e);
    return parsed;
  }

  /** Applies the ops of one logged record; returns what changed, for watchers. */
  apply(ops: readonly Op[], revision: number): Change[] {
    const changes: Change[] = [];
    for (const op of ops) {
      if (op.t === 'put') {
        this.put(op.e);
        changes.push({ type: 'put', name: op.e.name, entry: op.e });
      } else if (op.t === 'tickets') {
        if (op.v === null) this.tickets.delete(op.n);
        else this.tickets.set(op.n, op.v);
      } else if (op.t === 'agent') {
        if (op.v === null) this.agents.delete(op.h);
        else this.agents.set(op.h, op.v);
      } else if (op.t === 'join') {
        if (op.v === null) this.joins.delete(op.id);
        else this.joins.set(op.id, op.v);
      } else if (this.remove(op.n)) {
        this.tickets.delete(op.n);
        changes.push({ type: 'delete', name: op.n });
      }
    }
    if (revision > this.rev) this.rev = revision;
    return changes;
  }

  /** Entries whose names match, in name order, read from the ordered index's prefix range. */
  *select(glob: Glob): Generator<EntryView> {
    if (glob.isLiteral) {
      const e = this.get(glob.literalPrefix);
      if (e !== undefined) yield e;
      return;
    }
    for (const name of this.names.withPrefix(glob.literalPrefix)) {
      if (glob.match(name)) yield this.get(name) as EntryView;
    }
  }

  /**
   * One slice of a scan: the entries matching `glob` after the name `after` (from the start when
   * absent), until `deadline` (performance.now() milliseconds) passes. `next` is where to resume,
   * absent when the scan is complete.
   */
  selectSlice(glob: Glob, after: string | undefined, deadline: number): { entries: EntryView[]; next?: string } {
    const entries: EntryView[] = [];
    if (glob.isLiteral) {
      const e = after === undefined ? this.get(glob.literalPrefix) : undefined;
      return { entries: e === undefined ? [] : [e] };
    }
    let n = 0;
    for (const name of this.names.withPrefix(glob.literalPrefix, after)) {
      if (glob.match(name)) entries.push(this.get(name) as EntryView);
      // The clock is read every 32 names: a name costs at most ~10 µs to match.
      if ((++n & 31) === 0 && performance.now() >= deadline) return { entries, next: name };
    }
    return { entries };
  }

  /** The tickets of the current launch of `name`, if it was launched. */
  ticketsOf(name: string): LaunchTickets | undefined {
    return this.tickets.get(name);
  }

  /** The agent trusted for `host`, if one is enrolled. */
  agentOf(host: string): AgentRecord | undefined {
    return this.agents.get(host);
  }

  /** Every enrolled agent, by host name. */
  agentList(): AgentRecord[] {
    return [...this.agents.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  }

  /** An unspent join token. */
  joinToken(id: string): JoinTokenRecord | undefined {
    return this.joins.get(id);
  }

  /** Every unspent join token (expired ones too, until a new token prunes them). */
  joinTokens(): JoinTokenRecord[] {
    return [...this.joins.values()];
  }

  /** Names of aliases pointing straight at `name`. */
  aliasesTo(name: string): string[] {
    return [...(this.aliasesOf.get(name) ?? [])].sort();
  }

  /** The most alias links that lead to `name` from any alias pointing at it, directly or through others (0 for none). */
  linksInto(name: string): number {
    let deepest = 0;
    const walk = (at: string, depth: number): void => {
      if (depth > MAX_ALIAS_DEPTH) return; // a chain that long is refused before it is made; stop rather than trust it
      for (const a of this.aliasesOf.get(at) ?? []) {
        deepest = Math.max(deepest, depth + 1);
        walk(a, depth + 1);
      }
    };
    walk(name, 0);
    return deepest;
  }

  /**
   * Follows aliases from `name` to the service it stands for. Throws NOT_FOUND when a link
   * is missing; the chain is returned so callers can say how it resolved.
   */
  resolve(name: string): { service: ServiceView; chain: string[] } {
    const chain: string[] = [];
    let cur = name;
    for (let depth = 0; depth <= MAX_ALIAS_DEPTH; depth++) {
      const e = this.get(cur);
      if (e === undefined) {
        throw new DpnsError('NOT_FOUND', chain.length === 0 ? `no service named ${name}` : `alias ${chain.join(' -> ')} points at ${cur}, which does not exist`, {
          details: { name: cur },
        });
      }
      chain.push(cur);
      if (e.kind === 'service') return { service: e, chain };
      cur = e.target;
    }
    throw new DpnsError('ALIAS_CYCLE', `alias chain from ${name} is longer than ${MAX_ALIAS_DEPTH}`, { details: { name } });
  }

  /** How many alias links lead from `name` to a non-alias (0 for a service). */
  chainLength(name: string): number {
    let n = 0;
    let e = this.get(name);
    while (e?.kind === 'alias' && n <= MAX_ALIAS_DEPTH) {
      n++;
      e = this.get(e.target);
    }
    return n;
  }

  /** True when making `name` an alias of `target` would close a loop. */
  wouldCycle(name: string, target: string): boolean {
    let cur: string | undefined = target;
    for (let depth = 0; cur !== undefined && depth <= MAX_ALIAS_DEPTH + 1; depth++) {
      if (cur === name) return true;
      const e = this.get(cur);
      cur = e?.kind === 'alias' ? e.target : undefined;
    }
    return cur !== undefined;
  }

  snapshot(): RegistrySnapshot {
    return {
      // Text is parsed for this copy only: held parsed, the whole registry would stay twice its size.
      revision: this.rev, entries: Array.from(this.entries.values(), (e) => (typeof e === 'object' ? e : JSON.parse(this.textOf(e)) as EntryView)), tickets: [...this.tickets], epoch: this.lastEpoch, requests: [...this.requests],
      agents: [...this.agents.values()], joins: [...this.joins.values()], ...(this.members === undefined ? {} : { cluster: this.members }),
    };
  }

  /** The cluster's configuration, once a membership change was made (undefined: the bootstrap list's). */
  get clusterMembers(): ClusterMembers | undefined {
    return this.members;
  }

  /**
   * The registry as it is now, for a snapshot written a batch at a time (RegistryImage): the
   * names and the small tables are copied now; each entry changed before release() is kept as it
   * was, so the entries read later are still this revision's.
   */
  image(): RegistryImage {
    const before = new Map<string, LoadedEntry | undefined>();
    const stop = this.observe((name) => {
      if (!before.has(name)) before.set(name, this.entries.get(name));
    });
    const generation = this.generation;
    // Kept for the entries the image holds as lines, should the registry let them go meanwhile.
    const lines = this.lines;
    return {
      revision: this.rev, epoch: this.lastEpoch, names: this.names.copyRuns(), nameCount: this.names.size,
      entry: (name) => {
        if (this.generation !== generation) throw new Error('the registry was replaced while a snapshot of it was being written');
        // A name of the image that changed since has its entry then in `before` (never undefined: it existed).
        const e = before.get(name) ?? this.entries.get(name);
        if (e === undefined) throw new Error(`no entry ${name} in the registry image`);
        return typeof e === 'number' ? this.textOf(e, lines) : e;
      },
      entryAsTaken: (name, latest) => {
        if (this.generation !== generation) throw new Error('the registry was replaced while a snapshot of it was being written');
        // In `before` as undefined: added since.
        const e = before.has(name) ? before.get(name) : latest;
        return typeof e === 'number' ? this.textOf(e, lines) : e;
      },
      heldAsText: (name, entry, text) => {
        if (this.generation !== generation || this.entries.get(name) !== entry) return;
        if (entry.kind === 'service' && !this.sessionNames.has(name)) this.entries.set(name, text);
      },
      // Up to 100,000 requests: two flat arrays, not as many pairs (~1 ms against ~10 ms).
      tickets: [...this.tickets], requests: { ids: [...this.requests.keys()], revisions: [...this.requests.values()] }, agents: [...this.agents.values()], joins: [...this.joins.values()],
      cluster: this.members, marked: {
        checked: [...this.checkNames], unhealthy: [...this.unhealthyNames], idle: [...this.idleNames], sessions: [...this.sessionNames],
      }, release: stop,
    };
  }

  /**
   * New names from now on wait to go in the ordered index (OrderedNames.defer), until
   * endDeferOrder(): for a restart's replay of the log. settleOrder() then puts them there a slice
   * at a time; a pattern read first puts them all.
   */
  deferOrder(): void {
    this.names.defer();
  }

  endDeferOrder(): void {
    this.names.endDeferring();
  }

  /** Puts names waiting for the ordered index there until `deadline` (performance.now()); true when none waits. */
  settleOrder(deadline: number): boolean {
    return this.names.settle(deadline);
  }

  /** Which registry this is (ChangedNames.generation): a load() starts a new one. */
  get loadGeneration(): number {
    return this.generation;
  }

  /**
   * The entries that may differ from how a snapshot file taken at the last call (or at load())
   * holds them: put or removed since. Tracking starts over.
   */
  takeChanged(): ChangedNames {
    const entries = this.changed;
    this.changed = new ChangedEntries();
    return { generation: this.generation, entries };
  }

  private markChanged(name: string, e: EntryView | undefined): void {
    if (this.changed === undefined) return;
    this.changed.add(name, e);
    if (this.changed.changes > Math.max(MIN_CHANGED_TRACKED, this.entries.size)) this.changed = undefined;
  }

  /**
   * Replaces everything with a snapshot; the index is built once, not entry by entry (from a
   * format-3 file's names without sorting them, as they are stored in order).
   */
  load(snap: LoadableSnapshot): void {
    this.generation++;
    this.changed = new ChangedEntries();
    this.clearEntries();
    this.tickets.clear();
    this.requests.clear();
    this.agents.clear();
    this.joins.clear();
    for (const a of snap.agents ?? []) this.agents.set(a.host, a);
    for (const j of snap.joins ?? []) this.joins.set(j.id, j);
    for (const [name, t] of snap.tickets ?? []) this.tickets.set(name, t);
    for (const [rid, rev] of snap.requests ?? []) this.requests.set(rid, rev);
    this.lastEpoch = snap.epoch ?? 0;
    this.members = isClusterMembers(snap.cluster) ? snap.cluster : undefined;
    if (Array.isArray(snap.entries)) {
      for (const e of snap.entries) this.hold(e.name, e);
      this.names.reset(this.entries.keys());
    } else if ('names' in snap.entries) {
      const { names, held } = snap.entries;
      for (let k = 0; k < names.length; k++) this.hold(names[k] as string, held[k] as HeldEntry);
      if (this.entries.size === names.length) this.names.resetOrdered(names);
      else this.names.reset(this.entries.keys());
    } else if (!this.loadLines(snap.entries)) {
      // A name on two lines (no writer makes such a file): every line parsed, the last of a name kept.
      this.clearEntries();
      const { lines, from, to } = snap.entries;
      for (let k = from; k < to; k++) {
        const e = JSON.parse(lines.line(k)) as EntryView;
        this.hold(e.name, e);
      }
      this.names.reset(this.entries.keys());
    }
    this.rev = snap.revision;
  }

  /** No entries, nor anything indexed by what they say. */
  private clearEntries(): void {
    this.entries.reset();
    this.lines = undefined;
    this.aliasesOf.clear();
    this.strayNames.clear();
    this.sessionNames.clear();
    this.checkNames.clear();
    this.unhealthyNames.clear();
    this.idleNames.clear();
  }

  /**
   * Holds a format-3 file's entry lines as they are (EntryTable, OrderedNames.resetLines): only
   * the lines that are not a plain service's, and the session advertisements', are parsed. False,
   * having held part of them, when a name is on two lines.
   */
  private loadLines({ lines, from, to, marked }: LineEntries): boolean {
    const index = PlainNameIndex.build(lines, from, to);
    if (index.duplicated) return false;
    this.lines = lines;
    this.entries.reset({ index, from, to });
    const otherNames = new Map<number, string>();
    for (const k of index.others) {
      const e = JSON.parse(lines.line(k)) as EntryView;
      if (this.entries.has(e.name)) return false;
      otherNames.set(k, e.name);
      this.hold(e.name, e);
    }
    // Held parsed, for the grace period and the strays.
    for (const name of marked.sessions) {
      const k = this.entries.get(name);
      if (typeof k !== 'number') continue;
      this.hold(name, JSON.parse(lines.line(k)) as EntryView);
      this.released(k);
    }
    // Listed at the revision the file was written at, so every name is one of its entries; checked all the same.
    const mark = (list: string[], set: Set<string>): void => {
      for (const name of list) if (this.entries.has(name)) set.add(name);
    };
    mark(marked.checked, this.checkNames);
    mark(marked.unhealthy, this.unhealthyNames);
    mark(marked.idle, this.idleNames);
    this.names.resetLines(from, to, (k) => otherNames.get(k) ?? plainNameAt(lines, k));
    return true;
  }

  /**
   * One entry of a snapshot being loaded, and the indexes that follow from it (not the ordered
   * one); an entry held as text is scanned for them (its file lists no names).
   */
  private hold(name: string, e: HeldEntry): void {
    this.entries.set(name, e);
    if (typeof e === 'string') {
      const text = e;
      // Not parsed until read: JSON.stringify's text has these only as keys and values (in a string a quote is escaped); a `check` may be a spec's, which is one too.
      if (text.includes('"check":')) this.checkNames.add(name);
      if (text.includes('"state":"unhealthy"')) this.unhealthyNames.add(name);
      if (text.includes('"idleStopMs":')) this.idleNames.add(name);
      return;
    }
    if (hasCheck(e)) this.checkNames.add(name);
    if (hasIdleStop(e)) this.idleNames.add(name);
    if (isUnhealthy(e)) this.unhealthyNames.add(name);
    if (e.kind === 'alias') this.link(e.name, e.target);
    if (isStray(e)) this.strayNames.add(e.name);
    if (isSession(e)) this.sessionNames.add(e.name);
  }

  /** An entry held unparsed: its text, or its line's. */
  private textOf(e: string | number, lines = this.lines): string {
    if (typeof e === 'string') return e;
    if (lines === undefined) throw new Error(`entry held as line ${e} of a snapshot that is not loaded`);
    return lines.line(e);
  }

  /** Called once an entry is no longer held as it was: the loaded file's lines go with the last one held as a line. */
  private released(old: LoadedEntry | undefined): void {
    if (typeof old === 'number' && !this.entries.holdsLines) this.lines = undefined;
  }

  private put(e: EntryView): void {
    for (const o of this.observers) o(e.name);
    this.markChanged(e.name, e);
    const old = this.entries.swap(e.name, e);
    this.released(old);
    if (old === undefined) this.names.add(e.name);
    // Text is never an alias's.
    else if (typeof old === 'object' && old.kind === 'alias') this.unlink(old.name, old.target);
    if (e.kind === 'alias') this.link(e.name, e.target);
    if (isStray(e)) this.strayNames.add(e.name);
    else this.strayNames.delete(e.name);
    if (isSession(e)) this.sessionNames.add(e.name);
    else this.sessionNames.delete(e.name);
    if (hasCheck(e)) this.checkNames.add(e.name);
    else this.checkNames.delete(e.name);
    if (isUnhealthy(e)) this.unhealthyNames.add(e.name);
    else this.unhealthyNames.delete(e.name);
    if (hasIdleStop(e)) this.idleNames.add(e.name);
    else this.idleNames.delete(e.name);
  }

  private remove(name: string): boolean {
    const old = this.entries.get(name);
    if (old === undefined) return false;
    for (const o of this.observers) o(name);
    this.markChanged(name, undefined);
    if (typeof old === 'object' && old.kind === 'alias') this.unlink(name, old.target);
    this.entries.delete(name);
    this.released(old);
    this.names.delete(name);
    this.strayNames.delete(name);
    this.sessionNames.delete(name);
    this.checkNames.delete(name);
    this.unhealthyNames.delete(name);
    this.idleNames.delete(name);
    return true;
  }

  private link(alias: string, target: string): void {
    let set = this.aliasesOf.get(target);
    if (set === undefined) this.aliasesOf.set(target, (set = new Set()));
    set.add(alias);
  }

  private unlink(alias: string, target: string): void {
    const set = this.aliasesOf.get(target);
    set?.delete(alias);
    if (set?.size === 0) this.aliasesOf.delete(target);
  }
}

/** A `lost` entry that only its (gone) advertiser kept: nothing brings it back but a new advertisement. */
function isStray(e: EntryView): boolean {
  return isSession(e) && e.kind === 'service' && e.state === 'lost' && e.spec === undefined;
}

function isSession(e: EntryView): boolean {
  return e.kind === 'service' && e.advertiser?.kind === 'session';
}

function hasCheck(e: EntryView): boolean {
  return e.kind === 'service' && (e.check !== undefined || e.spec?.check !== undefined);
}

function hasIdleStop(e: EntryView): boolean {
  return e.kind === 'service' && e.spec?.idleStopMs !== undefined;
}

function isUnhealthy(e: EntryView): boolean {
  return e.kind === 'service' && e.state === 'unhealthy';
}
