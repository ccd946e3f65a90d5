// The questions a module may ask the name server itself, answered from the live registry as
// a client's would be. Only reads, and `findServices` never launches: a module cannot change
// the registry through a query any more than through its copy.
import { DpnsError, parseParams } from '@dpns/protocol';
import { find, listNames, states } from '../registry/queries.js';
import type { Registry } from '../registry/registry.js';

export const QUERY_METHODS = ['ping', 'listServices', 'findServices', 'serviceState'] as const;

/** Answers one module query; throws DpnsError for a refused one. */
export function answerQuery(registry: Registry, method: string, params: unknown, now: () => number): unknown {
  switch (method) {
    case 'ping':
      return { revision: registry.revision, time: now() };
    case 'listServices':
      return { names: listNames(registry, parseParams.listServices(params).pattern) };
    case 'findServices':
      return { services: find(registry, parseParams.findServices(params).pattern) };
    case 'serviceState':
      return { entries: states(registry, parseParams.serviceState(params).pattern) };
    default:
      throw new DpnsError('METHOD_NOT_FOUND', `a module may query ${QUERY_METHODS.join(', ')}; not ${JSON.stringify(method)}`);
  }
}
