// The framing on the pipes between the name server and a module's child process, used by both
// ends. A frame is `[u32 total][u32 header length][header: JSON][payload: UTF-8]`, big-endian.
//
// Why not Node's own `ipc` channel: it reads newline-delimited JSON into one growing string with
// no size limit, so a child writing to its IPC descriptor without ever sending a newline would
// make the name server buffer without end. Here every frame announces its length first and the
// reader refuses one over its limit before buffering it. The payload sits beside the header,
// not inside it, so an answer's JSON text crosses as it is, with no escaping into a string.

/** A decoded frame: its header (still unknown: the reader's caller narrows it) and payload. */
export interface Frame {
  header: unknown;
  /** The payload's text, '' when the frame has none. */
  payload: string;
}

const PREFIX = 8;

/** One frame's bytes. */
export function encodeFrame(header: unknown, payload = ''): Buffer {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const p = payload === '' ? Buffer.alloc(0) : Buffer.from(payload, 'utf8');
  const out = Buffer.allocUnsafe(PREFIX + h.length + p.length);
  out.writeUInt32BE(PREFIX + h.length + p.length, 0);
  out.writeUInt32BE(h.length, 4);
  h.copy(out, PREFIX);
  p.copy(out, PREFIX + h.length);
  return out;
}

/** Why a stream of frames cannot be read on: the sender is broken or hostile. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/**
 * Cuts a byte stream into frames. A frame longer than `maxFrameBytes`, a header length that
 * does not fit its frame, or a header that is not JSON throws FrameError: the stream is then
 * unusable and the caller ends it.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Adds bytes; returns the frames completed by them, in order. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < PREFIX) return frames;
      const head = this.peek(PREFIX);
      const total = head.readUInt32BE(0);
      const headerLength = head.readUInt32BE(4);
      if (total > this.maxFrameBytes) throw new FrameError(`a frame of ${total} bytes, over the limit of ${this.maxFrameBytes}`);
      if (total < PREFIX || headerLength > total - PREFIX) throw new FrameError(`a malformed frame (length ${total}, header ${headerLength})`);
      if (this.buffered < total) return frames;
      const bytes = this.take(total);
      let header: unknown;
      try {
        header = JSON.parse(bytes.toString('utf8', PREFIX, PREFIX + headerLength));
      } catch {
        throw new FrameError('a frame whose header is not JSON');
      }
      frames.push({ header, payload: bytes.toString('utf8', PREFIX + headerLength, total) });
    }
  }

  /** The first `n` buffered bytes, without consuming them. */
  private peek(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) return first;
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] as Buffer;
  }

  private take(n: number): Buffer {
    const all = this.peek(n);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest, ...this.chunks.slice(1)] : this.chunks.slice(1);
    this.buffered -= n;
    return out;
  }
}
