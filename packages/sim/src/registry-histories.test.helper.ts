// Registry histories that are linearizable by construction, for property tests and measurements:
// clients issue operations one after another with random durations; each operation takes effect
// at a random instant inside its interval, and the answers are what one registry applying them in
// the order of those instants gives. Some writes never return (their answer is lost); of those,
// some took effect and some did not, as after a real timeout.
import type { RegistryInput, RegistryOperation } from './registry-model.js';

/** One operation of a spec: everything random about it, as plain numbers (fast-check shrinks them). */
export interface OpSpec {
  client: number;
  key: number;
  /** 0: advertise, 1: unadvertise, 2 and up: find (reads are the commonest). */
  kind: number;
  /** Idle time before the call, after the client's previous operation. */
  gap: number;
  duration: number;
  /** Where in [call, return] it takes effect, in thousandths. */
  at: number;
  /** A write whose answer is lost: return ∞. */
  lost: boolean;
  /** For a lost write: whether it took effect at all. */
  applied: boolean;
}

export interface Generated {
  history: RegistryOperation[];
  /** Indexes into `history` of the reads, with the instant each took effect. */
  reads: number[];
}

export const keyName = (k: number): string => `/k${k}`;

/** The history `ops` make (each op's client and key taken modulo `clients` and `keys`). */
export function generate(ops: readonly OpSpec[], clients: number, keys: number): Generated {
  const clock = new Array<number>(clients).fill(0);
  const timed = ops.map((o, i) => {
    const client = o.client % clients;
    const call = (clock[client] as number) + o.gap;
    const ret = call + o.duration;
    clock[client] = ret;
    const name = keyName(o.key % keys);
    const input: RegistryInput = o.kind === 0 ? { op: 'advertise', name, address: `h:${i}` } : o.kind === 1 ? { op: 'unadvertise', name } : { op: 'find', name };
    return { o, i, client, call, ret, input, point: call + (o.duration * o.at) / 1000 };
  });
  const state = new Map<string, string>();
  const history: RegistryOperation[] = new Array<RegistryOperation>(ops.length);
  for (const t of [...timed].sort((a, b) => a.point - b.point || a.i - b.i)) {
    const { input, client, call, ret } = t;
    const lost = t.o.lost && input.op !== 'find';
    if (lost) {
      if (t.o.applied) apply(state, input);
      history[t.i] = { client, call, input };
      continue;
    }
    const before = state.get(input.name);
    apply(state, input);
    const output = input.op === 'advertise' ? { op: 'advertise' as const } : input.op === 'unadvertise' ? { op: 'unadvertise' as const, existed: before !== undefined } : { op: 'find' as const, address: before };
    history[t.i] = { client, call, return: ret, input, output };
  }
  return { history, reads: timed.filter((t) => t.input.op === 'find').map((t) => t.i) };
}

function apply(state: Map<string, string>, input: RegistryInput): void {
  if (input.op === 'advertise') state.set(input.name, input.address);
  else if (input.op === 'unadvertise') state.delete(input.name);
}

/** `n` random op specs from `rand` (a function returning [0, 1)), for measurements. */
export function randomOps(rand: () => number, n: number, clients: number, keys: number): OpSpec[] {
  const int = (k: number): number => Math.floor(rand() * k);
  return Array.from({ length: n }, () => ({
    client: int(clients), key: int(keys), kind: int(5), gap: int(5), duration: 1 + int(40), at: int(1001), lost: rand() < 0.03, applied: rand() < 0.5,
  }));
}
