// The wire types the page uses: type-only, from @dpns/protocol's browser-safe entry, so none of
// the protocol package's Node code reaches the browser.
export type {
  EntryView, LaunchSpec, ServiceView, AliasView, RestartPolicy, ClusterHello, ServerStatus, HelloParams, WatchEventParams,
  Methods, MethodName, Params, Result, ErrorCode,
} from '@dpns/protocol/wire';
