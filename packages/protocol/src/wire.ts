// The wire contract's types alone, for code that runs where Node does not (the monitor page):
// importing this pulls in no runtime code.
export type { EntryView, LaunchSpec, ServiceView, AliasView, RestartPolicy } from './entries.js';
export type { ClusterHello, ServerStatus } from './cluster.js';
export type { HelloParams, WatchEventParams } from './messages.js';
export type { Methods, MethodName, Params, Result } from './methods.js';
export type { ErrorCode } from './errors.js';
