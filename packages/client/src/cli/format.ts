// Human renderings of entries and events, shared by state, info and watch.
import { durationText, type EntryView, type HealthCheck } from '@dpns/protocol';
import type { WatchEvent } from '../watch.js';
import { isoSeconds, table } from './table.js';

const dash = (v: string | number | undefined): string => (v === undefined || v === '' ? '-' : String(v));

/** The `state` table: NAME KIND STATE HOST PORT LOAD SINCE REASON/TARGET. HOST is where it runs: its address, or while it starts on one of several hosts, the host picked. */
export function stateTable(entries: EntryView[]): string[] {
  const rows = [['NAME', 'KIND', 'STATE', 'HOST', 'PORT', 'LOAD', 'SINCE', 'REASON/TARGET']];
  for (const e of entries) {
    if (e.kind === 'alias') rows.push([e.name, 'alias', '-', '-', '-', '-', isoSeconds(e.since), `-> ${e.target}`]);
    else rows.push([e.name, 'service', e.state, dash(e.host ?? e.launchedOn), dash(e.port), dash(e.load), isoSeconds(e.since), dash(e.reason)]);
  }
  return table(rows);
}

/** One line per watch event: REVISION TYPE NAME then what the entry is now. */
export function eventLine(ev: WatchEvent): string {
  const head = `${ev.revision} ${ev.type} ${ev.name}`;
  const tail = ev.source === 'change' ? '' : ` (${ev.source})`;
  const e = ev.entry;
  if (ev.type === 'delete' || e === undefined) return head + tail;
  if (e.kind === 'alias') return `${head} alias -> ${e.target}${tail}`;
  return `${head} service ${e.state} ${dash(e.host)} ${dash(e.port)}${e.reason === undefined ? '' : ` ${JSON.stringify(e.reason)}`}${tail}`;
}

/** A health check in a line: `http:/healthz every 5000 ms, timeout 2000 ms, unhealthy after 3 failures`. */
export function checkText(c: HealthCheck): string {
  return `${c.kind === 'tcp' ? 'tcp' : `http:${c.path ?? '/'}`} every ${c.intervalMs} ms, timeout ${c.timeoutMs} ms, unhealthy after ${c.threshold} failure${c.threshold === 1 ? '' : 's'} in a row`;
}

/** `info` as "key: value" lines. */
export function infoLines(entry: EntryView, aliases: string[], resolved: string | undefined): string[] {
  const out: [string, string][] = [['name', entry.name], ['kind', entry.kind]];
  if (entry.kind === 'alias') {
    out.push(['target', entry.target]);
    if (resolved !== undefined) out.push(['resolves to', resolved]);
  } else {
    out.push(['state', entry.state]);
    if (entry.host !== undefined) out.push(['host', entry.host]);
    if (entry.port !== undefined) out.push(['port', String(entry.port)]);
    if (entry.reason !== undefined) out.push(['reason', entry.reason]);
    if (entry.load !== undefined) out.push(['load', entry.loadAt === undefined ? String(entry.load) : `${entry.load} (at ${isoSeconds(entry.loadAt)})`]);
    if (entry.advertiser !== undefined) {
      const a = entry.advertiser;
      out.push(['advertiser', a.kind === 'static' ? 'static' : a.owner === undefined ? 'session' : `session (owner ${a.owner.slice(0, 16)}…)`]);
    }
    if (entry.reservation !== undefined) {
      out.push(['reserved for', `owner ${entry.reservation.owner.slice(0, 16)}… until ${isoSeconds(entry.reservation.until)}`]);
    }
    const s = entry.spec;
    if (s !== undefined) {
      if (s.host !== undefined) out.push(['launch host', s.host]);
      if (s.hosts !== undefined) out.push(['launch hosts', s.hosts.join(', ')]);
      if (entry.launchedOn !== undefined) out.push(['launched on', entry.launchedOn]);
      out.push(['program', s.program]);
      if (s.args.length > 0) out.push(['args', s.args.map((a) => JSON.stringify(a)).join(' ')]);
      for (const [k, v] of Object.entries(s.env)) out.push(['env', `${k}=${v}`]);
      if (s.cwd !== undefined) out.push(['cwd', s.cwd]);
      if (s.user !== undefined) out.push(['user', s.user]);
      out.push(['start timeout', `${s.startTimeoutMs} ms`]);
      out.push(['restart', s.restart ?? 'no']);
    }
    const check = entry.check ?? s?.check;
    if (check !== undefined) out.push(['check', checkText(check)]);
    if (s?.idleStopMs !== undefined) out.push(['idle stop', `after ${durationText(s.idleStopMs)} unused (${s.idleStopMs} ms)`]);
  }
  out.push(['since', isoSeconds(entry.since)]);
  if (aliases.length > 0) out.push(['aliases', aliases.join(' ')]);
  const width = Math.max(...out.map(([k]) => k.length)) + 1;
  return out.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`);
}
