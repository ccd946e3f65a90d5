// Bytes as the wire spells them (lowercase hex, UTF-8 text) with what every JavaScript runtime
// has: the protocol runs in a browser as well as in Node, so no Buffer.

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** The bytes of hex text (either case); undefined for anything that is not whole bytes of hex. */
export function fromHex(hex: string): Uint8Array | undefined {
  if (!HEX.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** `bytes` read as UTF-8; a malformed sequence becomes U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Whether `a` and `b` are equal, in time that depends on their length only: for proofs. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
