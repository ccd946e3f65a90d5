// The Markdown reference of a table: a row per setting under its group, then the deprecated spellings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settingsReference } from './index.js';
import { TABLE } from './table.test.helper.js';

test('a row per setting, under its group, with every spelling, the kind, the default and the help', () => {
  const md = settingsReference(TABLE, 'The demo daemon.');
  assert.match(md, /^## demo\n\nThe demo daemon\.\n/);
  assert.match(md, /`--config FILE`, or `DEMO_CONFIG=FILE`/);
  assert.ok(md.indexOf('### Place') < md.indexOf('### Timing'));
  assert.match(md, /^\| `pingMs` \| `--ping-ms` \| `DEMO_PING_MS` \| integer 10 … 1000 \| `100` \| ping interval \|$/m);
  assert.match(md, /^\| `maxItemsPerConnection` \| `--max-items` \| `DEMO_MAX_ITEMS_PER_CONNECTION` \|/m);
  assert.match(md, /^\| `stateDir` \| `--state-dir` \| `DEMO_STATE_DIR` \| path \| \/var\/lib\/demo \| its state \\\| its logs \|$/m);
  assert.match(md, /^\| `tags` \| `--tag` \(repeatable\) \| `DEMO_TAGS` \| tag \| none \| a tag \|$/m);
  assert.match(md, /^\| `peer` \| `--peer` \| `DEMO_PEER` \| HOST:PORT \| — \|/m);
  assert.match(md, /### Deprecated spellings[\s\S]*^\| `--heartbeat-ms`, `DEMO_HEARTBEAT_MS`, config `heartbeatMs` \| `pingMs` \|$/m);
});
