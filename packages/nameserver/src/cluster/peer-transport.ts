// A PeerLink (WebSocket, sealed frames) as the cluster core's PeerTransport: the frames of
// PROTOCOL.md §19.7 (packages/cluster-core/src/messages.ts). The core hands over a snapshot as one
// `snap` frame; on the wire it goes in chunks of its JSON, the last one marked, and is put back
// together here before the core sees it.
import type { PeerMessage, PeerTransport, SnapshotChunk } from '@dpns/cluster-core';
import type { PeerLink } from './peer-link.js';

/** Characters of snapshot JSON per frame. */
export const SNAPSHOT_CHUNK = 1024 * 1024;

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
    if (m.t !== 'snap' || m.data.length <= SNAPSHOT_CHUNK) return this.link.send(m);
    for (let k = 0; k < m.data.length; k += SNAPSHOT_CHUNK) {
      const last = k + SNAPSHOT_CHUNK >= m.data.length;
      const chunk: SnapshotChunk = { t: 'snap', epoch: m.epoch, index: m.index, data: m.data.slice(k, k + SNAPSHOT_CHUNK), last: last && m.last, ...(last && m.voters !== undefined ? { voters: m.voters } : {}) };
      this.link.send(chunk);
    }
  }

  close(why: string): void {
    this.link.close(why);
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
