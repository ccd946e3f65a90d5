// Which agent identity the name server trusts on each host: a static key from the config
// (agentKeys / --agent-key) when one is set for that host, else the agent enrolled for it in the
// replicated registry. A host with neither gets nothing from this name server: no request frame.
import { agentFingerprint, type AgentInfo } from '@dpns/protocol';
import type { Registry } from '../registry/registry.js';

export class AgentTrust {
  /** Join tokens an enrollment is spending right now (until its record is committed). */
  private readonly spending = new Set<string>();

  constructor(
    private readonly registry: Registry,
    private readonly staticKeys: Readonly<Record<string, readonly string[]>> = {},
  ) {}

  /** The identities accepted from the agent on `host`; empty when none is trusted there. */
  keysFor(host: string): readonly string[] {
    const fixed = Object.prototype.hasOwnProperty.call(this.staticKeys, host) ? this.staticKeys[host] : undefined;
    if (fixed !== undefined) return fixed;
    const enrolled = this.registry.agentOf(host);
    return enrolled === undefined ? [] : [enrolled.key];
  }

  /** Every host with a trusted agent (static or enrolled), each once: where a service with spec.hosts may go. */
  hosts(): string[] {
    const out = new Set<string>();
    for (const [host, keys] of Object.entries(this.staticKeys)) if (keys.length > 0) out.add(host);
    for (const a of this.registry.agentList()) out.add(a.host);
    return [...out];
  }

  /** Marks a join token as being spent; false when another enrollment already is. */
  spend(tokenId: string): boolean {
    if (this.spending.has(tokenId)) return false;
    this.spending.add(tokenId);
    return true;
  }

  unspend(tokenId: string): void {
    this.spending.delete(tokenId);
  }

  /** What `agents.list` shows: static keys first (they win), then enrolled agents of other hosts. */
  list(): AgentInfo[] {
    const out: AgentInfo[] = [];
    for (const [host, keys] of Object.entries(this.staticKeys)) {
      for (const key of keys) out.push({ host, fingerprint: agentFingerprint(key), how: 'static' });
    }
    for (const a of this.registry.agentList()) {
      if (Object.prototype.hasOwnProperty.call(this.staticKeys, a.host)) continue;
      out.push({ host: a.host, fingerprint: agentFingerprint(a.key), how: a.how, enrolledAt: a.at });
    }
    return out.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  }
}
