// What a scenario measured, and how it is shown: a status line per shape on stderr while
// running, one table at the end on stdout.

/** One line of the final table. */
export interface Row {
  /** The scenario's key, e.g. `find`, `etcd.get`. */
  key: string;
  label: string;
  /** Who served it; `by hand` is a program started without dpns (the launch baseline). */
  system: 'dpns' | 'dpns baseline' | 'echo' | 'etcd' | 'by hand';
  /** e.g. "64 in flight / 8 conns". */
  shape: string;
  opsPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** The largest single figure, where a row is a few rounds (failover) rather than a distribution. */
  maxMs?: number;
  /** The server's peak RSS (VmHWM) at the end of the shape, MiB. */
  peakRssMB?: number;
  /** The server's current RSS (VmRSS), MiB, where the scenario is about memory. */
  rssMB?: number;
  errors?: number;
  /** CPU use over the measured window, % of one core: the server process's and the generator's. */
  serverCpuPct?: number;
  clientCpuPct?: number;
  /** For shapes that check a result (every watcher saw every write; a list had its names): whether it held. */
  verified?: boolean;
  note?: string;
}

/** A status line on stderr, so stdout stays the table. */
export function status(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export function fmtOps(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '';
  return Math.round(n).toLocaleString('en-US');
}

export function fmtMs(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '';
  return n < 1 ? n.toFixed(3) : n < 100 ? n.toFixed(2) : n.toFixed(0);
}

export function fmtMB(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '';
  return n.toFixed(1);
}

export function fmtPct(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '';
  return `${Math.round(n)}%`;
}

/** A one-line summary of a row, for the status line. */
export function summary(r: Row): string {
  const parts = [`${r.label} [${r.system}, ${r.shape}]`];
  if (r.opsPerSec !== undefined) parts.push(`${fmtOps(r.opsPerSec)} ops/s`);
  if (r.p50Ms !== undefined) parts.push(`p50 ${fmtMs(r.p50Ms)} ms`);
  if (r.p99Ms !== undefined) parts.push(`p99 ${fmtMs(r.p99Ms)} ms`);
  if (r.rssMB !== undefined) parts.push(`RSS ${fmtMB(r.rssMB)} MiB`);
  if (r.peakRssMB !== undefined) parts.push(`peak RSS ${fmtMB(r.peakRssMB)} MiB`);
  if (r.serverCpuPct !== undefined && Number.isFinite(r.serverCpuPct)) parts.push(`CPU server ${fmtPct(r.serverCpuPct)} / client ${fmtPct(r.clientCpuPct)}`);
  if (r.errors) parts.push(`${r.errors} errors`);
  if (r.note !== undefined) parts.push(r.note);
  return parts.join(', ');
}

/** The rows as a Markdown table (readable in a terminal and pasteable into docs). */
export function table(rows: readonly Row[]): string {
  const head = ['scenario', 'system', 'shape', 'ops/s', 'p50 ms', 'p99 ms', 'RSS MiB', 'peak RSS MiB', 'CPU srv/gen', 'errors', 'notes'];
  const body = rows.map((r) => [
    r.label, r.system, r.shape, fmtOps(r.opsPerSec), fmtMs(r.p50Ms), fmtMs(r.p99Ms), fmtMB(r.rssMB), fmtMB(r.peakRssMB),
    r.serverCpuPct === undefined || !Number.isFinite(r.serverCpuPct) ? '' : `${fmtPct(r.serverCpuPct)} / ${fmtPct(r.clientCpuPct)}`,
    r.errors === undefined ? '' : String(r.errors), r.note ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i >= 3 && i <= 9 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i >= 3 && i <= 9 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(head), sep, ...body.map(line)].join('\n');
}
