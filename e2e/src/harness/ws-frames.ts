// Reads one direction of a recorded connection the way the other end does: the HTTP head, then
// (after an upgrade) WebSocket frames, unmasked, fragments joined. A client masks every frame it
// sends with a random key (RFC 6455 §5.3), so a secret a client sent in the clear is NOT in its
// raw bytes; only the unmasked payloads show it. Compressed frames (permessage-deflate) would hide
// it too; no dpns link negotiates them, and a recording that did is refused rather than misread.

/** One direction of a connection, as read by the receiving end. */
export interface DecodedStream {
  /** The HTTP request or response head (through the blank line), or '' when the bytes hold none. */
  head: string;
  /** Whole messages (text, binary, close, ping, pong payloads), unmasked, in order. */
  messages: Buffer[];
  /** Bytes the reader could not take as frames: a frame cut off by a closed connection, or a body after a non-upgrade head. */
  rest: Buffer;
}

/**
 * Decodes `bytes`: the head, and frames only if `upgraded` (the response was 101). The request
 * direction is upgraded when its response is; see `decodeConnection`.
 */
export function decodeStream(bytes: Buffer, upgraded: boolean): DecodedStream {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return { head: '', messages: [], rest: bytes };
  const head = bytes.subarray(0, end + 4).toString('latin1');
  const body = bytes.subarray(end + 4);
  if (!upgraded) return { head, messages: [], rest: body };
  const { messages, rest } = readFrames(body);
  return { head, messages, rest };
}

/** Both directions of one recorded connection. */
export function decodeConnection(toTarget: Buffer, fromTarget: Buffer): { request: DecodedStream; response: DecodedStream } {
  const responseHead = fromTarget.subarray(0, Math.max(0, fromTarget.indexOf('\r\n\r\n'))).toString('latin1');
  const upgraded = /^HTTP\/1\.1 101 /.test(responseHead);
  if (upgraded && /^sec-websocket-extensions:/im.test(responseHead)) {
    throw new Error(`a WebSocket extension was negotiated, which this reader cannot undo (secrets could hide in it):\n${responseHead}`);
  }
  return { request: decodeStream(toTarget, upgraded), response: decodeStream(fromTarget, upgraded) };
}

function readFrames(buf: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let parts: Buffer[] = [];
  let at = 0;
  while (at + 2 <= buf.length) {
    const b0 = buf[at] as number;
    const b1 = buf[at + 1] as number;
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let len = b1 & 0x7f;
    let p = at + 2;
    if (len === 126) {
      if (p + 2 > buf.length) break;
      len = buf.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (p + 8 > buf.length) break;
      len = Number(buf.readBigUInt64BE(p));
      p += 8;
    }
    const mask = masked ? buf.subarray(p, p + 4) : undefined;
    if (masked) p += 4;
    if (p > buf.length) break;
    // A frame cut short by the end of the recording is still read as far as it goes.
    const payload = Buffer.from(buf.subarray(p, Math.min(p + len, buf.length)));
    if (mask !== undefined && mask.length === 4) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
    const whole = p + len <= buf.length;
    at = whole ? p + len : buf.length;
    if (opcode >= 0x8) {
      messages.push(payload);
      continue;
    }
    if (opcode !== 0x0) parts = [];
    parts.push(payload);
    if (fin || !whole) {
      messages.push(Buffer.concat(parts));
      parts = [];
    }
  }
  return { messages, rest: buf.subarray(at) };
}
