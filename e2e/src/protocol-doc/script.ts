// What a section script of the PROTOCOL.md conformance test may say: the server it needs, the
// state it sets up, and, for the blocks that are not plain request → answer pairs, how to make
// the server produce what the block shows.
import type { AgentProcess, ServerProcess } from '../harness/index.js';
import type { RawConnection } from '../harness/raw-conn.js';

/** One section's run: a fresh name server (and agent), its connections, and what the doc's text becomes. */
export interface SectionCtx {
  readonly ns: ServerProcess;
  /** The launch agent, enrolled for 127.0.0.1, when the script asked for one. */
  readonly agent: AgentProcess | undefined;
  /** A temporary directory for this section's files. */
  readonly dir: string;
  /**
   * Doc text → this run's text, applied to every block of the section before it is parsed
   * (ports chosen at random, temporary paths). Exact, so the values stay compared exactly.
   */
  readonly subst: Map<string, string>;
  /** The named connection, opened on first use; "admin" is logged in with the server's token. */
  conn(name: string): Promise<RawConnection>;
  /** Closes a named connection and forgets it (its advertisements become `lost`). */
  drop(name: string): Promise<void>;
  /** A setup request on a named connection; throws unless it succeeds. */
  call(conn: string, method: string, params?: unknown, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Polls `serviceState` until the entry `name` satisfies `ok`; returns it. */
  until(name: string, ok: (entry: Record<string, unknown> | undefined) => boolean, timeoutMs?: number): Promise<Record<string, unknown> | undefined>;
  /** Starts the agent again on its port with other settings (`trustedKeys` replaced when given). */
  restartAgent(opts?: { trustedKeys?: string[] }): Promise<void>;
  /** Stops the agent (its launched services keep running). */
  stopAgent(): Promise<void>;
}

/**
 * What `produce` returns for a document that is the test's own frame (a request it sent as the
 * doc shows it, an answer it gave for a launched service): it is sent, not compared or counted.
 */
export const AS_SENT: unique symbol = Symbol('as sent');

/** How one block is run when it is not a plain sequence of request → answer pairs, or needs state first. */
export interface BlockHook {
  /** A snippet of the block's text that names it, unique within its section. */
  readonly match: string;
  /** Runs before the block's examples. */
  before?(ctx: SectionCtx): Promise<void>;
  /** The connection this block's requests go on (default: "admin" for admin methods, else "client"). */
  readonly conn?: string;
  /** Adjusts a request of the block before it is sent (e.g. a ticket proof for this connection's nonce). */
  rewrite?(req: Record<string, unknown>, conn: RawConnection, ctx: SectionCtx): Record<string, unknown>;
  /** Turns a document and what the server sent into what is compared (e.g. a signed body parsed). */
  view?(v: unknown): unknown;
  /** Members whose value varies between runs, in this block only (e.g. a launched service's `port`). */
  readonly volatile?: readonly string[];
  /**
   * For a block of answers without their requests, notifications or other frames: makes the
   * server produce them and returns what it sent, one value per document of the block, in order.
   * Gets the block's documents, parsed after substitution. `AS_SENT` stands for the test's own frames.
   */
  produce?(ctx: SectionCtx, docs: readonly unknown[]): Promise<unknown[]>;
}

/** The script of one section (by its number, e.g. "5.6"). */
export interface SectionScript {
  readonly section: string;
  /** Extra flags for the section's name server. */
  readonly args?: readonly string[];
  /** A launch agent on 127.0.0.1 with this allow map (short name → program), enrolled for 127.0.0.1. */
  readonly agent?: Readonly<Record<string, string>>;
  /** Members volatile in every block of the section. */
  readonly volatile?: readonly string[];
  /** Members compared exactly in this section although they are volatile elsewhere (a fresh server's `revision`). */
  readonly exact?: readonly string[];
  setup?(ctx: SectionCtx): Promise<void>;
  readonly hooks?: readonly BlockHook[];
}

/** A block deliberately left unchecked, with the reason. */
export interface Unchecked {
  readonly section: string;
  readonly match: string;
  readonly why: string;
}
