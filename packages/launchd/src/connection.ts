// One name server connection: the agent's hello, at most one request, one reply, close.
// awaiting-request → handling → closing → closed; idle or oversized or second frames are refused
// and logged with the peer's address.
import type { WebSocket } from 'ws';
import type { Admission } from './admission.js';
import type { HelloMaker } from './hello.js';
import type { Logger } from './log.js';
import { AgentError, agentErrorReply, type AgentHello, type AgentReply, type AgentRequestBody, type BoxKeyPair } from './wire.js';

export type ConnectionState = 'awaiting-request' | 'handling' | 'closing' | 'closed';

/** Carries out an admitted request on behalf of a connection. */
export type RequestHandler = (body: AgentRequestBody, conn: { box: BoxKeyPair; remote: string }) => Promise<AgentReply>;

export interface ConnectionOptions {
  hellos: HelloMaker;
  admission: Admission;
  handle: RequestHandler;
  log: Logger;
  idleMs: number;
  maxFrameBytes: number;
}

export class AgentConnection {
  state: ConnectionState = 'awaiting-request';
  /** Fresh per connection: the request must name its public half, the ticket is sealed to it. */
  readonly box: BoxKeyPair;
  private readonly hello: AgentHello;
  private idle: NodeJS.Timeout | undefined;
  private handling: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(
    readonly ws: WebSocket,
    readonly remote: string,
    private readonly opts: ConnectionOptions,
  ) {
    this.log = opts.log.child({ remote });
    ({ box: this.box, hello: this.hello } = opts.hellos.take());
  }

  start(): void {
    this.ws.on('error', (err: Error & { code?: string }) => {
      // ws reports a frame over its hard limit and other protocol violations (WS_ERR_*) here,
      // then closes; anything else is the network, not the peer's doing.
      if (err.code?.startsWith('WS_ERR_') === true) this.refused('BAD_REQUEST', `websocket error: ${err.message}`, { wsCode: err.code });
      else this.log.debug('connection error', { err: err.message });
    });
    this.ws.on('close', () => this.onClose());
    this.ws.on('message', (data: Buffer, isBinary: boolean) => this.onFrame(data, isBinary));
    this.idle = setTimeout(() => {
      this.refused('BAD_REQUEST', `no request within ${this.opts.idleMs} ms; connection closed`);
      this.end(1008, 'no request in time');
    }, this.opts.idleMs);
    this.ws.send(JSON.stringify(this.hello));
  }

  /** Settles once the request of this connection, if any, has been answered. */
  settled(): Promise<void> {
    return this.handling;
  }

  /** Closes a connection that has no request in progress; one that has finishes first. */
  shutdown(): void {
    if (this.state === 'awaiting-request') this.end(1001, 'agent shutting down');
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.state !== 'awaiting-request') {
      this.refused('BAD_REQUEST', 'a second frame on a connection: only one request per connection is accepted; it was ignored');
      return;
    }
    this.state = 'handling';
    clearTimeout(this.idle);
    this.handling = this.answer(data, isBinary);
  }

  private async answer(data: Buffer, isBinary: boolean): Promise<void> {
    let reply: AgentReply;
    let op: string | undefined;
    try {
      if (isBinary) throw new AgentError('BAD_REQUEST', 'a request is a JSON text frame, not binary');
      if (data.length > this.opts.maxFrameBytes) {
        throw new AgentError('BAD_REQUEST', `the request frame is ${data.length} bytes, over the ${this.opts.maxFrameBytes}-byte limit`);
      }
      const body = await this.opts.admission.admit(data.toString('utf8'), this.box.publicKey);
      op = body.op;
      reply = await this.opts.handle(body, { box: this.box, remote: this.remote });
    } catch (e) {
      if (e instanceof AgentError) {
        this.refused(e.code, e.message, op === undefined ? {} : { op });
        reply = agentErrorReply(e.code, e.message);
      } else {
        this.log.error('request failed unexpectedly', { op, err: e });
        reply = agentErrorReply('INTERNAL', 'the agent failed unexpectedly while handling the request; its log on this host has the details');
      }
    }
    if (this.state !== 'handling') return;
    this.state = 'closing';
    this.ws.send(JSON.stringify(reply), () => this.end(1000, 'done'));
  }

  private refused(code: string, reason: string, fields: Record<string, unknown> = {}): void {
    this.log.warn('refused', { code, reason, ...fields });
  }

  private end(code: number, reason: string): void {
    if (this.state === 'closed') return;
    clearTimeout(this.idle);
    if (this.state !== 'closing') this.state = 'closing';
    this.ws.close(code, reason);
    // A peer that does not finish the close handshake is cut off.
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }

  private onClose(): void {
    clearTimeout(this.idle);
    this.state = 'closed';
  }
}
