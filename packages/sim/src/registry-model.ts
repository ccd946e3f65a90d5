// The dpns registry as its clients see it, one name at a time: a register holding the address a
// name is advertised at, or nothing. Writes are `advertiseService` (the name now answers at
// host:port) and `unadvertiseService` (the name is gone; NOT_FOUND when it already was); the read
// is `findServices` of one exact name (its address, or NOT_FOUND). Names are independent, so the
// checker takes each name's operations apart (P-compositionality), which keeps every search small.
//
// The model leaves out what the tests that use it avoid: launches, aliases, owners and leases
// (they advertise with `static: true` as admin, so an entry is tied to no connection and never
// turns `lost`).
import type { Operation, ReadWriteModel } from './history.js';

/** One registry operation on one name. `address` is HOST:PORT. */
export type RegistryInput =
  | { readonly op: 'advertise'; readonly name: string; readonly address: string }
  | { readonly op: 'unadvertise'; readonly name: string }
  | { readonly op: 'find'; readonly name: string };

/** A definite answer: `existed` false is unadvertise's NOT_FOUND; `address` undefined is find's NOT_FOUND. */
export type RegistryOutput =
  | { readonly op: 'advertise' }
  | { readonly op: 'unadvertise'; readonly existed: boolean }
  | { readonly op: 'find'; readonly address: string | undefined };

/** One name's entry: the address it is advertised at, or undefined when there is none. */
export type RegistryState = string | undefined;

export type RegistryOperation = Operation<RegistryInput, RegistryOutput>;

export const registryModel: ReadWriteModel<RegistryState, RegistryInput, RegistryOutput> = {
  init: () => undefined,
  isRead: (input) => input.op === 'find',
  step(state, input, output) {
    if (output !== undefined && output.op !== input.op) throw new Error(`registry model: a ${input.op} answered as a ${output.op}`);
    switch (input.op) {
      case 'advertise':
        return { ok: true, next: input.address };
      case 'unadvertise':
        return { ok: output === undefined || (output as { existed: boolean }).existed === (state !== undefined), next: undefined };
      case 'find':
        return { ok: output === undefined || (output as { address: string | undefined }).address === state, next: state };
    }
  },
  partition(history) {
    const parts = new Map<string, RegistryOperation[]>();
    for (const op of history) {
      const part = parts.get(op.input.name);
      if (part === undefined) parts.set(op.input.name, [op]);
      else part.push(op);
    }
    return parts;
  },
  equal: (a, b) => a === b,
  hash(state) {
    if (state === undefined) return 0;
    let h = 0x811c9dc5;
    for (let i = 0; i < state.length; i++) h = Math.imul(h ^ state.charCodeAt(i), 0x01000193);
    return h >>> 0;
  },
  describeOperation(input, output) {
    const what = input.op === 'advertise' ? `advertise ${input.name} ${input.address}` : `${input.op} ${input.name}`;
    if (output === undefined) return `${what} → ? (no answer: may or may not have taken effect)`;
    switch (output.op) {
      case 'advertise':
        return `${what} → ok`;
      case 'unadvertise':
        return `${what} → ${output.existed ? 'ok' : 'NOT_FOUND'}`;
      case 'find':
        return `${what} → ${output.address ?? 'NOT_FOUND'}`;
    }
  },
  describeState: (state) => (state === undefined ? '(no entry)' : `(advertised at ${state})`),
};
