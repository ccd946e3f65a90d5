// Corking a WebSocket's TCP socket, so that many frames to one peer leave in one write instead of
// one syscall each. Also a subpath export (`@dpns/nameserver/cork`): the benchmark's echo server
// batches its answers with this very function, so its "ceiling" is a ceiling for the same writes.
import type { WebSocket } from 'ws';

export interface Corkable {
  cork(): void;
  uncork(): void;
}

/** The socket under `ws`: ws keeps its net.Socket in a private field. */
export function corkable(ws: WebSocket): Corkable | undefined {
  return (ws as unknown as { _socket?: Corkable })._socket;
}

/**
 * A hook to call on each incoming message of `ws`: the first message of a socket read corks the
 * socket, and the next tick uncorks it. ws emits every frame of one read in one synchronous loop,
 * so the immediate answers to all of them leave in one write — most of the cost of a pipelined
 * find is otherwise one syscall per answer. Answers that wait for a promise leave after the flush.
 */
export function corkPerRead(ws: WebSocket): () => void {
  let corked = false;
  return () => {
    if (corked) return;
    const socket = corkable(ws);
    if (socket === undefined) return;
    corked = true;
    socket.cork();
    process.nextTick(() => {
      corked = false;
      socket.uncork();
    });
  };
}
