// The name server ↔ launch agent link, for §17's examples: one agent connection opened by the
// test (speaking as the name server, with its key), and a recording proxy the name server dials
// instead of the agent, so its own frames can be read back.
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { randomHex } from '@dpns/protocol';
import { parsePrivateKeyFile } from '@dpns/node-kit';
import { isObject } from '../harness/doc-examples.js';
import {
  decodeConnection, ECHO_SERVICE, startAgentProcess, startRecordingProxy,
} from '../harness/index.js';
import type { SectionCtx } from './script.js';

/** One agent connection: its hello, and a way to send the one request it takes. */
export interface AgentConn {
  readonly hello: Record<string, unknown>;
  /** Sends a frame and resolves with the agent's reply. */
  send(frame: unknown): Promise<Record<string, unknown>>;
  close(): void;
}

/** Opens a connection to the agent at `port` and reads its hello. */
export function openAgent(port: number): Promise<AgentConn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    const frames: Record<string, unknown>[] = [];
    let wake: (() => void) | undefined;
    ws.on('error', reject);
    ws.on('message', (data) => {
      const v: unknown = JSON.parse(String(data));
      if (isObject(v)) frames.push(v);
      wake?.();
    });
    const nextFrame = async (): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + 10_000;
      while (frames.length === 0) {
        if (Date.now() > deadline) throw new Error('the agent sent nothing within 10 s');
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
      return frames.shift() as Record<string, unknown>;
    };
    ws.once('open', () => {
      nextFrame().then((hello) => resolve({
        hello,
        send: (frame) => {
          ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
          return nextFrame();
        },
        close: () => ws.terminate(),
      }), reject);
    });
  });
}

/** Signs request bodies as the section's name server (its key file), or with a key of its own. */
export class RequestSigner {
  private readonly key: ReturnType<typeof createPrivateKey>;
  readonly publicKey: string;

  constructor(seedHex: string = randomHex(32)) {
    // An Ed25519 seed wrapped as PKCS#8, so node's crypto signs exactly as tweetnacl does.
    this.key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedHex, 'hex')]), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(this.key).export({ format: 'der', type: 'spki' });
    this.publicKey = spki.subarray(spki.length - 32).toString('hex');
  }

  /** The signer of the name server whose data directory is `dataDir`. */
  static ofNameServer(dataDir: string): RequestSigner {
    const parsed = parsePrivateKeyFile(readFileSync(join(dataDir, 'nameserver.key'), 'utf8'));
    if (parsed === undefined) throw new Error(`no key in ${dataDir}/nameserver.key`);
    return new RequestSigner(parsed.seed);
  }

  /** The request frame for `body` (an object, made JSON text here, or a text as given). */
  frame(body: Record<string, unknown> | string): Record<string, unknown> {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return { type: 'request', key: this.publicKey, body: text, sig: sign(null, Buffer.from(`dpns-agent-request\n${text}`), this.key).toString('hex') };
  }
}

/** The envelope members of §17.3 for a request on `conn`. */
export function envelope(conn: AgentConn, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { nonce: randomHex(32), ts: Date.now(), epoch: 1, boxKey: conn.hello.boxKey, target: '127.0.0.1', agent: conn.hello.identity, ...more };
}

/** One recorded name server → agent exchange. */
export interface AgentExchange {
  readonly hello: Record<string, unknown>;
  readonly request: Record<string, unknown>;
  readonly reply: Record<string, unknown>;
}

/**
 * Puts a recording proxy where the section's name server dials its agent: the agent moves to
 * another port (same state, so the same identity, still trusted) and the proxy takes its port.
 */
export async function recordAgentLink(ctx: SectionCtx): Promise<{ exchanges: () => AgentExchange[]; close: () => Promise<void> }> {
  const port = ctx.agent?.port ?? 0;
  await ctx.stopAgent();
  const agent = await startAgentProcess({
    trustedKeys: [ctx.ns.publicKey], allow: { echo: ECHO_SERVICE }, stateDir: join(ctx.dir, 'agent-state'),
  });
  const proxy = await startRecordingProxy({ target: { host: '127.0.0.1', port: agent.port }, port });
  const exchanges = (): AgentExchange[] => proxy.connections.flatMap((c) => {
    const { request, response } = decodeConnection(Buffer.concat(c.toTarget), Buffer.concat(c.fromTarget));
    const json = (bufs: Buffer[]): Record<string, unknown>[] => bufs.flatMap((b) => {
      try {
        const v: unknown = JSON.parse(b.toString('utf8'));
        return isObject(v) ? [v] : [];
      } catch {
        return [];
      }
    });
    const [hello, reply] = json(response.messages);
    const [req] = json(request.messages);
    return hello !== undefined && req !== undefined && reply !== undefined ? [{ hello, request: req, reply }] : [];
  });
  return {
    exchanges,
    close: async () => {
      await proxy.close();
      await agent.kill('SIGKILL');
    },
  };
}

/** A request frame with its body parsed, so it is compared member by member. */
export function bodyParsed(v: unknown): unknown {
  return isObject(v) && typeof v.body === 'string' ? { ...v, body: JSON.parse(v.body) as unknown } : v;
}
