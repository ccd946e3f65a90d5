// The seam between a member and the wire: a link to one other member that carries PeerMessages
// in order. The server's PeerLink (WebSocket, sealed frames) is one implementation; the
// simulator's in-memory network is another. The core never holds one: it says `send` in an
// effect and the driver picks the link.
import type { PeerMessage } from './messages.js';

export interface PeerTransport {
  /** The member at the other end. */
  readonly peerSid: number;
  /** Queues a frame; frames arrive in the order sent, or the link closes. */
  send(m: PeerMessage): void;
  /** Closes the link, saying why; safe to call twice. */
  close(why: string): void;
  /** Each frame received. */
  onMessage: ((m: PeerMessage) => void) | undefined;
  /** Once, when the link closes from either end. */
  onClose: ((why: string) => void) | undefined;
}
