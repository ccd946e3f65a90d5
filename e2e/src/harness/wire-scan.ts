// Looks for secrets in what a recording proxy carried: in the raw bytes of each direction and in
// every WebSocket message as the receiving end reads it (unmasked), each secret in every encoding
// a careless sender might use: the text itself, the bytes a hex text stands for, lower and upper
// hex, base64 and base64url at every alignment inside a longer encoded run.
import type { RecordedConnection } from './recording-proxy.js';
import { decodeConnection } from './ws-frames.js';

/** A secret to look for: a text (hex texts are also looked for as the bytes they encode) or raw bytes. */
export interface Secret {
  /** Says which secret it is, in failure messages; never its value. */
  readonly name: string;
  readonly value: string | Uint8Array;
}

/** One readable part of a recorded connection. */
export interface WireView {
  /** The connection's number in its proxy. */
  readonly connection: number;
  /** The first line of the connection's HTTP request (`GET /peer HTTP/1.1`), or '' when it sent none. */
  readonly request: string;
  /** `sent` by the side that dialed, or `answered` by the side that was dialed. */
  readonly direction: 'sent' | 'answered';
  /** `raw` bytes, the HTTP `head`, `message N` (unmasked), or the `rest` no frame took. */
  readonly where: string;
  readonly bytes: Buffer;
}

/** A secret found on the wire: which, in what form, and where (with the bytes around it, escaped). */
export interface SecretHit {
  readonly secret: string;
  readonly form: string;
  readonly connection: number;
  readonly request: string;
  readonly direction: 'sent' | 'answered';
  readonly where: string;
  readonly around: string;
}

/** Every view of every connection: both raw directions, and each decoded head, message and rest. */
export function viewsOf(connections: readonly RecordedConnection[]): WireView[] {
  const views: WireView[] = [];
  for (const c of connections) {
    const sent = Buffer.concat(c.toTarget);
    const answered = Buffer.concat(c.fromTarget);
    const { request, response } = decodeConnection(sent, answered);
    const line = request.head.split('\r\n', 1)[0] ?? '';
    const base = { connection: c.id, request: line };
    for (const [direction, raw, decoded] of [['sent', sent, request], ['answered', answered, response]] as const) {
      views.push({ ...base, direction, where: 'raw', bytes: raw });
      if (decoded.head !== '') views.push({ ...base, direction, where: 'head', bytes: Buffer.from(decoded.head, 'latin1') });
      decoded.messages.forEach((m, i) => views.push({ ...base, direction, where: `message ${i + 1}`, bytes: m }));
      if (decoded.rest.length > 0) views.push({ ...base, direction, where: 'rest', bytes: decoded.rest });
    }
  }
  return views;
}

/** The byte strings that would betray `secret`, each named by its encoding. */
export function secretForms(secret: Secret): { form: string; bytes: Buffer }[] {
  const bases: [string, Buffer][] = [];
  if (typeof secret.value === 'string') {
    bases.push(['text', Buffer.from(secret.value, 'utf8')]);
    if (/^(?:[0-9a-fA-F]{2})+$/.test(secret.value)) bases.push(['the bytes the hex stands for', Buffer.from(secret.value, 'hex')]);
  } else {
    bases.push(['bytes', Buffer.from(secret.value)]);
  }
  const forms = new Map<string, { form: string; bytes: Buffer }>();
  const add = (form: string, bytes: Buffer): void => {
    const key = bytes.toString('hex');
    const same = forms.get(key);
    // Two encodings can give the same bytes (a hex text is its bytes' hex; base64 without + or / is base64url).
    if (same !== undefined) same.form += ` = ${form}`;
    else if (bytes.length >= 16) forms.set(key, { form, bytes });
  };
  for (const [what, b] of bases) {
    add(`${what}, raw`, b);
    add(`${what}, hex`, Buffer.from(b.toString('hex')));
    add(`${what}, HEX`, Buffer.from(b.toString('hex').toUpperCase()));
    // Inside a longer base64 run the secret starts at any offset mod 3: the whole 3-byte groups
    // of each alignment encode the same way wherever the run starts.
    for (let skip = 0; skip < 3; skip++) {
      const whole = b.subarray(skip, skip + Math.floor((b.length - skip) / 3) * 3);
      add(`${what}, base64 (from byte ${skip})`, Buffer.from(whole.toString('base64')));
      add(`${what}, base64url (from byte ${skip})`, Buffer.from(whole.toString('base64url')));
    }
  }
  return [...forms.values()];
}

/** Every place any form of any of `secrets` occurs in `views`. */
export function findSecrets(views: readonly WireView[], secrets: readonly Secret[]): SecretHit[] {
  const hits: SecretHit[] = [];
  for (const secret of secrets) {
    for (const { form, bytes } of secretForms(secret)) {
      for (const v of views) {
        const at = v.bytes.indexOf(bytes);
        if (at === -1) continue;
        hits.push({
          secret: secret.name, form, connection: v.connection, request: v.request, direction: v.direction, where: v.where,
          around: escape(v.bytes.subarray(Math.max(0, at - 60), at + bytes.length + 20)),
        });
      }
    }
  }
  return hits;
}

/** True when some view holds `text` (UTF-8): to show that a link really carried what a test expects. */
export function carries(views: readonly WireView[], text: string): boolean {
  const b = Buffer.from(text, 'utf8');
  return views.some((v) => v.bytes.includes(b));
}

/** One line per hit, for an assertion message. */
export function describeHits(hits: readonly SecretHit[]): string {
  return hits.map((h) => `${h.secret} as ${h.form}: connection ${h.connection} (${h.request || 'no HTTP request'}), ${h.direction}, ${h.where}: …${h.around}…`).join('\n');
}

function escape(b: Buffer): string {
  return b.toString('latin1').replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
