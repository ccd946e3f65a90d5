// The admin's registry operations (`register.*`): auto-start services and aliases.
import { SPEC_LIMITS, type EntryView, type LaunchSpec, type MethodName, type Params, type Reservation, type Result, type ServiceView } from '@dpns/protocol';

/** A launch spec as a caller writes it: args, env and start timeout may be left to defaults. */
export interface ServiceSpec {
  /** The one host whose agent starts it; or give `hosts`. */
  host?: string;
  /** Host names and patterns (media-*): each launch goes to the least loaded reachable one (PROTOCOL.md §10.6). */
  hosts?: string[];
  program: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  user?: string;
  startTimeoutMs?: number;
}

/** What `register.info` answers. */
export interface EntryInfo {
  entry: EntryView;
  /** Aliases that point at this name, directly. */
  aliases: string[];
  /** For an alias: the service its chain ends at. */
  resolved?: string;
}

type Call = <M extends MethodName>(method: M, params: Params<M>) => Promise<Result<M>>;

export class Register {
  /** @internal Made by `DpnsClient`. */
  constructor(private readonly call: Call) {}

  /** Registers an auto-start service (admin). */
  async add(name: string, spec: ServiceSpec): Promise<void> {
    const full: LaunchSpec = {
      ...spec,
      args: spec.args ?? [],
      env: spec.env ?? {},
      startTimeoutMs: spec.startTimeoutMs ?? SPEC_LIMITS.startTimeoutMs.dflt,
    };
    await this.call('register.add', { name, spec: full });
  }

  /** Deletes a service or an alias (admin). */
  async delete(name: string): Promise<void> {
    await this.call('register.delete', { name });
  }

  /** Changes some fields of a service's launch spec, or removes `cwd`/`user` (admin). */
  async edit(name: string, patch: Partial<LaunchSpec>, unset: ('cwd' | 'user' | 'check' | 'idleStopMs')[] = []): Promise<ServiceView> {
    return (await this.call('register.edit', { name, spec: patch, unset })).entry;
  }

  /** Makes `name` an alias of `target`; refused with ALIAS_CYCLE when it would loop (admin). */
  async alias(name: string, target: string): Promise<void> {
    await this.call('register.alias', { name, target });
  }

  /**
   * Ends the hold of a lost name on the owner key that advertised it, so anyone may advertise it
   * (admin). Answers the hold that ended, or undefined when the name was not held.
   */
  async release(name: string): Promise<Reservation | undefined> {
    return (await this.call('register.release', { name })).released;
  }

  /** Everything about one entry, launch spec values included (admin; other answers redact them). */
  async info(name: string): Promise<EntryInfo> {
    const r = await this.call('register.info', { name });
    const out: EntryInfo = { entry: r.entry, aliases: r.aliases };
    if (r.resolved !== undefined) out.resolved = r.resolved;
    return out;
  }
}
