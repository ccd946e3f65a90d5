// What the child closes before any module code runs, beyond Node's permission model: the few
// things the model leaves open that reach outside the child without the file system. Each is
// replaced on the built-in module's exports, and `syncBuiltinESMExports` makes `import` see the
// replacement too; the originals stay reachable only through `process.binding`, which the
// permission model refuses.
//   - signals: a child runs as the name server's user (unless that is root), and could kill it,
//     or its process group; only the child itself may be signalled.
//   - priorities: likewise, it could lower the name server's.
//   - trace events: written to a file in the working directory, past the permission model.
import { createRequire, syncBuiltinESMExports } from 'node:module';

/** The error a refused call throws, shaped as the permission model's own. */
function denied(what: string): Error {
  return Object.assign(new Error(`Access to this API has been restricted: ${what} (dpns module sandbox)`), { code: 'ERR_ACCESS_DENIED' });
}

/** Closes what is listed above; call once, before the module is imported. */
export function lockDown(): void {
  const require = createRequire(import.meta.url);
  const self = process.pid;
  const proc = process as unknown as { _kill(pid: number, signal: number): unknown };
  const rawKill = proc._kill.bind(process);
  // process.kill checks its arguments and then calls process._kill: guarding _kill guards both.
  Object.defineProperty(process, '_kill', {
    value: (pid: number, signal: number) => {
      if (pid !== self) throw denied('signals to other processes');
      return rawKill(pid, signal);
    },
    writable: false,
    configurable: false,
  });
  const os = require('node:os') as { setPriority: (...args: unknown[]) => void };
  const rawSetPriority = os.setPriority.bind(os);
  os.setPriority = (...args: unknown[]): void => {
    const pid = args.length >= 2 ? args[0] : 0;
    if (pid !== 0 && pid !== self) throw denied('the priority of other processes');
    rawSetPriority(...args);
  };
  const traceEvents = require('node:trace_events') as { createTracing: unknown };
  traceEvents.createTracing = (): never => {
    throw denied('trace events');
  };
  syncBuiltinESMExports();
}
