// The admin's management of launch agents (`agents.*`, docs/PROTOCOL.md): which agent the name
// servers trust on each host, and the join tokens that let an agent enroll itself.
import type { AgentInfo, MethodName, Params, Result } from '@dpns/protocol';

type Call = <M extends MethodName>(method: M, params: Params<M>) => Promise<Result<M>>;

export class Agents {
  /** @internal Made by `DpnsClient`. */
  constructor(private readonly call: Call) {}

  /** Every trusted agent: host, identity fingerprint, when and how it was enrolled (anyone may ask). */
  async list(): Promise<AgentInfo[]> {
    return (await this.call('agents.list', {})).agents;
  }

  /** A single-use join token, for `host` only when given, valid for `ttlMs` (default 1 h) (admin). */
  async joinToken(opts: { ttlMs?: number; host?: string } = {}): Promise<Result<'agents.joinToken'>> {
    const p: Params<'agents.joinToken'> = { ttlMs: opts.ttlMs ?? 3_600_000 };
    if (opts.host !== undefined) p.host = opts.host;
    return this.call('agents.joinToken', p);
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
