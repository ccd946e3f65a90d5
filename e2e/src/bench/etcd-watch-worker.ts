// etcd's side of the watch scenario, in a worker thread: `connections` streaming HTTP
// requests to the gateway's /v3/watch, each carrying `watchesPerConnection` create requests
// (a gRPC watch stream multiplexes watchers, like a dpns connection does).
import { request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { serveCounts } from './watch-counts.js';
import type { WatchReady, WatchWorkerData } from './watch-protocol.js';

const data = workerData as WatchWorkerData;
const port = parentPort;
if (port === null) throw new Error('etcd-watch-worker must run as a worker thread');

const counts = new Map<string, number>();
const aborts: (() => void)[] = [];
const refused: Record<string, number> = {};
const started = performance.now();
const url = new URL(data.url);
// The pattern is a prefix here: keys from `prefix` up to the prefix with its last byte + 1.
const prefix = data.pattern.replace(/\*$/, '');
const rangeEnd = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function open(c: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const create = JSON.stringify({ create_request: { key: b64(prefix), range_end: b64(rangeEnd) } });
    const body = Array.from({ length: data.watchesPerConnection }, () => create).join('\n');
    let created = 0;
    let buffered = '';
    const req = request({ host: url.hostname, port: Number(url.port), method: 'POST', path: '/v3/watch', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          // proto3 JSON leaves out a zero watch_id, so its absence means watcher 0.
          const key = `${c}:${/"watch_id":"(\d+)"/.exec(line)?.[1] ?? '0'}`;
          if (line.includes('"created":true')) {
            counts.set(key, 0);
            if (++created === data.watchesPerConnection) resolve();
            continue;
          }
          const events = line.split('"kv":').length - 1;
          if (events > 0) counts.set(key, (counts.get(key) ?? 0) + events);
          else if (line.includes('"error"')) {
            refused.ERROR = (refused.ERROR ?? 0) + 1;
            reject(new Error(`etcd watch: ${line.slice(0, 300)}`));
          }
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', reject);
    aborts.push(() => req.destroy());
    req.end(body);
  });
}

serveCounts(port, counts, () => {
  for (const abort of aborts) abort();
});

for (let c = 0; c < data.connections; c++) await open(c);
port.postMessage({ type: 'ready', watches: counts.size, refused, setupMs: performance.now() - started } satisfies WatchReady);
