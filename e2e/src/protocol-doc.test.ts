// PROTOCOL.md is the contract clients are written from, so every example in it must stay true
// of the server. This walks every ```json block of the document: each request is sent to a real
// name server (a fresh one per section, with the state the section's examples imply) over a raw
// WebSocket, and the answer, notification or frame it gets is held to the documented one by
// shape and stable values (harness/shape-match.ts). Blocks that are not checked are listed, with
// the reason, in protocol-doc/unchecked.ts; every other block must be run by the scripts, and a
// script or an unchecked entry that no longer matches a block fails the test too.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { joinAnswerBlocks, readDocBlocks, type DocBlock } from './harness/doc-examples.js';
import { teardown } from './harness/index.js';
import { runSection } from './protocol-doc/runner.js';
import type { SectionScript } from './protocol-doc/script.js';
import { agentSections } from './protocol-doc/sections-agent.js';
import { launchSections } from './protocol-doc/sections-launch.js';
import { moduleSections } from './protocol-doc/sections-modules.js';
import { registrySections } from './protocol-doc/sections-registry.js';
import { transportSections } from './protocol-doc/sections-transport.js';
import { UNCHECKED } from './protocol-doc/unchecked.js';

after(() => teardown());

const SCRIPTS: readonly SectionScript[] = [...transportSections, ...registrySections, ...launchSections, ...moduleSections, ...agentSections];

test('every JSON example of docs/PROTOCOL.md is what the real server sends', { timeout: 900_000 }, async (t) => {
  const blocks = readDocBlocks();
  const problems: string[] = [];

  // The unchecked list must name blocks that exist, one block per entry.
  const unchecked = new Set<DocBlock>();
  for (const u of UNCHECKED) {
    const hits = blocks.filter((b) => b.section === u.section && b.text.includes(u.match));
    if (hits.length !== 1) problems.push(`unchecked.ts: "${u.match}" matches ${hits.length} blocks of §${u.section}, not one`);
    for (const b of hits) unchecked.add(b);
  }
  const bySection = new Map<string, DocBlock[]>();
  for (const b of blocks) {
    if (unchecked.has(b)) continue;
    bySection.set(b.section, [...(bySection.get(b.section) ?? []), b]);
  }
  for (const s of SCRIPTS) if (!bySection.has(s.section)) problems.push(`§${s.section} has a script but no block left to check`);

  // DPNS_DOC_SECTIONS=5.6,5.7 runs only those sections (while working on a script).
  const only = process.env.DPNS_DOC_SECTIONS?.split(',').filter((s) => s !== '');
  let checked = 0;
  for (const [section, sectionBlocks] of bySection) {
    if (only !== undefined && !only.includes(section)) continue;
    const script = SCRIPTS.find((s) => s.section === section) ?? { section };
    const started = Date.now();
    try {
      const outcome = await runSection(script, joinAnswerBlocks(sectionBlocks));
      checked += outcome.checked;
      problems.push(...outcome.problems, ...outcome.unusedHooks.map((h) => `a hook matches no block: ${h}`));
      t.diagnostic(`§${section}: ${outcome.checked} checked in ${Date.now() - started} ms`);
    } catch (e) {
      // The section's server or agent did not start: say so, and go on with the other sections.
      problems.push(`§${section} could not run: ${(e as Error).message}`);
    }
  }
  t.diagnostic(`${checked} documents held to the server's; ${unchecked.size} of ${blocks.length} blocks unchecked (protocol-doc/unchecked.ts)`);
  if (only !== undefined) t.diagnostic(`only sections ${only.join(', ')} were run (DPNS_DOC_SECTIONS)`);
  assert.equal(problems.length, 0, `${problems.length} differences between PROTOCOL.md and the server:\n\n${problems.join('\n\n')}`);
});
