// The watchers of scenario 6, in a worker thread: 10,000 watch events per write would keep the
// writer's event loop busy and inflate the latency it measures, so they are counted here.
// Protocol with the parent: it posts `{type:'expect', writes}`, we answer with the counts.
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { ConnectionCounts } from './connection-counts.js';
import { serveCounts, type EventCounts } from './watch-counts.js';
import type { WatchReady, WatchWorkerData } from './watch-protocol.js';

const data = workerData as WatchWorkerData;
const port = parentPort;
if (port === null) throw new Error('watch-worker must run as a worker thread');

const connections: ConnectionCounts[] = [];
const counts: EventCounts = {
  get size() {
    return connections.reduce((n, c) => n + c.size, 0);
  },
  *values() {
    for (const c of connections) yield* c.values();
  },
};
const sockets: WebSocket[] = [];
const refused: Record<string, number> = {};
const started = performance.now();

function open(): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(data.url, { perMessageDeflate: false });
    sockets.push(ws);
    const mine = new ConnectionCounts();
    connections.push(mine);
    let answered = 0;
    ws.on('error', reject);
    ws.on('message', (raw) => {
      const s = String(raw);
      // Events are counted without a full parse: only the list of watch ids is needed.
      const at = s.indexOf('"watchIds":[');
      if (s.includes('"watch.event"') && at >= 0) {
        mine.event(s.slice(at + 12, s.indexOf(']', at + 12)));
        return;
      }
      const msg = JSON.parse(s) as { method?: string; id?: number; result?: { watchId: string }; error?: { data?: { code?: string } } };
      if (msg.method === 'hello') {
        for (let i = 0; i < data.watchesPerConnection; i++) {
          ws.send(JSON.stringify({ jsonrpc: '2.0', id: i + 1, method: 'watch', params: { pattern: data.pattern } }));
        }
        return;
      }
      if (msg.id === undefined) return;
      if (msg.result !== undefined) mine.add(msg.result.watchId);
      else {
        const code = msg.error?.data?.code ?? 'UNKNOWN';
        refused[code] = (refused[code] ?? 0) + 1;
      }
      if (++answered === data.watchesPerConnection) resolve();
    });
  });
}

serveCounts(port, counts, () => {
  for (const ws of sockets) ws.terminate();
});

// One connection at a time: simultaneous handshakes would measure the accept queue, not watches.
for (let c = 0; c < data.connections; c++) await open();
port.postMessage({ type: 'ready', watches: counts.size, refused, setupMs: performance.now() - started } satisfies WatchReady);
