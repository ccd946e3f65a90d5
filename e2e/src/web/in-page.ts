// Timings taken inside the page with performance.now(), as plain script text (this package
// compiles without the DOM library, and the code runs in the browser, not here).

/**
 * Types `pattern` into the filter box; resolves with `{ totalMs, pageMs }`: the ms until the table
 * shows its entries, and the part of it after the server's answer arrived (the page's own work:
 * replacing the table and rendering it), from the page's 'dpns:watch-answered' mark.
 */
export function filterTiming(pattern: string): string {
  return `(async () => {
    const pattern = ${JSON.stringify(pattern)};
    const input = document.querySelector('input[name=pattern]');
    const count = document.querySelector('[data-testid=count]');
    const done = () => count.getAttribute('data-pattern') === pattern;
    const t0 = performance.now();
    input.value = pattern;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await new Promise((resolve, reject) => {
      if (done()) return resolve();
      setTimeout(() => reject(new Error('the table did not show ' + pattern + ' within 10 s')), 10000);
      const mo = new MutationObserver(() => { if (done()) { mo.disconnect(); resolve(); } });
      mo.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    const t1 = performance.now();
    const mark = performance.getEntriesByName('dpns:watch-answered').at(-1);
    if (mark === undefined || mark.startTime < t0) throw new Error('no dpns:watch-answered mark for ' + pattern);
    return { totalMs: t1 - t0, pageMs: t1 - mark.startTime };
  })()`;
}

/**
 * Advertises `name` from a second WebSocket of the page; resolves with the ms from sending the
 * write until its row is in the table. That includes the server's durable write and its event,
 * so it bounds the page's own share from above.
 */
export function updateTiming(name: string): string {
  return `(async () => {
    const name = ${JSON.stringify(name)};
    const ws = new WebSocket('ws://' + location.host + '/');
    await new Promise((resolve, reject) => { ws.onmessage = resolve; ws.onerror = reject; setTimeout(reject, 10000); });
    // The probe's name sorts first, so its row is in view at the top of the table.
    const selector = '[data-name="' + name + '"]';
    const t0 = performance.now();
    const shown = new Promise((resolve, reject) => {
      setTimeout(() => reject(new Error(name + ' not shown within 10 s')), 10000);
      const mo = new MutationObserver(() => { if (document.querySelector(selector)) { mo.disconnect(); resolve(); } });
      mo.observe(document.body, { subtree: true, childList: true });
    });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'advertiseService', params: { name, host: '127.0.0.1', port: 9 } }));
    await shown;
    const ms = performance.now() - t0;
    window.__probes = (window.__probes || []).concat([ws]);
    return ms;
  })()`;
}
