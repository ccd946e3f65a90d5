// The plain-HTTP side of the name server's port (PROTOCOL.md §16): /healthz, /metrics,
// /openrpc.json, the monitor page's files, and 426 for everything else. No path changes state.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { openRpcText } from '@dpns/protocol';
import { serveWebAsset } from './web/assets.js';

/** The /healthz body; `status` is "ok" while the server runs, else its state. */
export interface Health {
  status: string;
  revision: number;
  entries: number;
  storage: 'writable' | 'unavailable';
  role?: string;
  epoch?: number;
  primary?: string;
}

export interface HttpPages {
  health(): Health;
  /** The Prometheus text of /metrics. */
  metrics(): Promise<string>;
}

/** The Prometheus text format 0.0.4, as prom-client's registry names it. */
const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The method table as an OpenRPC document, made at the first request for it. */
let openRpc: string | undefined;

export function routeHttp(req: IncomingMessage, res: ServerResponse, pages: HttpPages): void {
  if (req.url === '/healthz') {
    const health = pages.health();
    res.writeHead(health.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify(health));
    return;
  }
  if (req.url?.split('?')[0] === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE });
      res.end();
      return;
    }
    pages.metrics().then((text) => {
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE });
      res.end(text);
    }, (err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`dpns name server: metrics failed: ${(err as Error).message}\n`);
    });
    return;
  }
  if (req.url?.split('?')[0] === '/openrpc.json' && (req.method === 'GET' || req.method === 'HEAD')) {
    openRpc ??= openRpcText();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.method === 'HEAD' ? undefined : openRpc);
    return;
  }
  if (serveWebAsset(req, res)) return;
  res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
  res.end('dpns name server: speak JSON-RPC 2.0 over WebSocket here (see docs/PROTOCOL.md)\n');
}
