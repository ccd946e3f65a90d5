// `pnpm run settings-doc`: writes docs/SETTINGS.md from the settings tables.
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { settingsDoc, SETTINGS_MD } from './reference.js';

writeFileSync(SETTINGS_MD, settingsDoc());
process.stdout.write(`wrote ${relative(process.cwd(), SETTINGS_MD)}\n`);
