// A large snapshot's CRC-32 computed on a thread of its own, while recovery scans the log on the
// main thread. At a million names the body is ~130 MB just read into new memory, and the first
// pass over it cost ~200 ms of the restart on the benchmark VM — the pages' first touch more than
// the CRC (zlib's takes ~30 ms over the same bytes once touched) — with the second CPU idle. The
// thread shares the bytes (they were read into a SharedArrayBuffer: whole-file.ts), so nothing is
// copied, and whoever reads them next finds them touched.
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';

/**
 * Bodies smaller than this are checked where they are: starting a thread (~60 ms of a CPU on the
 * benchmark VM) would cost more than it saves.
 */
export const ASIDE_BYTES = 16 * 1024 * 1024;

// Evaluated, not loaded from a file: the single executable and the bundles have no file to load.
const SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { crc32 } = require('node:zlib');
parentPort.postMessage(crc32(new Uint8Array(workerData.buffer, workerData.offset, workerData.length)));
`;

/**
 * The CRC-32 of `bytes` (zlib's), computed on another thread when they are shared and at least
 * ASIDE_BYTES long, else here. Never rejects: a thread that cannot start or fails leaves the sum
 * to be computed here.
 */
export function crc32Aside(bytes: Uint8Array): Promise<number> {
  if (!(bytes.buffer instanceof SharedArrayBuffer) || bytes.length < ASIDE_BYTES) return Promise.resolve(crc32(bytes));
  return new Promise((resolve) => {
    let settled = false;
    const settle = (crc: () => number): void => {
      if (settled) return;
      settled = true;
      resolve(crc());
    };
    const here = (): number => crc32(bytes);
    let worker: Worker;
    try {
      worker = new Worker(SOURCE, { eval: true, workerData: { buffer: bytes.buffer, offset: bytes.byteOffset, length: bytes.length } });
    } catch {
      settle(here);
      return;
    }
    worker.once('message', (crc: unknown) => {
      settle(typeof crc === 'number' ? () => crc : here);
      void worker.terminate();
    });
    worker.once('error', () => settle(here));
    worker.once('exit', () => settle(here));
  });
}
