// Writes docs/openrpc.json from the method table (packages/protocol/src/methods.ts): run by
// `pnpm run openrpc`, which builds first. packages/protocol's openrpc.test.ts fails while the
// checked-in file differs from what the table generates.
import { writeFileSync } from 'node:fs';
import { openRpcText } from '../packages/protocol/dist/openrpc.js';

const out = new URL('../docs/openrpc.json', import.meta.url);
writeFileSync(out, openRpcText());
console.log(`openrpc: wrote ${out.pathname}`);
