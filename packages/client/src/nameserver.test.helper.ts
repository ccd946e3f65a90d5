// Starts a REAL name server in this process for the client's tests.
//
// Imported dynamically: the client package does not depend on the name server in the build
// graph, so a static import would make compiling the client wait for the server's build.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestServer {
  url: string;
  host: string;
  port: number;
  adminToken: string;
  tokenPath: string;
  /** "127.0.0.1:PORT", what DpnsClient's `servers` takes. */
  server: string;
  dataDir: string;
  close(): Promise<void>;
  /** Stops this server (gracefully) and starts a new one on the same port and data directory. */
  restart(): Promise<TestServer>;
}

interface NameServerModule {
  startNameServer(o: { listen: string; dataDir: string; clientHeartbeatMs?: number; graceMs?: number; log?: 'silent' }): Promise<{
    url: string; host: string; port: number; adminToken: string; tokenPath: string; close(): Promise<void>;
  }>;
}

const dirs: string[] = [];
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export async function startTestServer(opts: { port?: number; dataDir?: string; clientHeartbeatMs?: number; graceMs?: number } = {}): Promise<TestServer> {
  const specifier = '@dpns/nameserver';
  const mod = (await import(specifier)) as NameServerModule;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'dpns-client-test-'));
  if (opts.dataDir === undefined) dirs.push(dataDir);
  const ns = await mod.startNameServer({
    listen: `127.0.0.1:${opts.port ?? 0}`,
    dataDir,
    log: 'silent',
    ...(opts.clientHeartbeatMs === undefined ? {} : { clientHeartbeatMs: opts.clientHeartbeatMs }),
    ...(opts.graceMs === undefined ? {} : { graceMs: opts.graceMs }),
  });
  let closed: Promise<void> | undefined;
  const self: TestServer = {
    ...ns,
    server: `127.0.0.1:${ns.port}`,
    dataDir,
    close: () => (closed ??= ns.close()),
    restart: async () => {
      await self.close();
      return startTestServer({ ...opts, port: ns.port, dataDir });
    },
  };
  return self;
}
