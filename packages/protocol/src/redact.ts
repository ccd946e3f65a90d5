// What a connection that is not admin may see of a launch spec: that settings exist, never
// their values. Arguments, environment values, the working directory and the user often carry
// secrets (a password flag, DB_PASSWORD); the host and program name say where and what runs.
import type { EntryView, LaunchSpec } from './entries.js';

/** Stands in for every hidden value. */
export const REDACTED = '<redacted>';

/**
 * Values shorter than this are not scrubbed out of free text (a failure `reason`): replacing
 * "a" or "on" everywhere would garble the sentence and hide nothing worth hiding.
 */
const MIN_SCRUBBED_LENGTH = 4;

/** The spec with its values hidden: as many args, the same env keys, and whether cwd and user are set. */
export function redactSpec(spec: LaunchSpec): LaunchSpec {
  if (spec.redacted === true) return spec;
  const out: LaunchSpec = {
    ...(spec.host === undefined ? {} : { host: spec.host }),
    ...(spec.hosts === undefined ? {} : { hosts: spec.hosts }),
    program: spec.program,
    args: spec.args.map(() => REDACTED),
    env: Object.fromEntries(Object.keys(spec.env).map((k) => [k, REDACTED])),
    startTimeoutMs: spec.startTimeoutMs,
    redacted: true,
  };
  if (spec.cwd !== undefined) out.cwd = REDACTED;
  if (spec.user !== undefined) out.user = REDACTED;
  if (spec.restart !== undefined) out.restart = spec.restart;
  // A check says how the address is probed, nothing about the program: shown to anyone.
  if (spec.check !== undefined) out.check = spec.check;
  // When it stops on its own says nothing about the program either.
  if (spec.idleStopMs !== undefined) out.idleStopMs = spec.idleStopMs;
  return out;
}

/** `text` with every secret value of `spec` replaced by the marker (an agent's error may quote the cwd). */
export function scrubSecrets(text: string, spec: LaunchSpec): string {
  const secrets = [...spec.args, ...Object.values(spec.env), spec.cwd ?? '', spec.user ?? '']
    // A value that is also the host or the program is shown anyway: scrubbing it would only garble the text.
    .filter((v) => v.length >= MIN_SCRUBBED_LENGTH && v !== spec.host && !(spec.hosts ?? []).includes(v) && v !== spec.program)
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of secrets) out = out.replaceAll(s, REDACTED);
  return out;
}

/** An entry as anyone may see it; the same object when it holds nothing secret. */
export function publicEntry(e: EntryView): EntryView {
  if (e.kind !== 'service' || e.spec === undefined || e.spec.redacted === true) return e;
  const out = { ...e, spec: redactSpec(e.spec) };
  if (e.reason !== undefined) out.reason = scrubSecrets(e.reason, e.spec);
  return out;
}
