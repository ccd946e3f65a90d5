// Ties advertisements to live connections: a connection that ends takes its services out of
// `running`, and after a restart each advertiser gets a grace period to come back.
import { isAdvertisedState } from '@dpns/protocol';
import type { Bindings } from './registry/rules.js';
import type { Connection } from './connection.js';
import type { Registry } from './registry/registry.js';
import { planLost } from './registry/rules.js';
import type { Op } from './registry/ops.js';

/**
 * Most ops in one record when many services go `lost` at once (a restart's grace period ending,
 * a connection that advertised thousands): no single record grows with the registry, so one
 * that does not fit on a nearly full disk cannot stop the rest.
 */
export const LOST_OPS_PER_RECORD = 256;

/** Names kept advertised together by the non-admin connections of one source address, and of one owner key. */
export interface AdvertisementQuotas {
  perAddress: number;
  perOwner: number;
}

export const DEFAULT_QUOTAS: AdvertisementQuotas = { perAddress: 20_000, perOwner: 20_000 };

/** Which quota an advertisement would break. */
export type QuotaBreach = 'advertisementsPerAddress' | 'advertisementsPerOwner';

export class Liveness implements Bindings {
  private readonly bound = new Map<string, Connection>();
  /** The address and owner key each bound name is counted under (as they were when it was bound). */
  private readonly countedAs = new Map<string, { address?: string; owner?: string }>();
  private readonly byAddress = new Map<string, number>();
  private readonly byOwner = new Map<string, number>();
  private graceTimer: NodeJS.Timeout | undefined;
  /** Services given a grace period after a restart, while it runs: not bound yet, and not to be marked lost yet. */
  private graceWaiting: ReadonlySet<string> = new Set();

  /** Told of every service that became `lost`, once that is durable. */
  onLost: (name: string) => void = () => undefined;

  constructor(
    private readonly registry: Registry,
    private readonly commit: (ops: Op[]) => Promise<number>,
    /** How long a lost name stays held for the owner key that advertised it (0: not held). */
    private readonly reservationMs = 0,
    private readonly quotas: AdvertisementQuotas = DEFAULT_QUOTAS,
  ) {}

  /**
   * Whether `conn` advertising `name` would put its source address or its owner key over its
   * quota. Admin connections, and names it keeps already, are not counted.
   */
  quotaBreach(conn: Connection, name: string): { what: QuotaBreach; limit: number } | undefined {
    if (conn.admin || this.bound.get(name) === conn) return undefined;
    if ((this.byAddress.get(conn.address) ?? 0) >= this.quotas.perAddress) return { what: 'advertisementsPerAddress', limit: this.quotas.perAddress };
    if (conn.owner !== undefined && (this.byOwner.get(conn.owner) ?? 0) >= this.quotas.perOwner) return { what: 'advertisementsPerOwner', limit: this.quotas.perOwner };
    return undefined;
  }

  liveConn(name: string): number | undefined {
    return this.bound.get(name)?.id;
  }

  /** The live connection that keeps `name` alive, if one does. */
  connOf(name: string): Connection | undefined {
    return this.bound.get(name);
  }

  /** `conn` now keeps `name` alive (it advertised it, or took it over). */
  bind(name: string, conn: Connection): void {
    const prev = this.bound.get(name);
    if (prev === conn) return;
    if (prev !== undefined) prev.advertised.delete(name);
    this.uncount(name);
    this.bound.set(name, conn);
    conn.advertised.add(name);
    if (conn.admin) return;
    const as = { address: conn.address, ...(conn.owner === undefined ? {} : { owner: conn.owner }) };
    this.countedAs.set(name, as);
    bump(this.byAddress, as.address, 1);
    if (as.owner !== undefined) bump(this.byOwner, as.owner, 1);
  }

  /** Nobody keeps `name` alive any more (unadvertised, deleted, or made static). */
  unbind(name: string): void {
    this.bound.get(name)?.advertised.delete(name);
    this.bound.delete(name);
    this.uncount(name);
  }

  private uncount(name: string): void {
    const as = this.countedAs.get(name);
    if (as === undefined) return;
    this.countedAs.delete(name);
    if (as.address !== undefined) bump(this.byAddress, as.address, -1);
    if (as.owner !== undefined) bump(this.byOwner, as.owner, -1);
  }

  /** The connection ended: every service it kept alive is now `lost`. */
  connectionEnded(conn: Connection, now: number): Promise<unknown> {
    const ops: Op[] = [];
    for (const name of conn.advertised) {
      if (this.bound.get(name) !== conn) continue;
      this.bound.delete(name);
      this.uncount(name);
      ops.push(...planLost(this.registry, name, `its advertiser went away: ${conn.endReason}`, now, this.reservationMs));
    }
    conn.advertised.clear();
    return this.commitLost(ops);
  }

  /**
   * Storage is writable again: services whose advertiser went while writes were refused (their
   * `lost` record was refused with it) are marked `lost` now.
   */
  reconcile(now: number): Promise<unknown> {
    const ops: Op[] = [];
    for (const name of this.registry.sessionAdvertised()) {
      const e = this.registry.get(name);
      if (e?.kind !== 'service' || !isAdvertisedState(e.state)) continue;
      if (this.bound.has(e.name) || this.graceWaiting.has(e.name)) continue;
      ops.push(...planLost(this.registry, e.name, 'its advertiser went away while the name server could not write to its disk', now, this.reservationMs));
    }
    return this.commitLost(ops);
  }

  // All chunks are committed in this turn, so no other request changes a name between planning and applying.
  private commitLost(ops: Op[]): Promise<unknown> {
    if (ops.length === 0) return Promise.resolve();
    const chunks: Op[][] = [];
    for (let k = 0; k < ops.length; k += LOST_OPS_PER_RECORD) chunks.push(ops.slice(k, k + LOST_OPS_PER_RECORD));
    return Promise.all(chunks.map((chunk) => this.commit(chunk).then(() => this.told(chunk))));
  }

  /**
   * After a restart, services advertised by connections stay `running` for `graceMs` so their
   * advertisers can reconnect and re-advertise (those that proved an owner key with `identify`
   * may; an anonymous connection cannot be recognised); those that do not are then `lost`.
   */
  startGrace(graceMs: number, now: () => number): number {
    const waiting: string[] = [];
    for (const name of this.registry.sessionAdvertised()) {
      const e = this.registry.get(name);
      if (e?.kind === 'service' && isAdvertisedState(e.state)) waiting.push(name);
    }
    if (waiting.length === 0) return 0;
    this.graceWaiting = new Set(waiting);
    this.graceTimer = setTimeout(() => {
      this.graceTimer = undefined;
      this.graceWaiting = new Set();
      const ops: Op[] = [];
      for (const name of waiting) {
        if (this.bound.has(name)) continue;
        ops.push(...planLost(this.registry, name, `its advertiser did not come back within ${graceMs} ms of the name server restarting`, now(), this.reservationMs));
      }
      this.commitLost(ops).catch(() => undefined);
    }, graceMs);
    this.graceTimer.unref();
    return waiting.length;
  }

  private told(ops: Op[]): void {
    for (const op of ops) if (op.t === 'put' && op.e.kind === 'service' && op.e.state === 'lost') this.onLost(op.e.name);
  }

  stop(): void {
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.graceWaiting = new Set();
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}
