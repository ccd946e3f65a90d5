// The launch agents the name servers trust, one per host (host, identity fingerprint, how and
// when enrolled), polled every 5 s; shown once there is at least one. Enrolling and revoking
// stay on the command line (dpns agents), where the join token can be handed to the host.
import { useEffect, useState } from 'preact/hooks';
import { RpcError } from './rpc.js';
import type { Session, SessionStatus } from './session.js';
import type { Result } from './protocol.js';

const POLL_MS = 5_000;

type AgentList = Result<'agents.list'>['agents'];

/** Polls `agents.list` while connected; empty when there is nothing to show. */
export function useAgents(session: Session, status: SessionStatus): AgentList {
  const [agents, setAgents] = useState<AgentList>([]);
  const open = status.state === 'open';
  useEffect(() => {
    if (!open) return undefined;
    let stopped = false;
    let timer: number | undefined;
    const poll = async () => {
      try {
        const r = await session.call('agents.list', {});
        if (!stopped) setAgents(r.agents);
      } catch (e) {
        // A server from before enrollment has no `agents.list`: no panel, and no more asking.
        if (e instanceof RpcError && e.code === 'METHOD_NOT_FOUND') return;
      }
      if (!stopped) timer = window.setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [session, open, status.hello]);
  return agents;
}

export function AgentsPanel({ agents }: { agents: AgentList }) {
  return (
    // Focusable: in a narrow window the panel scrolls sideways, and a keyboard scrolls only what it can focus.
    <section class="agents" aria-label="Launch agents" tabIndex={0}>
      <h2>Launch agents <small>trusted per host; dpns agents join-token, trust, revoke</small></h2>
      <table>
        <thead>
          <tr><th>Host</th><th>Fingerprint</th><th>How</th><th>Enrolled</th></tr>
        </thead>
        <tbody>
          {agents.map((a) => (
            <tr key={a.host} data-host={a.host}>
              <td>{a.host}</td>
              <td><code>{a.fingerprint}</code></td>
              <td>{a.how}</td>
              <td>{a.enrolledAt === undefined ? '' : <time dateTime={new Date(a.enrolledAt).toISOString()}>{new Date(a.enrolledAt).toLocaleString()}</time>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
