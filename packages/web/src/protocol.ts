// The wire types the page uses: type-only, from @dpns/protocol's types-only entry, so none of the
// protocol package's runtime code (tweetnacl, the method tables) reaches the browser. The one
// runtime piece the page takes, the login proof, it imports from @dpns/protocol/admin-proof.
export type {
  EntryView, LaunchSpec, ServiceView, AliasView, RestartPolicy, ClusterHello, ServerStatus, HelloParams, WatchEventParams,
  Methods, MethodName, Params, Result, ErrorCode,
} from '@dpns/protocol/wire';
