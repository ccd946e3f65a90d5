// A registry snapshot as JSON text, built a slice at a time with the event loop free in between:
// one JSON.stringify of 100,000 entries holds every request up for ~90 ms. The arrays are taken at
// the call and entries are never changed in place (a change puts a new object), so the text is the
// state at that moment. The text is exactly JSON.stringify(snap) for a snapshot from Registry.snapshot().
import type { RegistrySnapshot } from './registry.js';

const SLICE = 2000;

export async function snapshotJson(snap: RegistrySnapshot): Promise<string> {
  const parts: string[] = [`{"revision":${JSON.stringify(snap.revision)}`];
  await array(parts, 'entries', snap.entries);
  if (snap.tickets !== undefined) await array(parts, 'tickets', snap.tickets);
  if (snap.epoch !== undefined) parts.push(`,"epoch":${JSON.stringify(snap.epoch)}`);
  if (snap.requests !== undefined) await array(parts, 'requests', snap.requests);
  if (snap.agents !== undefined) await array(parts, 'agents', snap.agents);
  if (snap.joins !== undefined) await array(parts, 'joins', snap.joins);
  if (snap.cluster !== undefined) parts.push(`,"cluster":${JSON.stringify(snap.cluster)}`);
  parts.push('}');
  return parts.join('');
}

async function array(parts: string[], key: string, items: readonly unknown[]): Promise<void> {
  parts.push(`,${JSON.stringify(key)}:[`);
  for (let k = 0; k < items.length; k += SLICE) {
    if (k > 0) {
      parts.push(',');
      await new Promise((r) => setImmediate(r));
    }
    parts.push(items.slice(k, k + SLICE).map((x) => JSON.stringify(x)).join(','));
  }
  parts.push(']');
}
