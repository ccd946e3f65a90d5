// A snapshot's bytes come as any Uint8Array (the core passes them through untyped), and are read
// with Buffer's methods: a view of the same memory, never a copy (they can be 134 MB).

/** `bytes` as a Buffer over the same memory (itself when it is one). */
export function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
