// axe-core (the npm package) run inside the monitor page: its source is added with a script tag
// and `axe.run()` checks the document as it is at that moment, so a test calls it once per state
// (a dialog open, a row selected, a narrow viewport, ...).
//
// The page's CSP allows only its own scripts, so a context that runs axe is made with
// `bypassCSP: true` (see axeContextOptions); the other browser tests keep the policy enforced.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BrowserContextOptions, Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** What a context that runs axe needs on top of the test's own options. */
export const axeContextOptions: BrowserContextOptions = { bypassCSP: true };

/** The impacts a test fails on. */
const FAILING: ReadonlySet<string> = new Set(['critical', 'serious']);

/** One rule axe found broken (or could not decide), with the elements concerned. */
export interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  /** 'violation', or 'needs review': axe files an ARIA reference to a missing id there. */
  kind: 'violation' | 'needs review';
  nodes: { target: unknown[]; summary: string; reasons: string[] }[];
}

/**
 * Why axe may leave the contrast of text undecided that is fine: it is scrolled out of its box
 * or the window, or partly under the sticky header. A test scrolls such text into view and runs
 * axe again, which then decides.
 */
const OUT_OF_VIEW: ReadonlySet<string> = new Set(['elmPartiallyObscured', 'outsideViewport']);

/** Every violation and every undecided check axe finds in the page now (all impacts). */
export async function axeFindings(page: Page): Promise<AxeFinding[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.addScriptTag({ content: AXE_SOURCE });
  // Plain script text: this package compiles without the DOM library, and it runs in the page.
  return (await page.evaluate(`axe.run(document, { resultTypes: ['violations', 'incomplete'] }).then((r) => {
    const pick = (kind) => (v) => ({
      id: v.id, impact: v.impact, help: v.help, kind,
      nodes: v.nodes.map((n) => ({
        target: n.target, summary: n.failureSummary ?? '',
        reasons: [...n.any, ...n.all, ...n.none].map((c) => c.data && c.data.messageKey).filter((k) => typeof k === 'string'),
      })),
    });
    return r.violations.map(pick('violation')).concat(r.incomplete.map(pick('needs review')));
  })`)) as AxeFinding[];
}

/** One line per finding and element, for a failure message or a report. */
export function describeFindings(fs: AxeFinding[]): string {
  return fs.map((f) => `${f.impact ?? '?'} ${f.id} (${f.kind}: ${f.help}):\n${f.nodes.map((n) => `    ${JSON.stringify(n.target)}: ${n.summary.replace(/\s+/g, ' ')}`).join('\n')}`).join('\n');
}

/**
 * Fails when axe finds anything critical or serious in the page in the state named `where`:
 * a violation, or a check it could not decide (where it puts aria-describedby naming no element),
 * except the contrast of text out of view (OUT_OF_VIEW).
 */
export async function assertAccessible(page: Page, where: string): Promise<void> {
  const bad = (await axeFindings(page))
    .filter((f) => f.impact !== null && FAILING.has(f.impact))
    .map((f) => f.kind === 'needs review' && f.id === 'color-contrast' ? { ...f, nodes: f.nodes.filter((n) => !n.reasons.some((r) => OUT_OF_VIEW.has(r))) } : f)
    .filter((f) => f.nodes.length > 0);
  if (bad.length > 0) throw new Error(`axe: critical or serious findings ${where}:\n${describeFindings(bad)}`);
}
