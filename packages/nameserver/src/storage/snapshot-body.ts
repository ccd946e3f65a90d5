// A format-3 snapshot file's body read back a chunk of whole lines at a time, for a snapshot made
// from the one before it (registry/snapshot-merge.ts): the lines that did not change are copied
// as bytes instead of being read out of the registry again. The body is checked against the
// trailer as it is read; a mismatch throws at the end, before the new file built from it could
// be renamed into place, so a corrupt file is never copied into a new one with a fresh checksum.
import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { StorageError } from './errors.js';

/** Bytes read a turn (the file is read to the last line end in it; the rest is carried over). */
const CHUNK_BYTES = 1 << 20;
/** The header and trailer are short lines: this much of either end holds them. */
const END_BYTES = 4096;
/**
 * No line of a registry's file comes near this (an entry is bounded by a request's size): past
 * it the file is taken for corrupt rather than carried over chunk after chunk up to its size.
 */
const MAX_LINE_BYTES = 64 << 20;

/** A format-3 snapshot's last line: its body's length and CRC-32. */
export interface SnapshotTrailer {
  bytes: number;
  crc32: number;
}

/**
 * The body of the format-3 snapshot at `path` (for `index`): its lines between header and
 * trailer, in Buffers that each end with a newline. Throws StorageError CORRUPT when the file is
 * not a format-3 snapshot of `index` or its body does not match its trailer (the last chunk is
 * then never yielded). `checked` is given the trailer once the whole body matched it, before the
 * last chunk is yielded.
 */
export async function* readSnapshotBody(path: string, index: number, checked?: (trailer: SnapshotTrailer) => void): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const corrupt = (why: string): StorageError => new StorageError('CORRUPT', `snapshot ${path} cannot be read back: ${why}`);
    const head = Buffer.alloc(Math.min(size, END_BYTES));
    await readFully(fh, head, 0);
    const headerEnd = head.indexOf(0x0a);
    if (headerEnd < 0) throw corrupt('no header line');
    const header = parseObject(head.toString('utf8', 0, headerEnd));
    if (header?.format !== 3 || header.index !== index) throw corrupt(`header ${head.toString('utf8', 0, Math.min(headerEnd, 100))} is not format 3 at index ${index}`);
    const tail = Buffer.alloc(Math.min(size, END_BYTES));
    await readFully(fh, tail, size - tail.length);
    if (tail[tail.length - 1] !== 0x0a) throw corrupt('no trailer line (the file ends mid-line)');
    const trailerStartInTail = tail.lastIndexOf(0x0a, tail.length - 2) + 1;
    const trailer = parseObject(tail.toString('utf8', trailerStartInTail, tail.length - 1));
    const bodyStart = headerEnd + 1;
    const bodyEnd = size - (tail.length - trailerStartInTail);
    if (trailer === undefined || typeof trailer.bytes !== 'number' || typeof trailer.crc32 !== 'number') throw corrupt('no trailer with bytes and crc32');
    if (trailerStartInTail === 0 && tail.length === END_BYTES) throw corrupt('trailer line too long');
    if (bodyEnd - bodyStart !== trailer.bytes) throw corrupt(`trailer says ${trailer.bytes} bytes, the body has ${bodyEnd - bodyStart}`);
    // A registry's file always has its head line.
    if (bodyEnd === bodyStart) throw corrupt('the body is empty');
    let crc = 0;
    let carry = Buffer.alloc(0);
    for (let at = bodyStart; at < bodyEnd;) {
      const n = Math.min(CHUNK_BYTES, bodyEnd - at);
      // A new buffer each turn: the pieces yielded before are still being written out.
      const chunk = Buffer.allocUnsafe(carry.length + n);
      carry.copy(chunk, 0);
      await readFully(fh, chunk.subarray(carry.length), at);
      crc = crc32(chunk.subarray(carry.length), crc);
      at += n;
      const cut = at === bodyEnd ? chunk.length : chunk.lastIndexOf(0x0a) + 1;
      if (at === bodyEnd && chunk[chunk.length - 1] !== 0x0a) throw corrupt('the body does not end with a newline');
      if (at === bodyEnd && crc !== trailer.crc32) throw corrupt(`CRC-32 mismatch (trailer ${trailer.crc32}, computed ${crc})`);
      if (at === bodyEnd) checked?.({ bytes: trailer.bytes, crc32: trailer.crc32 });
      carry = Buffer.from(chunk.subarray(cut));
      if (carry.length > MAX_LINE_BYTES) throw corrupt(`a line longer than ${MAX_LINE_BYTES} bytes`);
      if (cut > 0) yield chunk.subarray(0, cut);
    }
  } finally {
    await fh.close();
  }
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let off = 0; off < buf.length;) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, position + off);
    if (bytesRead === 0) throw new StorageError('CORRUPT', 'the snapshot file ended early (it changed while being read)');
    off += bytesRead;
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
