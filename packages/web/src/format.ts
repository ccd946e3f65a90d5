// Display helpers for the table.
import type { RpcError } from './rpc.js';

/** "12s", "3m 02s", "5h 03m", "2d 4h": how long an entry has been in its state. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A load figure as reported (lower is less loaded), trimmed for a narrow column. */
export function formatLoad(load: number | undefined): string {
  if (load === undefined) return '';
  return Number.isInteger(load) ? String(load) : load.toPrecision(3);
}

/** The http(s) URL of the page on the server whose protocol URL is `wsUrl`. */
export function pageUrlOf(wsUrl: string): string {
  return wsUrl.replace(/^ws(s?):\/\//, 'http$1://').replace(/\/?$/, '/');
}

/** One line for an error: the server's code and message. */
export function describeError(e: RpcError): string {
  return `${e.code}: ${e.message}`;
}
