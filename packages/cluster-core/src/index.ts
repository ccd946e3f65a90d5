// @dpns/cluster-core: a cluster member's rules (election, replication, read lease, membership) as a pure
// state machine, and the transport seam its drivers use (docs/CLUSTER.md, "The cluster core").
export { ClusterCore } from './core.js';
export type { CoreInit } from './core.js';
export type { CoreEvent } from './events.js';
export type { Answer, Effect, RefusalCode } from './effects.js';
export { failureWindowMs, isPlantedBug, PLANTED_BUGS, quorumOf } from './config.js';
export type { CoreConfig, PlantedBug, ReplicationMode } from './config.js';
export type { Ack, Append, Beat, Follow, LogPosition, PeerMessage, RecordData, Refuse, Role, SnapshotChunk, Tick, VoteAnswer, VoteRequest, WireRecord } from './messages.js';
export type { PeerTransport } from './transport.js';
export { logAtLeastAsNew, voteRefusal } from './vote-rules.js';
export type { VoterState, VoteRule } from './vote-rules.js';
export { holdsLease, LEASE_FRACTION, leaseSpanMs, leaseUntil } from './read-lease.js';
export { CoreLog } from './log.js';
export { applyChange, bootstrapVoters, majoritiesMayBeDisjoint, majorityOf, votersOf } from './membership.js';
export type { ConfigRecord, Configuration, MembershipChange } from './membership.js';
export { Prng } from './prng.js';
