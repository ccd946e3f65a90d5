// Dialing a host's launch agent for one operation: hello, one signed request, one reply.
// Nothing is sent to an agent this name server does not trust for that host: with no trusted
// identity the agent is not dialed at all, and a hello from another identity gets no request.
import { WebSocket } from 'ws';
import { agent as A } from '@dpns/protocol';
import { formatHostPort } from '@dpns/node-kit';
import '@dpns/node-kit/use-native-crypto';

export interface AgentTarget {
  /** The host as the name server dials it; the request names it, so another agent refuses it. */
  host: string;
  port: number;
  /** The agent identities (hex) trusted on this host (AgentTrust.keysFor); empty when none is. */
  trusted: readonly string[];
}

/** Why an agent operation did not produce a reply: the `cause` of a LAUNCH_FAILED. */
export type AgentFailure = 'AGENT_UNREACHABLE' | 'AGENT_BAD_RESPONSE' | 'AGENT_UNTRUSTED';

export class AgentCallError extends Error {
  override readonly name = 'AgentCallError';
  constructor(readonly failure: AgentFailure, message: string) {
    super(message);
  }
}

export interface AgentCallOptions {
  key: A.SigningKey;
  epoch: number;
  timeoutMs: number;
  /** Builds the operation once the hello is known (a launch seals its ticket to the hello's boxKey). */
  build: (hello: A.AgentHello) => A.AgentOperation;
  /**
   * Resolves once the request may be sent (a launch's `starting` record is durable): the dial and
   * the agent's hello go on meanwhile. A rejection ends the call, with nothing sent, and that error.
   */
  ready?: Promise<unknown>;
}

/** What a launch starts: the program part of a LaunchSpec. */
export interface ProgramSpec {
  program: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  user?: string;
}

/** A launch operation, its whole spec and ticket line sealed to the box key of the agent that said `hello`. */
export function launchOp(
  hello: A.AgentHello, o: { service: string; launchId: string; spec: ProgramSpec; tickets: { service: string; nameserver: string }; servers: string[] },
): A.AgentSealedLaunchOp {
  const ticketLine = A.ticketLineText({ service: o.service, ticket: o.tickets.service, nameserverTicket: o.tickets.nameserver, servers: o.servers });
  const { spec } = o;
  const op: A.AgentLaunchOp = {
    op: 'launch', service: o.service, launchId: o.launchId, program: spec.program, args: spec.args, env: spec.env, servers: o.servers, ticketLine,
  };
  if (spec.cwd !== undefined) op.cwd = spec.cwd;
  if (spec.user !== undefined) op.user = spec.user;
  return A.sealLaunch(op, hello.boxKey);
}

/** One operation on one agent. Resolves with the agent's reply (which may be a refusal). */
export function callAgent<O extends A.AgentOpName>(target: AgentTarget, op: O, opts: AgentCallOptions): Promise<A.AgentReplyFor<O>> {
  const where = `${target.host}:${target.port}`;
  if (target.trusted.length === 0) {
    return Promise.reject(new AgentCallError('AGENT_UNTRUSTED',
      `no launch agent is enrolled for ${target.host}: enroll one (dpns agents join-token, then dpns-launchd join) or trust its identity (dpns agents trust ${target.host} KEY)`));
  }
  return new Promise((resolve, reject) => {
    const url = `ws://${formatHostPort(target.host, target.port)}/`;
    const ws = new WebSocket(url, { maxPayload: A.AGENT_MAX_FRAME_BYTES, handshakeTimeout: opts.timeoutMs, perMessageDeflate: false });
    let stage: 'hello' | 'reply' | 'done' = 'hello';
    const finish = (err: Error | undefined, reply?: A.AgentReplyFor<O>) => {
      if (stage === 'done') return;
      stage = 'done';
      clearTimeout(timer);
      ws.close();
      if (err !== undefined) reject(err);
      else resolve(reply as A.AgentReplyFor<O>);
    };
    const timer = setTimeout(() => finish(new AgentCallError('AGENT_UNREACHABLE', `the launch agent at ${where} did not answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    ws.on('error', (err) => finish(new AgentCallError('AGENT_UNREACHABLE', `cannot reach the launch agent at ${where}: ${err.message}`)));
    ws.on('close', () => finish(new AgentCallError('AGENT_UNREACHABLE', `the launch agent at ${where} closed the connection without answering`)));
    ws.on('message', (data) => {
      const text = String(data);
      try {
        if (stage === 'hello') {
          const hello = A.parseAgentHello(text);
          if (!target.trusted.includes(hello.identity)) {
            // Checked before anything is built or sent: an impostor gets no request frame at all.
            finish(new AgentCallError('AGENT_UNTRUSTED',
              `the agent at ${where} has identity ${hello.identity}, which is not the one trusted for ${target.host}; if the agent was re-installed, enroll it again (dpns agents trust ${target.host} KEY)`));
            return;
          }
          stage = 'reply';
          const send = (): void => {
            if (stage !== 'reply') return;
            try {
              const frame = A.buildAgentRequest(opts.key, opts.build(hello), { boxKey: hello.boxKey, epoch: opts.epoch, target: target.host, agent: hello.identity });
              ws.send(JSON.stringify(frame));
            } catch (e) {
              finish(new AgentCallError('AGENT_BAD_RESPONSE', (e as Error).message));
            }
          };
          if (opts.ready === undefined) send();
          else opts.ready.then(send, (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
        } else if (stage === 'reply') {
          finish(undefined, A.parseAgentReply(text, op));
        }
      } catch (e) {
        finish(new AgentCallError('AGENT_BAD_RESPONSE', (e as Error).message));
      }
    });
  });
}
