// Fills a name server quickly: static advertisements (admin), 64 to a JSON-RPC batch, several
// batches in flight, over one raw WebSocket.
import WebSocket from 'ws';
import { adminProof } from '@dpns/protocol';

interface Answer {
  id?: number;
  result?: unknown;
  error?: { message: string };
}

/** A minimal admin connection for setting up a test; not the client library under test. */
export class RawAdmin {
  private nextId = 1;
  private readonly waiting = new Map<number, (a: Answer) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as Answer | Answer[];
      for (const a of Array.isArray(msg) ? msg : [msg]) {
        if (typeof a.id === 'number') this.waiting.get(a.id)?.(a);
      }
    });
  }

  static async connect(url: string, token: string): Promise<RawAdmin> {
    const ws = new WebSocket(url, { maxPayload: 256 * 1024 * 1024 });
    const nonce = await new Promise<string>((resolve, reject) => {
      ws.once('error', reject);
      ws.once('message', (data: Buffer) => resolve((JSON.parse(data.toString('utf8')) as { params: { nonce: string } }).params.nonce));
    });
    ws.on('error', () => undefined);
    const admin = new RawAdmin(ws);
    await admin.batch([{ method: 'login', params: { proof: adminProof(token, nonce) } }]);
    return admin;
  }

  /** Sends the requests as one batch; rejects with the first error. */
  async batch(reqs: { method: string; params: unknown }[]): Promise<void> {
    const ids = reqs.map(() => this.nextId++);
    const answers = ids.map((id) => new Promise<Answer>((resolve) => this.waiting.set(id, resolve)));
    this.ws.send(JSON.stringify(reqs.map((r, i) => ({ jsonrpc: '2.0', id: ids[i], ...r }))));
    for (const a of await Promise.all(answers)) {
      this.waiting.delete(a.id ?? -1);
      if (a.error !== undefined) throw new Error(a.error.message);
    }
  }

  /** One request; resolves with its result. */
  async call(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    const answer = new Promise<Answer>((resolve) => this.waiting.set(id, resolve));
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    const a = await answer;
    this.waiting.delete(id);
    if (a.error !== undefined) throw new Error(`${method}: ${a.error.message}`);
    return a.result;
  }

  /** Advertises `names` as static entries on host:port (port + i for the i-th). */
  async advertiseStatic(names: string[], host: string, port: number): Promise<void> {
    const BATCH = 64;
    const IN_FLIGHT = 8;
    const batches: { method: string; params: unknown }[][] = [];
    for (let i = 0; i < names.length; i += BATCH) {
      batches.push(names.slice(i, i + BATCH).map((name, k) => ({
        method: 'advertiseService', params: { name, host, port: 1 + ((port + i + k) % 65535), static: true },
      })));
    }
    let next = 0;
    const worker = async () => {
      while (next < batches.length) await this.batch(batches[next++] ?? []);
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  }

  close(): void {
    this.ws.close();
  }
}
