// One authenticated, encrypted WebSocket between two members of a cluster. Both ends prove they
// hold the cluster key (HMAC over both sides' fresh nonces; the key never travels), then every
// frame is sealed with ChaCha20-Poly1305 under per-direction session keys and numbered, so a
// peer without the key can neither read the log (it carries launch tickets), nor inject, replay
// or reorder a frame. A frame is JSON text, or a JSON header followed by bytes (a snapshot's
// chunk: PROTOCOL.md §19.7), which only goes to a member that said in its handshake it takes them.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual, type CipherChaCha20Poly1305 } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { WebSocket, type RawData } from 'ws';

/** The URL path peers dial on the name server's port. */
export const PEER_PATH = '/peer';
const TAG_BYTES = 16;
/** Large enough for a snapshot chunk or a batch of log records. */
export const PEER_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** An opened frame: its JSON, and the bytes after it if it was a frame of bytes. */
export type PeerMessageHandler = (msg: unknown, bytes?: Buffer) => void;

/** A frame of bytes starts (once opened) with this byte, where a JSON frame starts with `{`. */
const BYTES_FRAME = 0;
/** The marker and the header's length (u32, big-endian) before a frame of bytes' JSON header. */
const BYTES_PREFIX = 5;

/** The derived secret every member holds; from the shared nameserver.key. */
export type ClusterKey = Buffer;

/** Names one --cluster list (a short hash): members given different lists refuse each other, saying so. */
export function memberListId(members: readonly string[]): string {
  return createHash('sha256').update(members.join(',')).digest('hex').slice(0, 16);
}

export function deriveClusterKey(seed: Uint8Array): ClusterKey {
  return createHmac('sha256', Buffer.from(seed.subarray(0, 32))).update('dpns cluster key v1').digest();
}

function mac(key: Buffer, ...parts: (string | number)[]): Buffer {
  return createHmac('sha256', key).update(parts.join('|')).digest();
}

function sameMac(a: Buffer, hex: unknown): boolean {
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) return false;
  return timingSafeEqual(a, Buffer.from(hex, 'hex'));
}

/** A link that has passed the handshake. `send` seals; incoming frames are opened before `onMessage`. */
export class PeerLink {
  private sendCounter = 0n;
  private recvCounter = 0n;
  private handler: PeerMessageHandler | undefined;
  /** Frames that arrived before anyone listened (in the same read as the handshake's last frame). */
  private early: { msg: unknown; bytes: Buffer | undefined }[] = [];
  onClose: (reason: string) => void = () => undefined;
  private closed = false;

  private constructor(
    readonly ws: WebSocket,
    /** The SID of the server at the other end. */
    readonly peerSid: number,
    private readonly sendKey: Buffer,
    private readonly recvKey: Buffer,
    /** The SID this end has on the link. */
    readonly selfSid: number,
    /** The other end said in its handshake that it takes frames of bytes (members since 2026-12-07). */
    readonly peerTakesBytes: boolean,
  ) {
    ws.on('message', (data: RawData) => this.receive(data));
    ws.on('close', (code, reason) => this.end(`closed (${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`));
    ws.on('error', (err) => this.end(`error: ${err.message}`));
  }

  /** Who hears the opened frames; ones that came before it was set are handed over at once, in order. */
  set onMessage(h: PeerMessageHandler) {
    this.handler = h;
    const early = this.early;
    this.early = [];
    for (const m of early) h(m.msg, m.bytes);
  }

  get open(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  /** Bytes queued in the socket, not yet sent: how far behind this peer is reading. */
  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  send(msg: object): void {
    if (!this.open) return;
    const c = this.cipher();
    this.ws.send(Buffer.concat([c.update(JSON.stringify(msg), 'utf8'), c.final(), c.getAuthTag()]));
  }

  /**
   * Sends `header` and `bytes` as one frame of bytes: sealed like any other, with no text made of
   * the bytes on either side (a snapshot's 134 MB, sent as JSON strings, cost each end about a
   * second of its event loop to escape and parse). Only to a peer that takes them.
   */
  sendBytes(header: object, bytes: Uint8Array): void {
    if (!this.peerTakesBytes) throw new Error(`member ${this.peerSid} does not take frames of bytes`);
    if (!this.open) return;
    const head = Buffer.from(JSON.stringify(header), 'utf8');
    const prefix = Buffer.alloc(BYTES_PREFIX);
    prefix[0] = BYTES_FRAME;
    prefix.writeUInt32BE(head.length, 1);
    const c = this.cipher();
    this.ws.send(Buffer.concat([c.update(prefix), c.update(head), c.update(bytes), c.final(), c.getAuthTag()]));
  }

  private cipher(): CipherChaCha20Poly1305 {
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64BE(this.sendCounter++, 4);
    return createCipheriv('chacha20-poly1305', this.sendKey, nonce, { authTagLength: TAG_BYTES });
  }

  close(reason: string): void {
    if (this.closed) return;
    this.end(reason);
    this.ws.close(1000, reason.slice(0, 120));
    // A peer that does not answer the close promptly is cut off.
    setTimeout(() => this.ws.terminate(), 500).unref();
  }

  /** Cuts the link at once, with no closing handshake (a peer we stopped trusting). */
  terminate(reason: string): void {
    this.end(reason);
    this.ws.terminate();
  }

  private end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(reason);
  }

  private receive(data: RawData): void {
    if (this.closed) return;
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (buf.length < TAG_BYTES) return this.terminate('a frame too short to be sealed');
    const nonce = Buffer.alloc(12);
    nonce.writeBigUInt64BE(this.recvCounter++, 4);
    let plain: Buffer;
    try {
      const d = createDecipheriv('chacha20-poly1305', this.recvKey, nonce, { authTagLength: TAG_BYTES });
      d.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
      const opened = d.update(buf.subarray(0, buf.length - TAG_BYTES));
      // ChaCha20 is a stream cipher: final() checks the tag and gives nothing more, so the
      // update's bytes are the frame (not copied again: a snapshot's chunks are 96 KiB each).
      const rest = d.final();
      plain = rest.length === 0 ? opened : Buffer.concat([opened, rest]);
    } catch {
      return this.terminate('a frame failed its seal check (forged, replayed or out of order)');
    }
    let text = plain;
    let bytes: Buffer | undefined;
    if (plain.length > 0 && plain[0] === BYTES_FRAME) {
      const headLength = plain.length >= BYTES_PREFIX ? plain.readUInt32BE(1) : -1;
      if (headLength < 0 || BYTES_PREFIX + headLength > plain.length) return this.terminate('a frame of bytes whose header does not fit in it');
      text = plain.subarray(BYTES_PREFIX, BYTES_PREFIX + headLength);
      bytes = plain.subarray(BYTES_PREFIX + headLength);
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text.toString('utf8'));
    } catch {
      return this.terminate('a sealed frame that is not JSON');
    }
    if (this.handler === undefined) this.early.push({ msg, bytes });
    else this.handler(msg, bytes);
  }

  /**
   * Dials `url` as member `selfSid`, expecting member `peerSid` to answer. Rejects when the other
   * end cannot prove it holds the cluster key, or within `timeoutMs`.
   */
  static dial(url: string, key: ClusterKey, list: string, selfSid: number, peerSid: number, timeoutMs: number): Promise<PeerLink> {
    const n1 = randomBytes(32).toString('hex');
    // `to`: the SID we take the other end to be; a server joining the cluster learns its own from it (accept).
    const ws = new WebSocket(`${url}${PEER_PATH}?sid=${selfSid}&to=${peerSid}&nonce=${n1}&list=${list}`, {
      maxPayload: PEER_MAX_FRAME_BYTES, perMessageDeflate: false, handshakeTimeout: timeoutMs,
    });
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        ws.removeAllListeners('message');
        ws.on('error', () => undefined);
        ws.terminate();
        reject(new Error(why));
      };
      const timer = setTimeout(() => fail(`no peer handshake from ${url} within ${timeoutMs} ms`), timeoutMs);
      ws.once('error', (err) => fail(`cannot reach ${url}: ${err.message}`));
      ws.once('close', () => fail(`${url} closed the connection during the peer handshake`));
      ws.once('message', (data: RawData, isBinary) => {
        let hello: { t?: unknown; sid?: unknown; nonce?: unknown; proof?: unknown; list?: unknown; bytes?: unknown };
        try {
          hello = isBinary ? {} : (JSON.parse(String(data)) as typeof hello);
        } catch {
          hello = {};
        }
        const n2 = hello.nonce;
        if (hello.t !== 'peer-hello' || typeof n2 !== 'string' || !/^[0-9a-f]{64}$/.test(n2)) return fail(`${url} is not a dpns cluster member (bad peer hello)`);
        if (hello.list !== list || hello.sid !== peerSid) {
          return fail(`${url} was given another --cluster list (it says it is SID ${String(hello.sid)}; ours says ${peerSid}): every member needs the same list, in the same order`);
        }
        if (!sameMac(mac(key, 'acceptor', n1, n2, peerSid, selfSid, list), hello.proof)) {
          return fail(`${url} could not prove it holds the cluster key: its nameserver.key differs from ours`);
        }
        clearTimeout(timer);
        ws.removeAllListeners('error');
        ws.removeAllListeners('close');
        ws.send(JSON.stringify({ t: 'peer-auth', proof: mac(key, 'dialer', n1, n2, selfSid, peerSid, list).toString('hex'), bytes: true }));
        resolve(new PeerLink(ws, peerSid, mac(key, 'd2a', n1, n2), mac(key, 'a2d', n1, n2), selfSid, hello.bytes === true));
      });
    });
  }

  /**
   * Answers a dial on PEER_PATH as member `ourSid` (undefined: a joining server that does not know
   * its SID yet, which takes the one it is dialed as; the link's `selfSid` says which). Resolves
   * with the link once the dialer has proved the key; rejects (and closes the socket) otherwise.
   */
  static accept(ws: WebSocket, req: IncomingMessage, key: ClusterKey, list: string, ourSid: number | undefined, timeoutMs: number): Promise<PeerLink> {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const dialerSid = Number(q.get('sid'));
    // A joining server that does not know its SID yet takes the one it is dialed as (the dialer proves the key below).
    const selfSid = ourSid ?? Number(q.get('to'));
    const n1 = q.get('nonce') ?? '';
    const theirList = q.get('list');
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        ws.on('error', () => undefined);
        ws.close(1008, why.slice(0, 120));
        setTimeout(() => ws.terminate(), 500).unref();
        reject(new Error(why));
      };
      const timer = setTimeout(() => fail('no peer-auth within the time limit'), timeoutMs);
      // Any SID: members added later have SIDs past the --cluster list's (the key proves membership).
      if (!Number.isSafeInteger(dialerSid) || dialerSid < 0 || dialerSid === selfSid) return fail(`peer SID ${q.get('sid')} is not another member of this cluster`);
      if (!Number.isSafeInteger(selfSid) || selfSid < 0) return fail('this server is joining the cluster and does not know its SID yet: only a member that dials it with one (to=SID) gets a link');
      if (!/^[0-9a-f]{64}$/.test(n1)) return fail('peer nonce must be 64 hex digits');
      const n2 = randomBytes(32).toString('hex');
      // Our list goes out either way, so the dialer can say what is wrong; a member with another list gets no link.
      ws.send(JSON.stringify({ t: 'peer-hello', sid: selfSid, list, nonce: n2, proof: mac(key, 'acceptor', n1, n2, selfSid, dialerSid, list).toString('hex'), bytes: true }));
      if (theirList !== list) return fail(`member ${dialerSid} was given another --cluster list; every member needs the same list, in the same order`);
      ws.once('close', () => fail('closed during the peer handshake'));
      ws.once('message', (data: RawData, isBinary) => {
        let auth: { t?: unknown; proof?: unknown; bytes?: unknown };
        try {
          auth = isBinary ? {} : (JSON.parse(String(data)) as typeof auth);
        } catch {
          auth = {};
        }
        if (auth.t !== 'peer-auth' || !sameMac(mac(key, 'dialer', n1, n2, dialerSid, selfSid, list), auth.proof)) {
          return fail('the dialer could not prove it holds the cluster key');
        }
        clearTimeout(timer);
        ws.removeAllListeners('close');
        resolve(new PeerLink(ws, dialerSid, mac(key, 'a2d', n1, n2), mac(key, 'd2a', n1, n2), selfSid, auth.bytes === true));
      });
    });
  }
}
