// What a primary sends a backup that its log cannot bring up to date: the registry as a format-3
// snapshot file's text (storage/snapshot-stream.ts), made a batch at a time from an image of the
// registry and kept in those parts, which the peer link splits into frames (peer-transport.ts).
// The backup checks it, stores it as it is and loads it as a restart would: no JSON document of
// the whole registry is parsed on either side, and the stored snapshot is one whose entries a
// later restart also keeps as text (a JSON document was stored as format 1, which parses every
// entry).
import type { Registry } from '../registry/registry.js';
import { snapshotLines } from '../registry/snapshot-lines.js';
import { snapshotStreamParts } from '../storage/snapshot-stream.js';

const FILE_PREFIX = '{"format":3,';

/** A snapshot file's text in the parts it was made in, and the index it is at. */
export interface SnapshotText {
  index: number;
  parts: string[];
}

/** The registry now, as a snapshot file's text. */
export async function snapshotForBackup(registry: Registry): Promise<SnapshotText> {
  const image = registry.image();
  try {
    return { index: image.revision, parts: await snapshotStreamParts(image.revision, snapshotLines(image)) };
  } finally {
    image.release();
  }
}

/** Whether a primary's snapshot is a snapshot file's text (else: one JSON document, from an older primary). */
export function isSnapshotFileText(data: string): boolean {
  return data.startsWith(FILE_PREFIX);
}
