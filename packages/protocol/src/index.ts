// @dpns/protocol: what both ends of a dpns connection agree on. Pure TypeScript that runs in a
// page as well as in Node; what only a Node process needs is in @dpns/node-kit.
export { ErrorCodes, LocalErrorCodes, DpnsError, isDpnsError, errorCodeName } from './errors.js';
export type { ErrorCode, LocalErrorCode, WireError } from './errors.js';
export { MAX_NAME_BYTES, nameProblem, assertName } from './names.js';
export { MAX_PATTERN_LENGTH, compileGlob, hasWildcard } from './glob.js';
export type { Glob } from './glob.js';
export { SERVICE_STATES, RESTART_POLICIES, CHECK_KINDS, CHECK_LIMITS, isAdvertisedState, EntryView as EntryViewSchema } from './entries.js';
export type { ServiceState, RestartPolicy, CheckKind, HealthCheck, LaunchSpec, Advertiser, Reservation, ServiceView, AliasView, EntryView, Location } from './entries.js';
export { REDACTED, redactSpec, scrubSecrets, publicEntry } from './redact.js';
export { ownerFingerprint } from './owners.js';
export { METHODS, METHOD_NAMES, ADMIN_METHODS, WRITE_METHODS, parseParams, isMethodName, isWrite, traitsOf } from './methods.js';
export type { Methods, MethodName, MethodTraits, Params, Result } from './methods.js';
export { openRpcDocument, openRpcText } from './openrpc.js';
export { conforms, isResultOf } from './result-check.js';
export { MODULE_PREFIX_RULE, MODULE_ERROR_CODES, parseModuleParams } from './modules.js';
export type { ModuleState, ModuleFailureCause, ModuleMethodInfo, ModuleInfo, ModuleTarget } from './modules.js';
export { RESERVED_PREFIXES, prefixProblem, moduleMethodProblem, parseModuleMethod } from './module-names.js';
export type { ModuleCallName } from './module-names.js';
export { DEFAULT_PORT, DEFAULT_MAX_FRAME_BYTES, PROTOCOL_VERSION } from './messages.js';
export type {
  RequestId, RequestMessage, SuccessResponse, ErrorResponse, ResponseMessage, HelloParams, WatchEventParams, SingleWatchEvent, TicketPairParams,
  TicketChallengeRequest,
  ServerNotification, ServerMessage,
} from './messages.js';
export { randomHex } from './random.js';
export { adminProof, checkAdminProof } from './admin-proof.js';
export { newOwnerKey, ownerKeyFromSeed, identifySignature, checkIdentify } from './proofs.js';
export { tweetnaclEd25519, useEd25519, ed25519InUse, isWeakPublicKey } from './ed25519.js';
export type { Ed25519 } from './ed25519.js';
export { nobleHmacSha256, useHmacSha256 } from './sha256.js';
export { tweetnaclX25519, useX25519 } from './x25519.js';
export type { X25519 } from './x25519.js';
export type { HmacSha256 } from './sha256.js';
export type { OwnerKey } from './proofs.js';
export { SPEC_LIMITS, healthCheckValue, checkRuleProblem, isHostEntry } from './validate.js';
export { HOSTS_LIMITS, HOST_PATTERN_RULE, hostMatches, hostsTakenIn, isHostPattern } from './host-patterns.js';
export { durationText } from './duration-text.js';
export {
  TICKET_BYTES, newTicket, ticketProof, checkTicketProof, sealTo, openSealed, sealWithTicket, openWithTicket,
} from './tickets.js';
export type { ProofPurpose, Sealed, AuthPair } from './tickets.js';
// What a launched service reads on stdin, parsed by the same code the agent uses.
export { parseTicketLine as parseLaunchTicket } from './agent.js';
export type { TicketLine as LaunchTicket } from './agent.js';
export * as agent from './agent.js';
export {
  JOIN_TTL_DEFAULT_MS, JOIN_TTL_MAX_MS, newJoinToken, parseJoinToken, joinKey, enrollParams, checkEnrollProof, agentFingerprint,
} from './enrollment.js';
export type { JoinToken, AgentEnrollment, AgentInfo } from './enrollment.js';
export { SERVER_ROLES, MAX_REQUEST_ID_LENGTH, checkRequestId } from './cluster.js';
export type { ServerRole, ClusterHello, ServerStatus } from './cluster.js';
