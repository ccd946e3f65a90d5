// How an owner key (the hex Ed25519 public key a connection proves with `identify`) is named
// to people: its first 16 hex digits, which its holder can match against the key it prints.
/** Hex digits of an owner key shown in messages. */
const FINGERPRINT_DIGITS = 16;

/** The short form of an owner key used in messages and tables. */
export function ownerFingerprint(owner: string): string {
  return owner.slice(0, FINGERPRINT_DIGITS);
}
