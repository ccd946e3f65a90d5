// CRC-32C (Castagnoli), the checksum of every WAL record and snapshot: it runs on every write.

const POLY = 0x82f63b78; // 0x1EDC6F41, bit-reversed

// Eight 256-entry tables in one array: table k maps a byte to its CRC contribution when it is
// followed by k more bytes, so the main loop folds in 8 bytes per step (slicing-by-8).
const TABLES = buildTables();

function buildTables(): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = (c >>> 8) ^ t[c & 0xff]!;
      t[k * 256 + n] = c;
    }
  }
  return t;
}

/**
 * The CRC-32C of `data` (of its bytes from `from` to `to`: recovery checks each record where it
 * lies, without a view of it made per record). Pass the result of a previous call as `crc` to
 * continue a checksum over more bytes: crc32c(b, crc32c(a)) === crc32c(a followed by b).
 */
export function crc32c(data: Uint8Array, crc = 0, from = 0, to = data.length): number {
  // Indexes below are in range by construction; the `!` only quiets noUncheckedIndexedAccess.
  const t = TABLES;
  let c = ~crc >>> 0;
  let i = from;
  const end8 = to - ((to - from) % 8);
  while (i < end8) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c =
      t[0x700 + (c & 0xff)]! ^
      t[0x600 + ((c >>> 8) & 0xff)]! ^
      t[0x500 + ((c >>> 16) & 0xff)]! ^
      t[0x400 + (c >>> 24)]! ^
      t[0x300 + data[i + 4]!]! ^
      t[0x200 + data[i + 5]!]! ^
      t[0x100 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
    i += 8;
  }
  while (i < to) c = (c >>> 8) ^ t[(c ^ data[i++]!) & 0xff]!;
  return ~c >>> 0;
}
