// @dpns/settings: a daemon's settings declared once in a table, and everything else derived
// from it: flags and --help, environment variables, the config file, checks, typed values, and
// the reference docs/SETTINGS.md.
export { int, oneOf, bool, text, path, endpoint, address, kind } from './kinds.js';
export type { Kind, FlagShape, HostPort } from './kinds.js';
export { setting, defineSettings, kebab, snake, shownDefault } from './table.js';
export type { SettingSpec, DefaultedSetting, Specs, Values, ValueOf, Entry, SettingsTable } from './table.js';
export { loadSettings } from './load.js';
export type { LoadInput, Loaded } from './load.js';
export { cliOptions, cliValues } from './cli.js';
export type { CliValues } from './cli.js';
export { settingsReference } from './reference.js';
export { logSettings } from './log-settings.js';
