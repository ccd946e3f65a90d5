// Starts a REAL name server in this process for the client's tests. @dpns/nameserver is a
// devDependency of the client (and a project reference in its tsconfig): the name server does not
// depend on the client, so the build graph stays acyclic; the client builds after the server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNameServer } from '@dpns/nameserver';

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

const dirs: string[] = [];
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export async function startTestServer(opts: { port?: number; dataDir?: string; clientHeartbeatMs?: number; graceMs?: number } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'dpns-client-test-'));
  if (opts.dataDir === undefined) dirs.push(dataDir);
  const ns = await startNameServer({
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
