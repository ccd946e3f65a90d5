// Server-to-client text frames written to the socket in one piece. ws's own send of a string
// queues the header and the text as two writes through Node's stream buffering (a writev), and
// its text is encoded again for each socket. One Buffer, header and UTF-8 bytes together, is one
// `write` of half the objects; and a watch event's bytes shared by all its frames are copied, not
// encoded, into each.
import type { WebSocket } from 'ws';

/** The socket under `ws` (ws keeps its net.Socket in a private field), for writes of whole frames. */
interface FrameSocket {
  write(bytes: Uint8Array): boolean;
}

/** ws's readyState for an open connection. */
const OPEN = 1;

/**
 * Sends `text` (then `tail`'s bytes) as one unmasked, unfragmented text frame (RFC 6455 §5.2):
 * what `ws.send` puts on the wire for a server without permessage-deflate (the name server never
 * offers it).
 * Falls back to ws when the socket is not there or the connection is no longer open, so frames
 * never follow a close frame.
 */
export function sendTextFrame(ws: WebSocket, text: string, tail?: Uint8Array): void {
  const socket = (ws as unknown as { _socket?: FrameSocket })._socket;
  if (socket === undefined || ws.readyState !== OPEN || ws.extensions !== '') {
    ws.send(tail === undefined ? text : Buffer.concat([Buffer.from(text), tail]), { binary: false });
    return;
  }
  socket.write(encodeTextFrame(text, tail));
}

/**
 * A whole text frame of `text` followed by the UTF-8 bytes `tail`: FIN + opcode 1, the payload
 * length in 7, 7+16 or 7+64 bits, then the bytes.
 */
export function encodeTextFrame(text: string, tail?: Uint8Array): Buffer {
  const textBytes = Buffer.byteLength(text);
  const n = textBytes + (tail?.length ?? 0);
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const buf = Buffer.allocUnsafe(head + n);
  buf[0] = 0x81;
  if (head === 2) buf[1] = n;
  else if (head === 4) {
    buf[1] = 126;
    buf.writeUInt16BE(n, 2);
  } else {
    buf[1] = 127;
    buf.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    buf.writeUInt32BE(n >>> 0, 6);
  }
  buf.write(text, head, 'utf8');
  if (tail !== undefined) buf.set(tail, head + textBytes);
  return buf;
}
