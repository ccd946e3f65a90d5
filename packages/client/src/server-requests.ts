// Requests the server sends the client (protocol 1 has one: `ticket.challenge`, to a launched
// service). Each is answered on the connection it came on, with a result or a wire error; a
// method nobody handles is METHOD_NOT_FOUND, and anything unexpected is INTERNAL on the wire.
import { DpnsError, isDpnsError, type RequestId } from '@dpns/protocol';
import type { Connection } from './connection.js';

/** Answers one server request; throws DpnsError to answer with that error. */
export type ServerRequestHandler = (conn: Connection, params: unknown) => Promise<unknown>;

export class ServerRequests {
  readonly #handlers = new Map<string, ServerRequestHandler>();

  /** Handles `method` from now on (one handler per method). */
  handle(method: string, handler: ServerRequestHandler): void {
    this.#handlers.set(method, handler);
  }

  /** Runs the handler and sends its answer on `conn`; never throws. */
  async answer(conn: Connection, id: RequestId, method: string, params: unknown): Promise<void> {
    let frame: string;
    try {
      const handler = this.#handlers.get(method);
      if (handler === undefined) throw new DpnsError('METHOD_NOT_FOUND', `this client does not answer ${JSON.stringify(method)}`);
      const result = await handler(conn, params);
      frame = JSON.stringify({ jsonrpc: '2.0', id, result });
    } catch (err) {
      // A local code (CLOSED, TIMEOUT) or a bug becomes INTERNAL: the server learns nothing more.
      const wire = isDpnsError(err) ? err.toWire() : new DpnsError('INTERNAL', `${method} failed in the client`).toWire();
      frame = JSON.stringify({ jsonrpc: '2.0', id, error: wire });
    }
    // The connection may have closed while the handler ran; the server then has nobody to tell.
    if (conn.state !== 'open') return;
    try {
      conn.send(frame);
    } catch {
      // Closed between the check and the send: same as above.
    }
  }
}
