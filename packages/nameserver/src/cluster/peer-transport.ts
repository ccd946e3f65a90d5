// A PeerLink (WebSocket, sealed frames) as the cluster core's PeerTransport: the frames of
// PROTOCOL.md §19.7 (packages/cluster-core/src/messages.ts). The core hands over a snapshot as one
// `snap` frame; on the wire it goes in chunks of its bytes (of its text, as JSON strings, to a
// member older than 2026-12-07), the last one marked, and is put back together here before the
// core sees it. The chunks go one a turn of the event loop, and wait
// while the socket holds more than a few unsent megabytes: sealing a million names' snapshot in
// one go held a primary's requests up for most of a second. Frames sent meanwhile queue behind
// the chunks, so the peer still reads them in the order they were sent; ticks alone go past.
import { constants } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import type { PeerMessage, PeerTransport, SnapshotChunk } from '@dpns/cluster-core';
import { bufferView } from './buffer-view.js';
import type { PeerLink } from './peer-link.js';

/**
 * Bytes of snapshot per frame: sealing and sending one takes under a millisecond. Kept under V8's
 * large-object size (128 KiB): sent as text (to an older member), its string and its frame's text
 * are young objects that a scavenge frees; at 256 KiB each was a large object, slow to make (~30×)
 * and collected in pauses that held a million-name primary's writes up for 30–60 ms at a time.
 */
export const SNAPSHOT_CHUNK = 96 * 1024;
/** Unsent bytes in the socket past which a snapshot's next chunk waits. */
const SNAPSHOT_BUFFERED_BYTES = 4 * 1024 * 1024;
/** How long a chunk waits before the socket's unsent bytes are looked at again. */
const SNAPSHOT_WAIT_MS = 2;

/**
 * A snapshot's bytes (UTF-8 text) as the chunks it is sent in, each at most SNAPSHOT_CHUNK bytes,
 * read or made when its turn to go comes (a stored snapshot is read from its file a piece at a
 * time, never held whole). A chunk may end inside a character. It may throw instead of giving the
 * next: the snapshot is then cut short (its last chunk never goes, so it is never installed) and
 * the link closed.
 */
export type SnapshotPieces = AsyncGenerator<Buffer, void, undefined>;

/** Bytes as pieces of at most SNAPSHOT_CHUNK (views: no copy). */
export function* piecesOfBytes(bytes: Uint8Array): Generator<Buffer> {
  const b = bufferView(bytes);
  for (let k = 0; k < b.length; k += SNAPSHOT_CHUNK) yield b.subarray(k, k + SNAPSHOT_CHUNK);
}

/** Text made in parts, as chunks of at most SNAPSHOT_CHUNK bytes, each encoded when its turn comes. */
export async function* piecesOfParts(parts: readonly string[]): SnapshotPieces {
  for (const part of parts) {
    for (let k = 0; k < part.length;) {
      let end = Math.min(part.length, k + SNAPSHOT_CHUNK);
      // Never between the halves of a surrogate pair: each half alone would be encoded as U+FFFD.
      if (end < part.length && isHighSurrogate(part.charCodeAt(end - 1))) end--;
      yield* piecesOfBytes(Buffer.from(part.slice(k, end), 'utf8'));
      k = end;
    }
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Frames of other kinds sent in one turn of the event loop stop after this long (a catch-up's backlog follows its snapshot). */
const FRAMES_MS = 2;

/** A snapshot waiting in the queue: the frame it is sent as, its pieces, and the one read ahead (to know which is last). */
interface QueuedSnapshot {
  readonly m: SnapshotChunk;
  readonly pieces: SnapshotPieces;
  /** The pieces' bytes in all, when known: said in the first chunk's header (a member of this version joins the chunks into one buffer of that size as they come). */
  readonly size: number | undefined;
  ahead: IteratorResult<Buffer, void> | undefined;
  /** Sent as text (to a member that takes no frames of bytes): the characters a chunk's end cut in two wait here for the next. */
  text?: StringDecoder;
}

function isQueuedSnapshot(q: PeerMessage | QueuedSnapshot): q is QueuedSnapshot {
  return 'pieces' in q;
}

const TYPES = new Set(['beat', 'prevote', 'vote', 'prevote-ans', 'vote-ans', 'follow', 'append', 'snap', 'tick', 'ack', 'refuse']);

/** The frame came through the sealed link, so it is from a member; this only guards the shape's tag. */
export function isPeerMessage(v: unknown): v is PeerMessage {
  return typeof v === 'object' && v !== null && TYPES.has((v as { t?: string }).t ?? '');
}

/** Frames a member sends on the link it dialed; the rest (answers, and the primary's stream) go on the link it accepted. */
export function goesOnDialedLink(m: PeerMessage): boolean {
  return m.t === 'beat' || m.t === 'prevote' || m.t === 'vote' || m.t === 'follow' || m.t === 'ack';
}

export class PeerTransportLink implements PeerTransport {
  onMessage: ((m: PeerMessage) => void) | undefined;
  onClose: ((why: string) => void) | undefined;
  /** A snapshot's first chunk has come (onMessage hears of it once its last has). */
  onSnapshotComing: (() => void) | undefined;
  /** Chunks of a snapshot still arriving: as bytes, or (from a member before 2026-12-07) as text. */
  private chunks: Buffer[] = [];
  /** Or joined into one buffer as they come, when the first said the size (takeBytes). */
  private joined: { buf: Buffer; at: number } | undefined;
  private textChunks: string[] = [];
  /** Bytes (or, as text, characters) of the snapshot arriving so far. */
  private arrived = 0;
  /** Frames waiting to go, in order: a snapshot (its chunks made as they go) and whatever was sent after it. */
  private queue: (PeerMessage | QueuedSnapshot)[] = [];
  private queueAt = 0;
  private draining = false;
  /** Milliseconds spent this turn of the event loop sending frames at once (not from the queue). */
  private spentThisTurn = 0;
  private turnEnds: NodeJS.Immediate | undefined;

  constructor(
    private readonly link: PeerLink,
    /**
     * The most a snapshot may hold: what one Buffer (or, as text, one string) can. A snapshot is
     * joined whole before its install, so a larger one could never be installed; the link closes
     * at the chunk that passes it, where the chunks used to pile up until the join threw.
     */
    private readonly maxSnapshot: { bytes: number; chars: number } = { bytes: constants.MAX_LENGTH, chars: constants.MAX_STRING_LENGTH },
  ) {
    link.onMessage = (raw, bytes) => this.receive(raw, bytes);
    link.onClose = (why) => this.onClose?.(why);
  }

  get peerSid(): number {
    return this.link.peerSid;
  }

  get open(): boolean {
    return this.link.open;
  }

  send(m: PeerMessage): void {
    if (m.t === 'snap' && (typeof m.data !== 'string' || m.data.length > SNAPSHOT_CHUNK)) {
      const data = m.data;
      return this.sendSnapshot(m, typeof data === 'string' ? piecesOfParts([data]) : (async function* bytes() {
        yield* piecesOfBytes(data);
      })());
    }
    // A tick goes past a snapshot on its way: the backup hears its primary while the chunks come
    // (they reach its core only once the last is in), instead of taking it for lost after a
    // window and following again, which made the primary start another snapshot every window.
    // It says nothing the backup must read after the snapshot: a tick may come before one anyway.
    if (m.t === 'tick') return this.link.send(m);
    // Sent at once, unless frames sent at once this turn took FRAMES_MS already: a backup that
    // follows from far back gets its backlog as tens of frames of 2,000 records in one step.
    if (this.queue.length === 0 && this.spentThisTurn < FRAMES_MS) {
      const t0 = performance.now();
      this.link.send(m);
      this.spentThisTurn += performance.now() - t0;
      this.turnEnds ??= setImmediate(() => {
        this.spentThisTurn = 0;
        this.turnEnds = undefined;
      });
      return;
    }
    this.queue.push(m);
    this.drain();
  }

  /**
   * A snapshot frame whose bytes are `pieces` joined (never joined here: one string of a million
   * names' text held the primary's requests up for ~70 ms), a chunk a piece, the last one marked
   * and carrying the voters as `m` does.
   */
  sendSnapshot(m: SnapshotChunk, pieces: SnapshotPieces, size?: number): void {
    this.queue.push({ m, pieces, size, ahead: undefined });
    this.drain();
  }

  /** Closes the link; frames still waiting are dropped (a snapshot cut short is never installed: its last chunk never came). */
  close(why: string): void {
    this.dropQueue();
    this.link.close(why);
  }

  private dropQueue(): void {
    // A stored snapshot's file is closed.
    for (const q of this.queue.slice(this.queueAt)) if (isQueuedSnapshot(q)) void q.pieces.return(undefined).catch(() => undefined);
    this.queue = [];
    this.queueAt = 0;
  }

  /**
   * Sends the queue a turn at a time: a snapshot's next chunk, or the frames up to the next
   * snapshot for at most FRAMES_MS (a catch-up's backlog, tens of frames of 2,000 records, sent
   * in one turn held a million-name primary's requests up for ~300 ms).
   */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => void this.step());
  }

  private async step(): Promise<void> {
    if (!this.link.open || this.queue.length === 0) {
      this.dropQueue();
      this.draining = false;
      return;
    }
    if (this.link.buffered > SNAPSHOT_BUFFERED_BYTES) {
      setTimeout(() => void this.step(), SNAPSHOT_WAIT_MS);
      return;
    }
    const head = this.queue[this.queueAt] as PeerMessage | QueuedSnapshot;
    if (isQueuedSnapshot(head)) {
      try {
        if (await this.sendChunk(head) && this.queue[this.queueAt] === head) this.queueAt++;
      } catch (err) {
        this.close(`the snapshot could not be sent: ${(err as Error).message}`);
      }
    } else {
      const until = performance.now() + FRAMES_MS;
      for (let q: PeerMessage | QueuedSnapshot | undefined = head; q !== undefined && !isQueuedSnapshot(q); q = this.queue[this.queueAt]) {
        this.queueAt++;
        this.link.send(q);
        if (performance.now() >= until) break;
      }
    }
    if (this.queueAt === this.queue.length) {
      this.queue = [];
      this.queueAt = 0;
    }
    setImmediate(() => void this.step());
  }

  /** Sends the snapshot's next chunk; true when it was the last. */
  private async sendChunk(s: QueuedSnapshot): Promise<boolean> {
    // Nothing is read ahead only before the first chunk.
    const first = s.ahead === undefined;
    const piece = s.ahead ?? await s.pieces.next();
    // Read one ahead, so the last chunk is known to be the last when it goes.
    const next = piece.done === true ? piece : await s.pieces.next();
    s.ahead = next;
    const last = next.done === true;
    const { m } = s;
    const frame = { t: 'snap', epoch: m.epoch, index: m.index, last: last && m.last, ...(last && m.voters !== undefined ? { voters: m.voters } : {}) };
    const bytes = piece.done === true ? Buffer.alloc(0) : piece.value;
    if (this.link.peerTakesBytes) {
      this.link.sendBytes(first && s.size !== undefined ? { ...frame, size: s.size } : frame, bytes);
    } else {
      s.text ??= new StringDecoder('utf8');
      this.link.send({ ...frame, data: s.text.write(bytes) + (last ? s.text.end() : '') });
    }
    return last;
  }

  private receive(raw: unknown, bytes: Buffer | undefined): void {
    if (!isPeerMessage(raw)) return;
    if (raw.t !== 'snap') {
      if (bytes !== undefined) this.close(`a frame of bytes that is not a snapshot's (${raw.t})`);
      else this.onMessage?.(raw);
      return;
    }
    if (this.chunks.length === 0 && this.joined === undefined && this.textChunks.length === 0) this.onSnapshotComing?.();
    const text = bytes === undefined && typeof raw.data === 'string' ? raw.data : '';
    this.arrived += bytes?.length ?? text.length;
    if (this.arrived > (bytes === undefined ? this.maxSnapshot.chars : this.maxSnapshot.bytes)) {
      this.forgetSnapshot();
      return this.close(`a snapshot of more than ${bytes === undefined ? `${this.maxSnapshot.chars} characters` : `${this.maxSnapshot.bytes} bytes`}, more than one ${bytes === undefined ? 'string' : 'buffer'} can hold`);
    }
    if (bytes !== undefined) this.takeBytes(raw, bytes);
    else this.textChunks.push(text);
    if (raw.last !== true) return;
    const { chunks, joined, textChunks } = this;
    this.forgetSnapshot();
    // One sender sends one snapshot all one way; both at once is a broken stream, never installed.
    if ((chunks.length > 0 || joined !== undefined) && textChunks.some((t) => t.length > 0)) return this.close('a snapshot that came partly as text and partly as bytes');
    const data = joined !== undefined ? joined.buf.subarray(0, joined.at) : chunks.length > 0 ? Buffer.concat(chunks) : textChunks.join('');
    this.onMessage?.({ ...raw, data, last: true });
  }

  /** Lets go of the chunks of a snapshot arriving. */
  private forgetSnapshot(): void {
    this.chunks = [];
    this.joined = undefined;
    this.textChunks = [];
    this.arrived = 0;
  }

  /**
   * Keeps a chunk of bytes: copied into one buffer of the size the snapshot's first chunk said,
   * when it said one, else kept to be joined at the last. Joined at the end, a million names'
   * 134 MB were held twice over for a moment, and the second copy's pages were new memory to
   * the process (~2.5 ms a MiB on the benchmark VM). The size is taken as a hint, not a promise:
   * bytes past it go back to the chunks (the snapshot's own trailer is what is checked).
   */
  private takeBytes(raw: PeerMessage, bytes: Buffer): void {
    const said = (raw as { size?: unknown }).size;
    if (this.chunks.length === 0 && this.joined === undefined && typeof said === 'number' && Number.isSafeInteger(said) && said >= bytes.length && said <= constants.MAX_LENGTH) {
      try {
        this.joined = { buf: Buffer.allocUnsafeSlow(said), at: 0 };
      } catch {
        // More than this process may hold at once: joined at the last as before, if it can be.
      }
    }
    const j = this.joined;
    if (j !== undefined && j.at + bytes.length <= j.buf.length) {
      j.at += bytes.copy(j.buf, j.at);
      return;
    }
    if (j !== undefined) {
      this.chunks.push(j.buf.subarray(0, j.at));
      this.joined = undefined;
    }
    this.chunks.push(bytes);
  }
}
