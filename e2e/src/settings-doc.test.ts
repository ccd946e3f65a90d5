// docs/SETTINGS.md is generated from the settings tables; a table changed without the file (or
// the file edited by hand) fails here, with the command that brings it back in line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { REGENERATE, settingsDoc, SETTINGS_MD } from './settings-doc/reference.js';

test('docs/SETTINGS.md is what the settings tables generate', () => {
  const expected = settingsDoc();
  let actual = '';
  try {
    actual = readFileSync(SETTINGS_MD, 'utf8');
  } catch {
    assert.fail(`docs/SETTINGS.md is missing: run \`${REGENERATE}\` and commit it`);
  }
  if (actual === expected) return;
  const a = actual.split('\n');
  const e = expected.split('\n');
  const at = e.findIndex((line, i) => a[i] !== line);
  const line = at === -1 ? e.length : at;
  assert.fail(`docs/SETTINGS.md differs from what the settings tables generate (first at line ${line + 1}:\n  file:      ${a[line] ?? '(end of file)'}\n  generated: ${e[line] ?? '(end)'})\nRun \`${REGENERATE}\` and commit docs/SETTINGS.md.`);
});
