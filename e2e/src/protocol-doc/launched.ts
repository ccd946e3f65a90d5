// The test as a launched service: the agent starts a shell that only prints its ticket line (to
// its log) and waits, and the test then speaks for the service over its own raw connection:
// advertising with the ticket proof (§11.3), answering `ticket.challenge` (§11.4), opening
// `ticket.pair`. So the frames the server sends to a launched service can be held to the doc.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  agent as agentProtocol, openSealed, openWithTicket, parseLaunchTicket, randomHex, ticketProof, type LaunchTicket, type Sealed,
} from '@dpns/protocol';
import { isObject } from '../harness/doc-examples.js';
import type { RawConnection } from '../harness/raw-conn.js';
import type { SectionCtx } from './script.js';

/** The agent's allow map entry the ticket printer runs under. */
export const SHELL_ALLOW = { sh: '/bin/sh' } as const;

/** A service launched as the ticket printer, before anyone has advertised it. */
export interface CapturedLaunch {
  /** The ticket line as the process read it on stdin. */
  readonly line: string;
  readonly ticket: LaunchTicket;
  /** The launchService request's answer, once the service has advertised. */
  readonly launched: Promise<Record<string, unknown>>;
}

/** Registers `name` as the ticket printer, launches it, and waits for its ticket line. */
export async function launchTicketPrinter(ctx: SectionCtx, name: string): Promise<CapturedLaunch> {
  await ctx.call('admin', 'register.add', { name, spec: { host: '127.0.0.1', program: 'sh', args: ['-c', 'head -n 1; exec sleep 600'] } });
  const launcher = await ctx.conn('launcher');
  const launched = launcher.request(`launch ${name}`, 'launchService', { name }, 30_000);
  launched.catch(() => undefined);
  // The agent appends the service's stdout to <state-dir>/logs/<name with "/" as "_">.log.
  const log = join(ctx.dir, 'agent-state', 'logs', `${name.replaceAll('/', '_')}.log`);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const line = (await readFile(log, 'utf8').catch(() => '')).split('\n')[0] ?? '';
    if (line.endsWith('}')) return { line, ticket: parseLaunchTicket(line), launched };
    if (Date.now() > deadline) throw new Error(`no ticket line in ${log} within 15 s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The params of a ticketed advertisement of `t` on `conn`, with a fresh nonce of the service's. */
export function advertiseParams(t: LaunchTicket, conn: RawConnection, host: string, port: number): Record<string, unknown> {
  return {
    name: t.service, host, port, static: false,
    proof: ticketProof(t.ticket, 'advertise', conn.nonce, t.service, host, port), nonce: randomHex(32),
  };
}

/** Advertises the captured launch on connection `svc` and waits for the launch to be answered. */
export async function advertiseAsService(ctx: SectionCtx, launch: CapturedLaunch, svc = 'svc'): Promise<void> {
  const conn = await ctx.conn(svc);
  const params = advertiseParams(launch.ticket, conn, '127.0.0.1', 36361);
  const a = await conn.request(`advertise ${launch.ticket.service}`, 'advertiseService', params);
  const result = isObject(a.result) ? a.result : {};
  const expected = ticketProof(launch.ticket.nameserverTicket, 'nameserver', conn.nonce, String(params.nonce), launch.ticket.service);
  if (result.nameserverProof !== expected) throw new Error(`the ticketed advertisement was answered ${JSON.stringify(a)}`);
  const l = await launch.launched;
  if (!('result' in l)) throw new Error(`the launch was answered ${JSON.stringify(l)}`);
}

/** The answer a service that holds `t` gives to a `ticket.challenge` frame. */
export function challengeAnswer(t: LaunchTicket, challenge: Record<string, unknown>): Record<string, unknown> {
  const params = isObject(challenge.params) ? challenge.params : {};
  return { jsonrpc: '2.0', id: challenge.id, result: { proof: ticketProof(t.ticket, 'challenge', String(params.challenge), t.service) } };
}

/** Everything one authenticateService of the captured service puts on the wire (§11.4). */
export interface AuthExchange {
  /** What the client sent. */
  readonly request: Record<string, unknown>;
  /** The server's `ticket.challenge` to the service. */
  readonly challenge: Record<string, unknown>;
  /** The service's answer (sent by the test). */
  readonly answer: Record<string, unknown>;
  /** The server's `ticket.pair` to the service. */
  readonly pairFrame: Record<string, unknown>;
  /** The pair's JSON text, opened from `ticket.pair` with the service ticket. */
  readonly pairText: string;
  /** The client's answer. */
  readonly result: Record<string, unknown>;
  /** The pair's JSON text, opened from the answer with the client's box key. */
  readonly clientPairText: string | undefined;
}

/** A client authenticates the service; the test answers the challenge as the service. */
export async function authenticate(ctx: SectionCtx, launch: CapturedLaunch, id: unknown, svc = 'svc'): Promise<AuthExchange> {
  const box = agentProtocol.newBoxKeyPair();
  const request = { jsonrpc: '2.0', id, method: 'authenticateService', params: { name: launch.ticket.service, boxKey: box.publicKey } };
  const client = await ctx.conn('client');
  const service = await ctx.conn(svc);
  client.send(request);
  const challenge = await service.message('ticket.challenge');
  const answer = challengeAnswer(launch.ticket, challenge);
  service.send(answer);
  const pairFrame = await service.message('ticket.pair');
  const result = await client.answer(id);
  const pairText = openWithTicket(launch.ticket.ticket, sealedOf(pairFrame.params)) ?? '';
  const clientPairText = openSealed(sealedOf(result.result), box.secretKey);
  return { request, challenge, answer, pairFrame, pairText, result, clientPairText };
}

/** The `sealed` member of `v`, as the server sent it (opening it checks the rest). */
function sealedOf(v: unknown): Sealed {
  const s = isObject(v) && isObject(v.sealed) ? v.sealed : {};
  return { nonce: String(s.nonce), box: String(s.box), ...(typeof s.from === 'string' ? { from: s.from } : {}) };
}
