// Milliseconds as people read a duration, the way Go prints one: 10m0s, 1h30m0s, 45s, 2.5s.
// Shared by the name server (the reason `idle for 10m0s`) and the CLI (`dpns info`).

/** `ms` (>= 0) as `1h2m3s`, `10m0s`, `45s`, `2.5s` or `800ms`. */
export function durationText(ms: number): string {
  if (ms < 1000) return `${Math.floor(ms)}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}
