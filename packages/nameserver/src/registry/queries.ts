// Read-only answers: list, find and state. Reads never touch the log.
//
// The server answers clients with the sliced forms: a scan over many names yields to other
// connections every SLICE_MS, so one request (a hostile pattern over a large registry) cannot
// hold everyone else up. A sliced answer that took several slices is not a snapshot at one
// revision: each entry is as the scan found it, somewhere between the request and its answer.
// The plain forms serve module copies, which nobody else shares.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DpnsError, compileGlob, isAdvertisedState, publicEntry, type EntryView, type Glob, type Location, type ServiceView } from '@dpns/protocol';
import type { Registry } from './registry.js';
import { compareNames } from './ordered-names.js';

/** Longest a scan runs before it lets other work in. */
export const SLICE_MS = 2;

/** Every entry matching `glob`, in name order, found a slice at a time. */
export async function selectSliced(reg: Registry, glob: Glob): Promise<EntryView[]> {
  const out: EntryView[] = [];
  let after: string | undefined;
  for (;;) {
    const slice = reg.selectSlice(glob, after, performance.now() + SLICE_MS);
    for (const e of slice.entries) out.push(e);
    if (slice.next === undefined) return out;
    after = slice.next;
    await nextTurn();
  }
}

export async function listNamesSliced(reg: Registry, pattern: string): Promise<string[]> {
  return (await selectSliced(reg, compileGlob(pattern))).map((e) => e.name);
}

export async function statesSliced(reg: Registry, pattern: string): Promise<EntryView[]> {
  return (await selectSliced(reg, compileGlob(pattern))).map(publicEntry);
}

export async function findSliced(reg: Registry, pattern: string): Promise<Location[]> {
  const glob = compileGlob(pattern);
  return glob.isLiteral ? findName(reg, glob) : running(reg, await selectSliced(reg, glob));
}

/**
 * Every entry matching `pattern` as anyone may see it, at one revision however many slices the
 * scan took: names put or removed while it ran are read again at the end. `then` runs in the
 * same turn as that last read, so nothing changes between the two (what `watch` needs: its
 * `initial` entries are the state at the revision it answers with).
 */
export async function statesAtOnce<T>(reg: Registry, pattern: string, then: (entries: EntryView[]) => T | Promise<T>): Promise<T> {
  const glob = compileGlob(pattern);
  const touched = new Set<string>();
  const stop = reg.observe((name) => {
    if (glob.match(name)) touched.add(name);
  });
  let found: EntryView[];
  try {
    found = await selectSliced(reg, glob);
  } finally {
    stop();
  }
  if (touched.size > 0) {
    const byName = new Map(found.map((e) => [e.name, e]));
    for (const name of touched) {
      const e = reg.get(name);
      if (e === undefined) byName.delete(name);
      else byName.set(name, e);
    }
    found = [...byName.values()].sort((a, b) => compareNames(a.name, b.name));
  }
  return then(found.map(publicEntry));
}

export function listNames(reg: Registry, pattern: string): string[] {
  const out: string[] = [];
  for (const e of reg.select(compileGlob(pattern))) out.push(e.name);
  return out;
}

/** Matching entries as anyone may see them: launch specs redacted (only `register.info` shows their values). */
export function states(reg: Registry, pattern: string): EntryView[] {
  const out: EntryView[] = [];
  for (const e of reg.select(compileGlob(pattern))) out.push(publicEntry(e));
  return out;
}

/**
 * A plain name resolves through aliases to one running service, or fails saying why;
 * a pattern answers every running match (aliases resolved), and may answer none, least
 * loaded first, then those that never reported a load, each group in name order.
 */
export function find(reg: Registry, pattern: string): Location[] {
  const glob = compileGlob(pattern);
  return glob.isLiteral ? findName(reg, glob) : running(reg, reg.select(glob));
}

/**
 * Whether finds answer with this service's address: it is `running` at a known address. The one
 * rule for every answer that hands out addresses (a find of a name, a pattern's matches, the
 * least-loaded pick, DNS answers): an `unhealthy` service is advertised but left out.
 */
export function answerable(svc: ServiceView): svc is ServiceView & { host: string; port: number } {
  return svc.state === 'running' && svc.host !== undefined && svc.port !== undefined;
}

/**
 * Whether a lookup of this service's own name (a find, a DNS query) launches it first: an
 * auto-start service that is not advertised. An `unhealthy` one runs already: a lookup answers
 * without it (NOT_RUNNING, NODATA) rather than start a second copy.
 */
export function launchesOnLookup(svc: ServiceView): boolean {
  return svc.spec !== undefined && !isAdvertisedState(svc.state);
}

function findName(reg: Registry, glob: Glob): Location[] {
  const { service, chain } = reg.resolve(glob.literalPrefix);
  if (!answerable(service)) {
    // The reason of a failed launch may quote the spec's cwd or user: shown as anyone may see it.
    const reason = (publicEntry(service) as ServiceView).reason;
    const via = chain.length > 1 ? ` (via ${chain.join(' -> ')})` : '';
    throw new DpnsError('NOT_RUNNING', `${service.name}${via} is ${service.state}${reason ? `: ${reason}` : ''}`, {
      details: { name: service.name, state: service.state, ...(reason ? { reason } : {}) },
    });
  }
  return [{ name: glob.literalPrefix, service: service.name, host: service.host, port: service.port }];
}

/** The running services among `entries` (aliases resolved now), least loaded first. */
function running(reg: Registry, entries: Iterable<EntryView>): Location[] {
  const out: { loc: Location; load: number }[] = [];
  for (const e of entries) {
    let svc = e;
    if (e.kind === 'alias') {
      try {
        svc = reg.resolve(e.name).service;
      } catch {
        continue;
      }
    }
    if (svc.kind === 'service' && answerable(svc)) {
      out.push({ loc: { name: e.name, service: svc.name, host: svc.host, port: svc.port }, load: svc.load ?? Infinity });
    }
  }
  // The sort is stable and select() yields name order, so equal loads stay in name order.
  return out.sort((a, b) => (a.load === b.load ? 0 : a.load < b.load ? -1 : 1)).map((o) => o.loc);
}
