// Runtime checks for the shapes the server answers with. They check what the client relies on
// (kinds, names, numbers) rather than re-validating everything the server already validated.
import {
  SERVER_ROLES, SERVICE_STATES, type AgentInfo, type EntryView, type Location, type MethodName, type ModuleInfo, type Result, type ServerStatus,
} from '@dpns/protocol';
import { badResponse } from './local-errors.js';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const STATES: ReadonlySet<string> = new Set(SERVICE_STATES);

export function isEntryView(v: unknown): v is EntryView {
  if (!isObject(v) || typeof v.name !== 'string' || typeof v.since !== 'number') return false;
  if (v.kind === 'alias') return typeof v.target === 'string';
  if (v.kind !== 'service' || typeof v.state !== 'string' || !STATES.has(v.state)) return false;
  return (v.host === undefined || typeof v.host === 'string') && (v.port === undefined || typeof v.port === 'number');
}

export function isLocation(v: unknown): v is Location {
  return isObject(v) && typeof v.name === 'string' && typeof v.service === 'string' &&
    typeof v.host === 'string' && typeof v.port === 'number';
}

function arrayOf<T>(v: unknown, test: (x: unknown) => x is T): v is T[] {
  return Array.isArray(v) && v.every(test);
}

const isString = (x: unknown): x is string => typeof x === 'string';

const MODULE_STATES: ReadonlySet<unknown> = new Set(['loading', 'running', 'restarting', 'failed']);

export function isModuleInfo(v: unknown): v is ModuleInfo {
  return isObject(v) && typeof v.path === 'string' && (v.prefix === null || typeof v.prefix === 'string') && MODULE_STATES.has(v.state) &&
    typeof v.restarts === 'number' && typeof v.crashes === 'number' && Array.isArray(v.methods) &&
    (v.lastError === undefined || (isObject(v.lastError) && typeof v.lastError.message === 'string'));
}
const ENROLLMENTS: ReadonlySet<unknown> = new Set(['join', 'trust', 'static']);

export function isAgentInfo(v: unknown): v is AgentInfo {
  return isObject(v) && typeof v.host === 'string' && typeof v.fingerprint === 'string' && ENROLLMENTS.has(v.how) && optNumber(v.enrolledAt);
}
const hasRevision = (r: Record<string, unknown>): boolean => typeof r.revision === 'number';

const ROLES: ReadonlySet<unknown> = new Set(SERVER_ROLES);
const optNumber = (v: unknown): boolean => v === undefined || typeof v === 'number';

export function isServerStatus(v: unknown): v is ServerStatus {
  return isObject(v) && typeof v.sid === 'number' && typeof v.url === 'string' && typeof v.connected === 'boolean' &&
    typeof v.self === 'boolean' && (v.role === undefined || ROLES.has(v.role)) && optNumber(v.epoch) && optNumber(v.lastIndex) &&
    optNumber(v.lag) && optNumber(v.lastHeardMs);
}

/** Per method: does the result have the shape the client relies on? */
const checks: { [M in MethodName]: (r: Record<string, unknown>) => boolean } = {
  login: (r) => r.admin === true,
  identify: (r) => typeof r.owner === 'string',
  ping: (r) => hasRevision(r) && typeof r.time === 'number',
  servers: (r) => typeof r.self === 'number' && typeof r.epoch === 'number' && optNumber(r.primary) &&
    (r.replication === 'sync' || r.replication === 'async') && arrayOf(r.servers, isServerStatus),
  listServices: (r) => arrayOf(r.names, isString),
  findServices: (r) => arrayOf(r.services, isLocation),
  serviceState: (r) => arrayOf(r.entries, isEntryView),
  watch: (r) => typeof r.watchId === 'string' && hasRevision(r) && (r.entries === undefined || arrayOf(r.entries, isEntryView)),
  unwatch: () => true,
  advertiseService: (r) => hasRevision(r) && (r.nameserverProof === undefined || typeof r.nameserverProof === 'string'),
  unadvertiseService: hasRevision,
  reportLoad: hasRevision,
  launchService: (r) => isLocation(r.service) && typeof r.launched === 'boolean',
  killService: (r) => hasRevision(r) && typeof r.alreadyGone === 'boolean' &&
    (r.signal === undefined || r.signal === 'SIGTERM' || r.signal === 'SIGKILL'),
  resetService: (r) => isLocation(r.service),
  authenticateService: (r) => typeof r.pairId === 'string' && typeof r.service === 'string' && isObject(r.sealed) &&
    typeof r.sealed.nonce === 'string' && typeof r.sealed.box === 'string' && (r.sealed.from === undefined || typeof r.sealed.from === 'string'),
  'register.add': hasRevision,
  'register.delete': hasRevision,
  'register.edit': (r) => hasRevision(r) && isEntryView(r.entry),
  'register.alias': hasRevision,
  'register.info': (r) => isEntryView(r.entry) && arrayOf(r.aliases, isString) &&
    (r.resolved === undefined || typeof r.resolved === 'string'),
  'register.release': (r) => hasRevision(r) && (r.released === undefined || (isObject(r.released) && typeof r.released.owner === 'string' && typeof r.released.until === 'number')),
  'modules.list': (r) => arrayOf(r.modules, isModuleInfo),
  'modules.load': (r) => isModuleInfo(r.module),
  'modules.unload': (r) => typeof r.path === 'string' && (r.prefix === null || typeof r.prefix === 'string'),
  'modules.reload': (r) => isModuleInfo(r.module),
  'agents.list': (r) => arrayOf(r.agents, isAgentInfo),
  'agents.joinToken': (r) => typeof r.sealed === 'object' && r.sealed !== null && typeof r.id === 'string' && typeof r.expiresAt === 'number',
  'agents.enroll': (r) => hasRevision(r) && typeof r.host === 'string' && typeof r.fingerprint === 'string',
  'agents.trust': hasRevision,
  'agents.revoke': hasRevision,
};

/** Narrows a result from the wire; throws BAD_RESPONSE naming the method when it does not fit. */
export function checkResult<M extends MethodName>(method: M, result: unknown): Result<M> {
  if (!isObject(result) || !checks[method](result)) {
    throw badResponse(`the server's answer to ${method} does not have the expected shape`);
  }
  return result as Result<M>;
}
