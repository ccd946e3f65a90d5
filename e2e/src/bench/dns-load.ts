// DNS queries as a benchmark target: SRV questions over UDP sockets, a request id per question,
// each answered or counted as an error after a second (a datagram can be dropped; a closed
// loop must not wait for it forever). Encoded and decoded with dns-packet, like the server.
import { createSocket, type Socket } from 'node:dgram';
import * as packet from 'dns-packet';
import type { Issue } from './loadgen.js';

/** How long a question waits before it counts as an error. */
const ANSWER_TIMEOUT_MS = 1000;

export interface DnsLoad {
  issue: Issue;
  /** The first error seen (a timeout or an rcode other than NOERROR), for the row's note. */
  firstError(): string | undefined;
  close(): void;
}

/** `sockets` UDP sockets to 127.0.0.1:`port`; each issued request asks `qname(seq)` SRV. */
export async function openDnsLoad(port: number, sockets: number, qname: (seq: number) => string): Promise<DnsLoad> {
  let firstError: string | undefined;
  const socks = await Promise.all(Array.from({ length: sockets }, () => new Promise<Socket>((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  })));
  const pending = socks.map(() => new Map<number, { done: (ok: boolean) => void; timer: NodeJS.Timeout }>());
  const nextId = socks.map(() => 0);
  socks.forEach((s, k) => {
    s.on('message', (m) => {
      if (m.length < 12) return;
      const p = pending[k]?.get(m.readUInt16BE(0));
      if (p === undefined) return;
      pending[k]?.delete(m.readUInt16BE(0));
      clearTimeout(p.timer);
      const rcode = m.readUInt16BE(2) & 0xf;
      const answers = m.readUInt16BE(6);
      const ok = rcode === 0 && answers > 0;
      if (!ok) firstError ??= `rcode ${rcode}, ${answers} answers`;
      p.done(ok);
    });
  });
  const issue: Issue = (slot, seq, done) => {
    const k = slot % socks.length;
    const map = pending[k] as Map<number, { done: (ok: boolean) => void; timer: NodeJS.Timeout }>;
    let id = (nextId[k] as number) & 0xffff;
    while (map.has(id)) id = (id + 1) & 0xffff;
    nextId[k] = id + 1;
    const timer = setTimeout(() => {
      map.delete(id);
      firstError ??= `no answer within ${ANSWER_TIMEOUT_MS} ms`;
      done(false);
    }, ANSWER_TIMEOUT_MS);
    map.set(id, { done, timer });
    const q = packet.encode({ type: 'query', id, flags: 0, questions: [{ name: qname(seq), type: 'SRV', class: 'IN' }] });
    (socks[k] as Socket).send(q, port, '127.0.0.1');
  };
  return {
    issue,
    firstError: () => firstError,
    close: () => {
      for (const map of pending) for (const p of map.values()) clearTimeout(p.timer);
      for (const s of socks) s.close();
    },
  };
}
