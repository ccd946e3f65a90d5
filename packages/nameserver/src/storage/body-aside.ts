// What recovery needs to know of a large snapshot's body before using it — its CRC-32 and where
// each line starts — found on a thread of its own while the log is scanned on the main thread.
// At a million names the body is ~130 MB just read into new memory, and the first pass over it
// cost ~200 ms of the restart on the benchmark VM (the pages' first touch more than the CRC:
// zlib's takes ~30 ms over the same bytes once touched), and finding its lines ~70 ms more, with
// the second CPU idle. The thread shares the bytes (read into a SharedArrayBuffer:
// whole-file.ts), so nothing is copied, and whoever reads them next finds them touched.
import { isAscii } from 'node:buffer';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';

/**
 * Bodies smaller than this are looked at where they are: starting a thread (~60 ms of a CPU on
 * the benchmark VM) would cost more than it saves.
 */
export const ASIDE_BYTES = 16 * 1024 * 1024;

/** Where each line of a body starts. */
export interface LineStarts {
  /** Offsets past 4 GiB do not fit 32 bits (a Buffer may be that long on 64-bit Node). */
  starts: Uint32Array | Float64Array;
  count: number;
  /** Whether every byte is ASCII (its lines can then be decoded as Latin-1, a copy). */
  ascii: boolean;
}

export interface BodyFacts {
  crc: number;
  lines: LineStarts;
  /** Whether they were found on a thread of their own. */
  aside: boolean;
}

/**
 * The lines of `body`, which ends with a newline or is empty. It refers to nothing outside
 * itself (`ascii` is node:buffer's isAscii): its source is also the thread's.
 */
export function lineStarts(body: Buffer, ascii: (b: Uint8Array) => boolean): LineStarts {
  let starts: Uint32Array | Float64Array = body.length < 2 ** 32 ? new Uint32Array(1024) : new Float64Array(1024);
  let count = 0;
  for (let at = 0; at < body.length; at = body.indexOf(0x0a, at) + 1) {
    if (count === starts.length) {
      const grown: Uint32Array | Float64Array = starts instanceof Uint32Array ? new Uint32Array(count * 2) : new Float64Array(count * 2);
      grown.set(starts);
      starts = grown;
    }
    starts[count++] = at;
  }
  return { starts, count, ascii: ascii(body) };
}

// Evaluated, not loaded from a file: the single executable and the bundles have no file to load.
const SOURCE = `'use strict';
const { parentPort, workerData: w } = require('node:worker_threads');
const { crc32 } = require('node:zlib');
const { isAscii } = require('node:buffer');
const body = Buffer.from(w.buffer, w.offset, w.length);
const lines = (${lineStarts.toString()})(body, isAscii);
parentPort.postMessage({ crc: crc32(body), lines }, [lines.starts.buffer]);
`;

/**
 * The CRC-32 (zlib's) and lines of `body`, found on another thread when its bytes are shared and
 * at least ASIDE_BYTES long, else here. Never rejects: a thread that cannot start or fails leaves
 * them to be found here.
 */
export function bodyFacts(body: Buffer): Promise<BodyFacts> {
  const here = (): BodyFacts => ({ crc: crc32(body), lines: lineStarts(body, isAscii), aside: false });
  if (!(body.buffer instanceof SharedArrayBuffer) || body.length < ASIDE_BYTES) return Promise.resolve(here());
  return new Promise((resolve) => {
    let settled = false;
    const settle = (facts: () => BodyFacts): void => {
      if (settled) return;
      settled = true;
      resolve(facts());
    };
    let worker: Worker;
    try {
      worker = new Worker(SOURCE, { eval: true, workerData: { buffer: body.buffer, offset: body.byteOffset, length: body.length } });
    } catch {
      settle(here);
      return;
    }
    worker.once('message', (m: { crc: number; lines: LineStarts }) => {
      settle(() => ({ crc: m.crc, lines: m.lines, aside: true }));
      void worker.terminate();
    });
    worker.once('error', () => settle(here));
    worker.once('exit', () => settle(here));
  });
}
