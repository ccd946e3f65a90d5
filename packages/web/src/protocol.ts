// The wire types the page uses, taken from @dpns/protocol's source files by path: type-only
// imports, erased by the bundler, so none of the protocol package's Node code reaches the browser.
export type { EntryView, LaunchSpec, ServiceView, AliasView, RestartPolicy } from '../../protocol/src/entries.js';
export type { ClusterHello, ServerStatus } from '../../protocol/src/cluster.js';
export type { HelloParams, WatchEventParams } from '../../protocol/src/messages.js';
export type { Methods, MethodName, Params, Result } from '../../protocol/src/methods.js';
export type { ErrorCode } from '../../protocol/src/errors.js';
