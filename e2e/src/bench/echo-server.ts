// The transport's ceiling: a bare `ws` server that sends every text frame straight back.
// Run as its own process (like the name server) so the two are measured the same way.
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 1024 * 1024 });
wss.on('connection', (ws) => {
  ws.on('error', () => ws.terminate());
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => {
  const addr = wss.address();
  if (typeof addr === 'object' && addr !== null) process.stdout.write(`echo listening on ws://127.0.0.1:${addr.port}\n`);
});
const stop = (): void => wss.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
