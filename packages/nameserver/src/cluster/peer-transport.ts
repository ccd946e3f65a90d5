// A PeerLink (WebSocket, sealed frames) as the cluster core's PeerTransport: the frames of
// PROTOCOL.md §19.7 (packages/cluster-core/src/messages.ts). The core hands over a snapshot as one
// `snap` frame; on the wire it goes in chunks of its text, the last one marked, and is put back
// together here before the core sees it. The chunks go one a turn of the event loop, and wait
// while the socket holds more than a few unsent megabytes: sealing a million names' snapshot in
// one go held a primary's requests up for most of a second. Frames sent meanwhile queue behind
// the chunks, so the peer still reads them in the order they were sent; ticks alone go past.
import type { PeerMessage, PeerTransport, SnapshotChunk } from '@dpns/cluster-core';
import type { PeerLink } from './peer-link.js';

/** Characters of snapshot text per frame: sealing and sending one takes about a millisecond. */
export const SNAPSHOT_CHUNK = 256 * 1024;
/** Unsent bytes in the socket past which a snapshot's next chunk waits. */
const SNAPSHOT_BUFFERED_BYTES = 4 * 1024 * 1024;
/** How long a chunk waits before the socket's unsent bytes are looked at again. */
const SNAPSHOT_WAIT_MS = 2;

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
  /** Chunks of a snapshot still arriving. */
  private chunks: string[] = [];
  /** Frames waiting to go, in order: a snapshot's chunks and whatever was sent after them. */
  private queue: PeerMessage[] = [];
  private queueAt = 0;
  private draining = false;

  constructor(private readonly link: PeerLink) {
    link.onMessage = (raw) => this.receive(raw);
    link.onClose = (why) => this.onClose?.(why);
  }

  get peerSid(): number {
    return this.link.peerSid;
  }

  get open(): boolean {
    return this.link.open;
  }

  send(m: PeerMessage): void {
    if (m.t === 'snap' && m.data.length > SNAPSHOT_CHUNK) return this.sendSnapshot(m, [m.data]);
    // A tick goes past a snapshot on its way: the backup hears its primary while the chunks come
    // (they reach its core only once the last is in), instead of taking it for lost after a
    // window and following again, which made the primary start another snapshot every window.
    // It says nothing the backup must read after the snapshot: a tick may come before one anyway.
    if (this.queue.length === 0 || m.t === 'tick') return this.link.send(m);
    this.queue.push(m);
  }

  /**
   * A snapshot frame whose text is `parts` joined (as the primary made it: joining a million
   * names' text into one string held its requests up for ~70 ms), sent in chunks of at most
   * SNAPSHOT_CHUNK characters, the last one marked and carrying the voters as `m` does.
   */
  sendSnapshot(m: SnapshotChunk, parts: readonly string[]): void {
    const pieces: string[] = [];
    for (const part of parts) {
      for (let k = 0; k < part.length; k += SNAPSHOT_CHUNK) pieces.push(part.slice(k, k + SNAPSHOT_CHUNK));
    }
    if (pieces.length === 0) pieces.push('');
    pieces.forEach((data, k) => {
      const last = k === pieces.length - 1;
      this.queue.push({ t: 'snap', epoch: m.epoch, index: m.index, data, last: last && m.last, ...(last && m.voters !== undefined ? { voters: m.voters } : {}) });
    });
    this.drain();
  }

  /** Closes the link; frames still waiting are dropped (a snapshot cut short is never installed: its last chunk never came). */
  close(why: string): void {
    this.queue = [];
    this.queueAt = 0;
    this.link.close(why);
  }

  /** Sends the queue a turn at a time: one snapshot chunk, and the small frames up to the next. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    const step = (): void => {
      if (!this.link.open || this.queue.length === 0) {
        this.queue = [];
        this.queueAt = 0;
        this.draining = false;
        return;
      }
      if (this.link.buffered > SNAPSHOT_BUFFERED_BYTES) {
        setTimeout(step, SNAPSHOT_WAIT_MS);
        return;
      }
      let chunks = 0;
      while (this.queueAt < this.queue.length) {
        const m = this.queue[this.queueAt] as PeerMessage;
        if (m.t === 'snap' && chunks > 0) break;
        if (m.t === 'snap') chunks++;
        this.queueAt++;
        this.link.send(m);
      }
      if (this.queueAt === this.queue.length) {
        this.queue = [];
        this.queueAt = 0;
      }
      setImmediate(step);
    };
    setImmediate(step);
  }

  private receive(raw: unknown): void {
    if (!isPeerMessage(raw)) return;
    if (raw.t !== 'snap') return this.onMessage?.(raw);
    this.chunks.push(typeof raw.data === 'string' ? raw.data : '');
    if (raw.last !== true) return;
    const data = this.chunks.join('');
    this.chunks = [];
    this.onMessage?.({ ...raw, data, last: true });
  }
}
