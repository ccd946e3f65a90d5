// One simulated run ("schedule"), fixed by its seed: a cluster, its network and disks, clients,
// a nemesis, and in half the runs an operator changing members; invariants checked as it runs,
// the clients' history checked for linearizability at the end, and a bound on how soon writes
// succeed once the faults stop.
import { bootstrapVoters, failureWindowMs, type Answer, type CoreConfig, type PlantedBug, type Role } from '@dpns/cluster-core';
import { checkLinearizable } from '../linearizability.js';
import { seededRandom } from '../random.js';
import { registryModel } from '../registry-model.js';
import { Clients } from './clients.js';
import { EventQueue } from './event-queue.js';
import { Invariants } from './invariants.js';
import { Member } from './member.js';
import { Nemesis } from './nemesis.js';
import { Network } from './network.js';
import { Operator } from './operator.js';

export interface ScheduleOptions {
  readonly plant?: PlantedBug | undefined;
  /** Keep every trace line, not only the last ones (for printing a replay). */
  readonly fullTrace?: boolean;
}

export interface ScheduleResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly violation: string | undefined;
  /** The last lines of the run's trace (faults, roles, give-ups). */
  readonly trace: readonly string[];
  /** A hash of the whole trace: the same seed gives the same hash. */
  readonly traceHash: number;
  readonly members: number;
  readonly operations: number;
  /** Membership changes acknowledged. */
  readonly memberChanges: number;
  /** Virtual ms from the end of the faults to the first acknowledged write after it. */
  readonly recoveryMs: number | undefined;
}

/** Faults stop this long into a run; writes must succeed within LIVENESS_BOUND_MS after. */
const FAULTS_MS = 1500;
export const LIVENESS_BOUND_MS = 1500;
const TRACE_KEPT = 40;
const PROBE_REQ = 1_000_000_000;
const OPERATOR_REQ = 2_000_000_000;
/** Members a run that changes members has room for. */
const SLOTS = 5;

export function runSchedule(seed: number, opts: ScheduleOptions = {}): ScheduleResult {
  const rand = seededRandom(seed);
  const q = new EventQueue();
  const trace: string[] = [];
  let traceHash = 0x811c9dc5;
  const note = (line: string): void => {
    for (let i = 0; i < line.length; i++) traceHash = Math.imul(traceHash ^ line.charCodeAt(i), 0x01000193);
    trace.push(line);
    if (!opts.fullTrace && trace.length > TRACE_KEPT * 2) trace.splice(0, trace.length - TRACE_KEPT);
  };
  const n = rand() < 0.8 ? 3 : 5;
  const chaos = rand() < 0.2;
  const readFromBackups = rand() < 0.5;
  const changesMembers = rand() < 0.5;
  const slots = changesMembers ? SLOTS : n;
  const cfg: CoreConfig = {
    self: 0, members: n, replication: 'sync', heartbeatMs: 30, misses: 4, twoNodeFailover: false, readFromBackups, tailCapacity: 1_000_000, seed, plant: opts.plant,
  };
  const windowMs = failureWindowMs(cfg);
  note(`seed ${seed}: ${n} members${changesMembers ? ` (room for ${slots}, members changed)` : ''}, ${chaos ? 'chaotic' : 'ordered'} network, ${readFromBackups ? 'reads from backups' : 'reads from the primary'}${opts.plant === undefined ? '' : `, planted bug ${opts.plant}`}`);
  const members: Member[] = [];
  const inv = new Invariants(members, bootstrapVoters(n));
  const clients = new Clients(q, members, rand, {
    clients: 3, names: 4, ops: 80, thinkMs: 8, attemptMs: windowMs, giveUpMs: windowMs * 8, backupReaders: readFromBackups, windowMs,
  }, inv, note);
  let recoveredAt: number | undefined;
  const net = new Network(q, slots, {
    delayMs: 0.2, jitterMs: chaos ? 6 : 1.5, resetRate: chaos ? 0.005 : 0,
  }, rand, (sid) => members[sid]?.state === 'up', (sid, end) => members[sid]?.linked(end));
  const world = {
    q, net, rand, diskFailRate: rand() < 0.3 ? 0.002 : 0,
    roleChanged(sid: number, role: Role, epoch: number): void {
      note(`${q.now.toFixed(1)} member ${sid} is ${role} (epoch ${epoch})`);
      if (role === 'primary') inv.becamePrimary(members[sid] as Member, q.now);
    },
    membersChanged(sid: number, voters: readonly number[], index: number): void {
      if (members[sid]?.core?.role === 'primary') note(`${q.now.toFixed(1)} member ${sid} (primary): voters [${voters.join(',')}] from index ${index}`);
    },
    answered(sid: number, req: number, a: Answer): void {
      if (operator.owns(req)) return operator.answered(sid, req, a);
      if (req >= PROBE_REQ) return probeAnswered(sid, req, a);
      clients.answered(sid, req, a);
    },
    deduped(req: number, index: number): void {
      clients.deduped(req, index);
    },
    stepped(m: Member): void {
      inv.stepped(m, q.now);
    },
    note,
  };
  for (let sid = 0; sid < slots; sid++) {
    members.push(new Member(sid, { ...cfg, self: sid, seed: (seed * 31 + sid) >>> 0 }, world, rand() * 1e6, (rand() - 0.5) * 0.001, slots));
  }
  const operator = new Operator(q, members, rand, { untilMs: FAULTS_MS, everyMs: 150, attemptMs: windowMs, firstReq: OPERATOR_REQ }, note);
  // After the faults: one write at a time to whoever may be primary, until one is acknowledged.
  let probeReq = PROBE_REQ;
  const probe = (): void => {
    if (recoveredAt !== undefined) return;
    const started = members.filter((m) => m.everStarted);
    const target = members.find((m) => m.core?.role === 'primary') ?? started[Math.floor(rand() * started.length)];
    target?.request({ kind: 'write', req: ++probeReq, data: { rid: `probe-${probeReq}`, op: { name: 'probe', addr: '10.9.9.9:1' } } });
    q.at(q.now + 10, probe);
  };
  const probeAnswered = (sid: number, req: number, a: Answer): void => {
    if (!a.ok || recoveredAt !== undefined) return;
    const m = members[sid] as Member;
    inv.acknowledged(m, a.index, `probe-${req}`, q.now, members.filter((x) => x.core?.role === 'primary'));
    recoveredAt = q.now;
  };
  // Disks stop failing with the other faults.
  q.at(FAULTS_MS, () => {
    world.diskFailRate = 0;
  });
  q.at(FAULTS_MS, probe);
  // A member that joins later starts when the operator adds it.
  for (const m of members.slice(0, n)) m.start();
  clients.start();
  if (changesMembers) operator.start();
  new Nemesis(q, members, net, rand, { untilMs: FAULTS_MS, everyMs: 120, downMs: 150 }, note).start();
  const end = FAULTS_MS + LIVENESS_BOUND_MS;
  try {
    while (inv.violation === undefined && q.runOne(end));
  } catch (err) {
    // A broken assumption of the simulator itself (or the core): report it with its seed like any violation.
    inv.fail(`${q.now.toFixed(1)}: the simulation threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  let violation = inv.violation;
  if (violation === undefined && recoveredAt === undefined) violation = `no write was acknowledged within ${LIVENESS_BOUND_MS} ms after the faults stopped`;
  if (violation === undefined) {
    clients.endOfRun();
    const r = checkLinearizable(registryModel, clients.history, { timeoutMs: 5000 });
    if (!r.ok) violation = r.verdict === 'violation' ? `the clients' history is not linearizable: ${r.explanation}` : `the linearizability check gave up: ${r.explanation}`;
  }
  if (violation !== undefined) note(`VIOLATION: ${violation}`);
  return {
    seed, ok: violation === undefined, violation, trace: opts.fullTrace ? trace : trace.slice(-TRACE_KEPT), traceHash: traceHash >>> 0, members: n,
    operations: clients.history.length, memberChanges: operator.done, recoveryMs: recoveredAt === undefined ? undefined : recoveredAt - FAULTS_MS,
  };
}
