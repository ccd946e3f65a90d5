// Starting a name server in-process: what the binary, tests and benchmarks all call.
import { NameServer } from './server.js';
import { loadConfig, parseHostPort, serverOptions, type ServerConfig } from './config.js';
import { createLogger, type Logger, type LogLevel } from './log.js';

export interface StartOptions extends Partial<Omit<ServerConfig, 'host' | 'port'>> {
  /** "host:port"; port 0 picks a free one. Default 127.0.0.1:7700. */
  listen?: string;
  /** A log level, or 'silent'. */
  log?: LogLevel;
  logger?: Logger;
}

export interface RunningNameServer {
  url: string;
  host: string;
  port: number;
  adminToken: string;
  tokenPath: string;
  /** The hex Ed25519 public key launch agents must trust. */
  publicKey: string;
  server: NameServer;
  close(): Promise<void>;
}

export async function startNameServer(opts: StartOptions = {}): Promise<RunningNameServer> {
  const { listen, log, logger, ...rest } = opts;
  const cfg = loadConfig({ ...rest, ...(log ? { logLevel: log } : {}) }, {});
  if (listen !== undefined) Object.assign(cfg, parseHostPort(listen, 'listen'));
  const server = new NameServer(serverOptions(cfg, logger ?? createLogger({ level: cfg.logLevel, format: cfg.logFormat })));
  try {
    await server.start();
  } catch (e) {
    await server.close();
    throw e;
  }
  const { host, port } = server.address;
  return { url: server.url, host, port, adminToken: server.adminToken, tokenPath: server.tokenPath, publicKey: server.publicKey, server, close: () => server.close() };
}
