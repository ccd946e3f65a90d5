// The admin's management of the name server's external modules (`modules.*`, docs/MODULES.md).
import type { MethodName, ModuleInfo, ModuleTarget, Params, Result } from '@dpns/protocol';

type Call = <M extends MethodName>(method: M, params: Params<M>) => Promise<Result<M>>;

/** A prefix ("dir"), or the absolute path of a module file (for one that failed before it had a prefix). */
function target(prefixOrPath: string): ModuleTarget {
  return prefixOrPath.startsWith('/') ? { path: prefixOrPath } : { prefix: prefixOrPath };
}

export class Modules {
  /** @internal Made by `DpnsClient`. */
  constructor(private readonly call: Call) {}

  /** Every module the server knows of: state, restarts, last error, methods (admin). */
  async list(): Promise<ModuleInfo[]> {
    return (await this.call('modules.list', {})).modules;
  }

  /** Loads a module file, an absolute path on the name server's host; resolves once it runs (admin). */
  async load(path: string): Promise<ModuleInfo> {
    return (await this.call('modules.load', { path })).module;
  }

  /** Stops a module and forgets it; its stored data stays on the server (admin). */
  async unload(prefixOrPath: string): Promise<{ prefix: string | null; path: string }> {
    return this.call('modules.unload', target(prefixOrPath));
  }

  /** Loads a module's file again: new code, a fresh worker, counters from zero (admin). */
  async reload(prefixOrPath: string): Promise<ModuleInfo> {
    return (await this.call('modules.reload', target(prefixOrPath))).module;
  }
}
