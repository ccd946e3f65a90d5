// A table as the Markdown reference docs/SETTINGS.md holds: per group, every setting's name (its
// config key), flag, variable, kind, default and help; then the deprecated spellings still read.
import { defaultValue, shownDefault, type Entry, type SettingsTable, type Specs } from './table.js';

/** The section of one daemon, from a `##` heading on. */
export function settingsReference<S extends Specs>(table: SettingsTable<S>, intro: string): string {
  const lines = [`## ${table.command}`, '', intro, ''];
  lines.push(
    `A config file (\`--config FILE\`, or \`${table.configEnv}=FILE\`) is one JSON object whose keys are the names below. ` +
    'Flags win over variables, variables over the file, the file over defaults; a list given in a later place replaces the earlier one. ' +
    `A variable of a repeatable flag holds the items comma-separated.`,
    '',
  );
  const groups = [...new Set(table.entries.map((e) => e.spec.group))];
  for (const group of groups) {
    lines.push(`### ${group}`, '', '| name (config key) | flag | environment | value | default | description |', '| --- | --- | --- | --- | --- | --- |');
    for (const e of table.entries.filter((x) => x.spec.group === group)) lines.push(row(e));
    lines.push('');
  }
  const old = table.entries.filter((e) => e.spec.deprecated !== undefined);
  if (old.length > 0) {
    lines.push('### Deprecated spellings', '', 'Still read, with a warning on stderr at start; write the setting\'s own name instead.', '');
    lines.push('| deprecated | setting |', '| --- | --- |');
    for (const e of old) {
      const d = e.spec.deprecated ?? {};
      const spellings = [d.flag && `\`--${d.flag}\``, d.env && `\`${d.env}\``, d.key && `config \`${d.key}\``].filter((x) => typeof x === 'string' && x !== '');
      lines.push(`| ${spellings.join(', ')} | \`${e.name}\` |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function row(e: Entry): string {
  const k = e.spec.kind;
  const flag = k.flag === 'repeatable' ? `\`--${e.flag}\` (repeatable)` : `\`--${e.flag}\``;
  const dflt = shownDefault(e.spec);
  // A value is code; a sentence about the default (computed, or following another setting) is prose.
  const shown = dflt === undefined ? '—' : e.spec.defaultText !== undefined || (Array.isArray(defaultValue(e.spec)) && dflt === 'none') ? dflt : `\`${dflt}\``;
  return `| \`${e.name}\` | ${flag} | \`${e.env}\` | ${cell(k.text)} | ${cell(shown)} | ${cell(e.spec.help)} |`;
}

function cell(s: string): string {
  return s.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
