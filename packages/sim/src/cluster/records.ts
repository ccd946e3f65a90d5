// What the simulated registry logs: advertise or unadvertise one name, tagged with the client's
// requestId, and the registry state those records make, one name at a time.
import type { WireRecord } from '@dpns/cluster-core';

export type SimRecord = {
  readonly ep?: number;
  /** The client's requestId; absent from a new epoch's empty first record. */
  readonly rid?: string;
  /** The name and its new address; `addr` undefined is an unadvertise. */
  readonly op?: { readonly name: string; readonly addr: string | undefined };
};

/** The address `name` is advertised at after record `index` of `recs` (record i at [i - 1]). */
export function addressAt(recs: readonly WireRecord<SimRecord>[], index: number, name: string): string | undefined {
  for (let i = Math.min(index, recs.length) - 1; i >= 0; i--) {
    const op = (recs[i] as WireRecord<SimRecord>).d.op;
    if (op !== undefined && op.name === name) return op.addr;
  }
  return undefined;
}
