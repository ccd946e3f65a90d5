// The services the registry scenarios look up: their names, and registering them in bulk.
// Kept out of find.ts so that echo.ts (its frames are padded to a find's answer) can use the
// names without find.ts and echo.ts importing each other.
import type { BenchServer } from '../nameserver.js';
import { status } from '../report.js';
import { rpcBulk } from '../shapes.js';

/** The name of the i-th service registered for `find`. */
export function findName(i: number): string {
  return `/bench/find/s${i}`;
}

/** Registers `count` static services named by `nameOf`, pipelined over admin connections. */
export async function loadServices(server: BenchServer, count: number, nameOf: (i: number) => string): Promise<void> {
  const conns = await server.connect(8, true);
  const res = await rpcBulk(conns, 256, count, (i) => ['advertiseService', { name: nameOf(i), host: '127.0.0.1', port: 1024 + (i % 60_000), static: true }]);
  await Promise.all(conns.map((c) => c.close()));
  const rate = Math.round((count / res.elapsedMs) * 1000);
  status(`loaded ${count.toLocaleString('en-US')} services in ${(res.elapsedMs / 1000).toFixed(1)} s (${rate.toLocaleString('en-US')}/s), ${res.errors} errors${res.firstError === undefined ? '' : ` (first: ${res.firstError})`}`);
  if (res.errors > 0) throw new Error(`loading services failed: ${res.firstError ?? ''}`);
}
