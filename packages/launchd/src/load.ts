// The `load` operation: how busy this host is, for a name server choosing among the hosts of a
// service that may run on several (PROTOCOL.md §10.6). Read when asked, never sampled in the
// background: the agent stays idle between requests.
import { availableParallelism, loadavg } from 'node:os';
import type { Ledger } from './ledger.js';
import type { AgentLoadReply } from './wire.js';

/** This host's load average and CPUs, and how many of the processes this agent launched still run (the ledger, just pruned). */
export function hostLoad(ledger: Pick<Ledger, 'entries'>): AgentLoadReply {
  return { type: 'reply', ok: true, loadavg: loadavg()[0] ?? 0, cpus: availableParallelism(), children: ledger.entries().length };
}
