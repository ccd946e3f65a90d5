// @dpns/client: the library clients and services use to reach the dpns name servers.
export { DpnsClient } from './client.js';
export type { ClientEvents, PingResult, ServersResult, MembershipResult, FindOptions, AdvertiseOptions, LaunchResult, KillResult } from './client.js';
export { ClientPair } from './auth-pair.js';
export { DpnsService } from './service.js';
export type { DpnsServiceOptions, FromStdinOptions, ServiceHelperState } from './service.js';
export type { ClientState } from './channel.js';
export type { DpnsClientOptions } from './options.js';
export { DEFAULT_SERVER } from './options.js';
export { Watch } from './watch.js';
export type { WatchEvent, WatchEvents, WatchOptions, WatchState } from './watch.js';
export { Advertisement } from './advertisement.js';
export type { AdvertisementEvents, AdvertisementState } from './advertisement.js';
export { Register } from './register.js';
export { Modules } from './modules.js';
export { Agents } from './agents.js';
export type { ServiceSpec, EntryInfo } from './register.js';
export { parseEndpoint } from './endpoints.js';
export type { Endpoint } from './endpoints.js';
// Re-exported so that callers can branch on codes without depending on @dpns/protocol directly.
export { DpnsError, isDpnsError, ErrorCodes, LocalErrorCodes, parseLaunchTicket, ownerKeyFromSeed, ownerFingerprint, REDACTED } from '@dpns/protocol';
export type {
  ErrorCode, LocalErrorCode, EntryView, ServiceView, AliasView, Location, LaunchSpec, ServiceState, LaunchTicket, AuthPair, OwnerKey, Reservation,
  ModuleInfo, ModuleState, ModuleMethodInfo, ModuleFailureCause, ServerStatus, ServerRole, ClusterHello,
} from '@dpns/protocol';
