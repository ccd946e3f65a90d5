// The transport's ceiling: a bare `ws` server that sends every text frame straight back.
// Run as its own process (like the name server) so the two are measured the same way, and with
// the name server's own write batching (`corkPerRead`: the answers to one socket read leave in
// one write): without it the ceiling pays a syscall per frame that the name server does not,
// and is no ceiling.
import { WebSocketServer } from 'ws';
import { corkPerRead } from '@dpns/nameserver/cork';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1024 * 1024 });
wss.on('connection', (ws) => {
  ws.on('error', () => ws.terminate());
  const batchRead = corkPerRead(ws);
  ws.on('message', (data, isBinary) => {
    batchRead();
    ws.send(data, { binary: isBinary });
  });
});
wss.on('listening', () => {
  const addr = wss.address();
  if (typeof addr === 'object' && addr !== null) process.stdout.write(`echo listening on ws://127.0.0.1:${addr.port}\n`);
});
const stop = (): void => wss.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
