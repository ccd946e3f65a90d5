// Rebuilding what was stored, at open: the newest good snapshot, then every later WAL record.
import { join } from 'node:path';
import { StorageError } from './errors.js';
import { listSegments, parseWhilePending, scanSegment, truncateSegment, WAL_DIR_NAME, type SegmentFile } from './segment.js';
import { listSnapshots, openSnapshot, type DecodedSnapshot, type SnapshotFile } from './snapshot.js';
import { FilesAhead } from './whole-file.js';
import type { Recovered, StoreLogger } from './types.js';

/** What recovery hands to the caller, plus what the WAL needs to carry on appending. */
export interface Recovery {
  recovered: Recovered;
  /** Index of the snapshot used, if any: the previous snapshot to keep at the next one. */
  snapshotIndex: number | undefined;
  /** First indexes of the segment files on disk, oldest first. */
  segments: number[];
  /** Whether appends continue in the last segment (false when it ends short of lastIndex). */
  continueLast: boolean;
}

/** Segments read ahead of the one being scanned, this one included: at most this many are in memory at once (64 MiB each at most). */
const READ_AHEAD = 2;

const ADVICE =
  'The store will not open on this data directory as it is. Keep a copy of the directory for diagnosis, ' +
  'then restore it from a backup or let this server re-sync from a replica; do not delete or edit WAL files by hand.';

/**
 * Reads the data directory `dir`; truncates a torn tail of the last segment, throws CORRUPT on
 * anything worse. `ahead`: reads already started (Store.readAhead). `condemned`: snapshots a
 * recovery found corrupt and started again without.
 */
export async function recover(
  dir: string, logger: StoreLogger, justWritten?: Recovered['snapshot'], ahead = new FilesAhead(), condemned: ReadonlySet<string> = new Set(),
): Promise<Recovery> {
  const segments = await listSegments(join(dir, WAL_DIR_NAME));
  const snapshots = justWritten === undefined ? (await listSnapshots(dir)).filter((f) => !condemned.has(f.path)) : [];
  // The newest snapshot is the one used unless it is corrupt: it and the first segments it needs
  // are read at once (READ_AHEAD of them: a snapshot's records usually end in the first, and the
  // second was read only once the first was scanned, ~70 ms later at a million names), and each
  // later segment while the ones before are scanned.
  const newest = snapshots[snapshots.length - 1];
  if (newest !== undefined) ahead.start(newest.path, true);
  const expected = firstNeeded(segments, justWritten?.index ?? newest?.index ?? 0);
  if (expected >= 0) for (let k = expected; k < Math.min(expected + READ_AHEAD, segments.length); k++) ahead.start(segments[k]!.path);
  const opened = justWritten === undefined ? await loadSnapshot(snapshots, ahead, logger) : undefined;
  // A large snapshot's checksum may still be being computed, on another thread, while the log is
  // scanned here. Its verdict is awaited before anything is cut from the log, before an error is
  // thrown and before the state is used; a snapshot found corrupt then has recovery start again
  // without it, as one found corrupt at once has it fall back on the one before.
  const verdict = opened?.checked.then((d) => {
    if (!d.ok) warnCorrupt(logger, opened.file, d.reason, snapshots.indexOf(opened.file) > 0);
    return d;
  });
  const base = justWritten?.index ?? opened?.file.index ?? 0;
  let log: RecoveredLog | undefined;
  let failure: unknown;
  try {
    log = await recoverLog(segments, base, ahead, logger, async () => (await verdict)?.ok !== false);
  } catch (err) {
    failure = err;
  }
  // The replay's parsing, begun while the snapshot's check goes on.
  if (log !== undefined && verdict !== undefined) await parseWhilePending(log.records, verdict);
  const d = await verdict;
  if (opened !== undefined && d?.ok === false) return recover(dir, logger, undefined, ahead, new Set([...condemned, opened.file.path]));
  if (log === undefined) throw failure;
  const snapshot = justWritten ?? (opened === undefined || d?.ok !== true ? undefined : { index: opened.file.index, state: d.state });
  const lastIndex = Math.max(base, log.lastInLog ?? 0);
  const recovered: Recovered = { snapshot, records: log.records, lastIndex };
  if (log.droppedTail !== undefined) recovered.droppedTail = log.droppedTail;
  return {
    recovered,
    snapshotIndex: snapshot?.index,
    segments: segments.map((s) => s.firstIndex),
    continueLast: log.lastInLog === lastIndex,
  };
}

/** What the log holds after a snapshot's `base`. */
interface RecoveredLog {
  records: Recovered['records'];
  /** The last record's index; undefined when no segment holds any record after the base. */
  lastInLog: number | undefined;
  droppedTail?: Recovered['droppedTail'];
}

/**
 * The records after `base` in `segments`, a torn tail of the last cut off once `baseGood` says
 * the snapshot that `base` comes from is good (when it is not, the caller starts again).
 */
async function recoverLog(
  segments: readonly SegmentFile[], base: number, ahead: FilesAhead, logger: StoreLogger, baseGood: () => Promise<boolean>,
): Promise<RecoveredLog> {
  const records: Recovered['records'] = [];
  let droppedTail: Recovered['droppedTail'];
  const start = firstNeeded(segments, base);
  const first = segments[0];
  if (first !== undefined && start < 0) {
    throw new StorageError(
      'CORRUPT',
      `WAL segment ${first.path} starts at record ${first.firstIndex}, but ${describeBase(base)}; ` +
        `records ${base + 1}..${first.firstIndex - 1} are missing. ${ADVICE}`,
    );
  }
  // The index the next record must have once the first needed segment is read.
  let next: number | undefined;
  for (let k = Math.max(start, 0); k < segments.length; k++) {
    const seg = segments[k]!;
    const isLast = k === segments.length - 1;
    if (next !== undefined && seg.firstIndex !== next) {
      throw new StorageError(
        'CORRUPT',
        `WAL segment ${seg.path} starts at record ${seg.firstIndex}, but the segment before it ends at record ${next - 1}: ` +
          `there is a gap in the log. ${ADVICE}`,
      );
    }
    const further = segments[k + READ_AHEAD];
    if (further !== undefined) ahead.start(further.path);
    const scan = await scanSegment(seg.path, seg.firstIndex, base, ahead.take(seg.path));
    for (const r of scan.records) records.push(r);
    next = seg.firstIndex + scan.skipped + scan.records.length;
    if (scan.bad === undefined) continue;
    if (!isLast) {
      throw new StorageError(
        'CORRUPT',
        `WAL segment ${seg.path} is corrupt at byte offset ${scan.bad.offset} (${scan.bad.reason}). It is not the last ` +
          `segment, so this is not a torn write, and dropping it would lose the acknowledged records after it. ${ADVICE}`,
      );
    }
    // Nothing is cut for a base that may yet be found wrong (the caller then starts again).
    if (!(await baseGood())) throw new Error('the snapshot is corrupt');
    // A crash mid-write leaves a partial or garbled last batch; none of it was acknowledged.
    const dropped = scan.fileBytes - scan.goodBytes;
    logger.warn('dropping a torn or corrupt tail of the last WAL segment', {
      segment: seg.path,
      offset: scan.goodBytes,
      bytes: dropped,
      reason: scan.bad.reason,
      lastGoodIndex: next - 1,
    });
    await truncateSegment(seg.path, scan.goodBytes);
    droppedTail = { segment: seg.path, offset: scan.goodBytes, bytes: dropped, reason: scan.bad.reason };
  }
  const log: RecoveredLog = { records, lastInLog: next === undefined ? undefined : next - 1 };
  if (droppedTail !== undefined) log.droppedTail = droppedTail;
  return log;
}

/** The position of the segment holding the record after `base`, where reading starts (the segments before it hold only records the snapshot covers); -1 if none starts at or before base+1. */
function firstNeeded(segments: readonly SegmentFile[], base: number): number {
  let start = -1;
  segments.forEach((s, k) => {
    if (s.firstIndex <= base + 1) start = k;
  });
  return start;
}

// The newest snapshot that is not found corrupt on opening (its checksum may still be being computed).
async function loadSnapshot(
  files: readonly SnapshotFile[], ahead: FilesAhead, logger: StoreLogger,
): Promise<{ file: SnapshotFile; checked: Promise<DecodedSnapshot> } | undefined> {
  for (let k = files.length - 1; k >= 0; k--) {
    const file = files[k]!;
    const result = await openSnapshot(file, ahead.take(file.path));
    if (result.ok) return { file, checked: result.checked };
    warnCorrupt(logger, file, result.reason, k > 0);
  }
  return undefined;
}

function warnCorrupt(logger: StoreLogger, file: SnapshotFile, reason: string, olderExists: boolean): void {
  logger.warn(olderExists ? 'snapshot is corrupt; falling back to the one before it' : 'snapshot is corrupt; replaying the WAL without it', {
    snapshot: file.path,
    reason,
  });
}

function describeBase(base: number): string {
  return base === 0
    ? 'there is no usable snapshot, so the log must start at record 1'
    : `the newest usable snapshot covers records only up to ${base}`;
}
