// The watchers of scenario 6, in a worker thread: 10,000 watch events per write would keep the
// writer's event loop busy and inflate the latency it measures, so they are counted here.
// Protocol with the parent: it posts `{type:'expect', writes}`, we answer with the counts.
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { serveCounts } from './watch-counts.js';
import type { WatchReady, WatchWorkerData } from './watch-protocol.js';

const data = workerData as WatchWorkerData;
const port = parentPort;
if (port === null) throw new Error('watch-worker must run as a worker thread');

const counts = new Map<string, number>();
const sockets: WebSocket[] = [];
const refused: Record<string, number> = {};
const started = performance.now();

function open(c: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(data.url, { perMessageDeflate: false });
    sockets.push(ws);
    let answered = 0;
    ws.on('error', reject);
    ws.on('message', (raw) => {
      const s = String(raw);
      // Events are counted without a full parse: only the list of watch ids is needed.
      const at = s.indexOf('"watchIds":[');
      if (s.includes('"watch.event"') && at >= 0) {
        const end = s.indexOf(']', at + 12);
        for (const quoted of s.slice(at + 12, end).split(',')) {
          const key = `${c}:${quoted.slice(1, -1)}`;
          const n = counts.get(key);
          if (n !== undefined) counts.set(key, n + 1);
        }
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
      if (msg.result !== undefined) counts.set(`${c}:${msg.result.watchId}`, 0);
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
for (let c = 0; c < data.connections; c++) await open(c);
port.postMessage({ type: 'ready', watches: counts.size, refused, setupMs: performance.now() - started } satisfies WatchReady);
