// A daemon's settings table: each setting declared once, with its kind, default, help and group.
// Its name is its config-file key; its flag and environment variable are spelled from the name
// (a flag may keep an older spelling); the typed values are inferred from the table, so a setting
// cannot be added in one place only.
import type { Kind } from './kinds.js';

export interface SettingSpec<T> {
  readonly kind: Kind<T>;
  /** One line for --help and docs/SETTINGS.md: what it does, and what a reader must know to set it. */
  readonly help: string;
  /** The heading it is listed under. */
  readonly group: string;
  /** The value when nothing gives one; a function when it depends on the host (the user, $HOME). */
  readonly default?: T | (() => T);
  /** How help and docs show the default when the value would not say it (it is computed, or follows another setting). */
  readonly defaultText?: string;
  /** The flag without `--`, when it is not the name in kebab-case (spellings older than the table). */
  readonly flag?: string;
  /** Spellings of earlier releases, still read, with a warning: a flag (without `--`), a variable, a config key. */
  readonly deprecated?: { readonly flag?: string; readonly env?: string; readonly key?: string };
}

/** A setting whose value is always there: it has a default. */
export interface DefaultedSetting<T> extends SettingSpec<T> {
  readonly default: T | (() => T);
}

// The kind alone says what T is: a default of 'info' must not widen a setting of LogLevel to string.
export function setting<T>(spec: Omit<SettingSpec<T>, 'default'> & { readonly default: NoInfer<T> | (() => NoInfer<T>) }): DefaultedSetting<T>;
export function setting<T>(spec: Omit<SettingSpec<T>, 'default'> & { readonly default?: undefined }): SettingSpec<T>;
export function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

export type Specs = Record<string, SettingSpec<unknown>>;

/** The value type of one setting. */
export type ValueOf<S> = S extends SettingSpec<infer T> ? T : never;

/** The typed values of a table: a setting with a default is always there, one without may be absent. */
export type Values<S extends Specs> = {
  -readonly [K in keyof S as S[K] extends DefaultedSetting<unknown> ? K : never]: ValueOf<S[K]>;
} & {
  -readonly [K in keyof S as S[K] extends DefaultedSetting<unknown> ? never : K]?: ValueOf<S[K]>;
};

/** One setting with every spelling worked out. */
export interface Entry {
  readonly name: string;
  /** Without `--`. */
  readonly flag: string;
  readonly env: string;
  readonly spec: SettingSpec<unknown>;
}

export interface SettingsTable<S extends Specs> {
  /** The command, for help and docs: "dpns-nameserver". */
  readonly command: string;
  /** Every variable starts with it: "DPNS_". */
  readonly envPrefix: string;
  readonly specs: S;
  /** In the table's order. */
  readonly entries: readonly Entry[];
  /** `--config FILE`: a JSON object of settings. */
  readonly configFlag: '--config';
  /** The variable that names the config file when --config does not: `<envPrefix>CONFIG`. */
  readonly configEnv: string;
  /** The flag of a setting, with `--`, for messages and units. */
  flag(name: keyof S & string): string;
  env(name: keyof S & string): string;
  /** The default value (a fresh copy: callers may change it). */
  defaultOf<K extends keyof S & string>(name: K): ValueOf<S[K]>;
}

/** "maxFrameBytes" → "max-frame-bytes". */
export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** "maxFrameBytes" → "MAX_FRAME_BYTES". */
export function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

/** The default's value, computed now when it depends on the host; undefined when there is none. */
export function defaultValue<T>(spec: SettingSpec<T>): T | undefined {
  const d = spec.default;
  // Table defaults are plain data: a copy keeps one load's changes out of the next.
  return typeof d === 'function' ? (d as () => T)() : structuredClone(d);
}

/** The default as help and docs show it; undefined when there is none. */
export function shownDefault<T>(spec: SettingSpec<T>): string | undefined {
  if (spec.defaultText !== undefined) return spec.defaultText;
  const v = defaultValue(spec);
  if (v === undefined) return undefined;
  return Array.isArray(v) && v.length === 0 ? 'none' : spec.kind.show(v);
}

export function defineSettings<S extends Specs>(meta: { command: string; envPrefix: string }, specs: S): SettingsTable<S> {
  const entries = Object.entries(specs).map(([name, spec]) => ({ name, flag: spec.flag ?? kebab(name), env: `${meta.envPrefix}${snake(name)}`, spec }));
  const seen = new Set<string>();
  for (const e of entries) {
    for (const spelling of [e.name, `--${e.flag}`, e.env, e.spec.deprecated?.flag && `--${e.spec.deprecated.flag}`, e.spec.deprecated?.env, e.spec.deprecated?.key]) {
      if (spelling === undefined || spelling === '') continue;
      // Two settings spelled alike would read each other's values: a mistake in the table itself.
      if (seen.has(spelling)) throw new Error(`${meta.command} settings: ${spelling} is spelled twice`);
      seen.add(spelling);
    }
  }
  const entry = (name: string): Entry => {
    const e = entries.find((x) => x.name === name);
    if (e === undefined) throw new Error(`${meta.command} settings: no setting ${name}`);
    return e;
  };
  return {
    command: meta.command, envPrefix: meta.envPrefix, specs, entries, configFlag: '--config', configEnv: `${meta.envPrefix}CONFIG`,
    flag: (name) => `--${entry(name).flag}`,
    env: (name) => entry(name).env,
    defaultOf: <K extends keyof S & string>(name: K) => defaultValue(entry(name).spec) as ValueOf<S[K]>,
  };
}
