// The admin's management of launch agents (`agents.*`, docs/PROTOCOL.md): which agent the name
// servers trust on each host, and the join tokens that let an agent enroll itself.
import { openSealed, type AgentInfo, type MethodName, type Params, type Result } from '@dpns/protocol';
import { newBoxKeyPair } from './auth-pair.js';
import { badResponse } from './local-errors.js';

/** A join token as the admin holds it: `token` is the text to hand to `dpns-launchd join`. */
export interface JoinToken {
  token: string;
  id: string;
  expiresAt: number;
  host?: string;
}

type Call = <M extends MethodName>(method: M, params: Params<M>) => Promise<Result<M>>;

export class Agents {
  /** @internal Made by `DpnsClient`. */
  constructor(private readonly call: Call) {}

  /** Every trusted agent: host, identity fingerprint, when and how it was enrolled (anyone may ask). */
  async list(): Promise<AgentInfo[]> {
    return (await this.call('agents.list', {})).agents;
  }

  /** A single-use join token, for `host` only when given, valid for `ttlMs` (default 1 h) (admin). */
  async joinToken(opts: { ttlMs?: number; host?: string } = {}): Promise<JoinToken> {
    // The server seals the token to this one-off key: its secret never crosses the wire in the clear.
    const key = newBoxKeyPair();
    const p: Params<'agents.joinToken'> = { ttlMs: opts.ttlMs ?? 3_600_000, boxKey: key.publicKey };
    if (opts.host !== undefined) p.host = opts.host;
    const { sealed, ...rest }: Result<'agents.joinToken'> = await this.call('agents.joinToken', p);
    const token = openSealed(sealed, key.secretKey);
    if (token === undefined) throw badResponse('the join token could not be opened with the key it was sealed to');
    return { token, ...rest };
  }

  /** Trusts the agent whose hex identity is `key` for `host`, replacing any enrolled there (admin). */
  async trust(host: string, key: string): Promise<{ revision: number }> {
    return this.call('agents.trust', { host, key });
  }

  /** Forgets the agent enrolled for `host`; launches there fail AGENT_UNTRUSTED until another is (admin). */
  async revoke(host: string): Promise<{ revision: number }> {
    return this.call('agents.revoke', { host });
  }
}
