// Plain TCP and HTTP listeners on loopback that a test opens and closes (a service's port that
// goes away and comes back), closed by teardown if the test does not.
import type { Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';

const open = new Set<Server | HttpServer>();

/** A TCP listener on 127.0.0.1:`port` (0: any free port) that accepts and closes each connection. */
export async function tcpListener(port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.destroy());
  await listenOn(server, port);
  return { server, port: (server.address() as { port: number }).port };
}

/** Starts `server` on 127.0.0.1:`port` and tracks it for closeListeners(). */
export function listenOn(server: Server | HttpServer, port = 0): Promise<void> {
  open.add(server);
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Closes `server` and the connections it holds; resolves once the port is free. */
export function closeListener(server: Server | HttpServer): Promise<void> {
  open.delete(server);
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Closes every listener still open (for an after-hook). */
export async function closeListeners(): Promise<void> {
  await Promise.all([...open].map((s) => closeListener(s)));
}
