import { expect, test, type Page } from '@playwright/test';

// The renderer dies in the middle of a 200-prompt batch (a crash: no pagehide, no unload, no last
// flush). Everything IndexedDB had committed before must be there afterwards, unchanged, and every
// run record must agree with its chunks (no half-written flush: a flush is one transaction).

interface Snapshot {
  runs: { id: string; eventCount: number }[];
  /** `run/seq` → a fingerprint of the chunk (count, first and last ts, hit bytes). */
  chunks: Record<string, string>;
}

/**
 * What the trace database holds, read straight from IndexedDB in the page: at once, or (with
 * `minEvents`) polled inside the page every 20 ms until that many events are committed, so the test
 * reacts within a flush interval rather than a Playwright round trip.
 */
function snapshot(page: Page, minEvents = 0): Promise<Snapshot> {
  return page.evaluate(
    (min) =>
      new Promise<Snapshot>((resolve, reject) => {
        const attempt = () => {
          const open = indexedDB.open('deltascope-traces');
          open.onerror = () => reject(new Error(String(open.error)));
          open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction(['runs', 'chunks'], 'readonly');
            const runs = tx.objectStore('runs').getAll();
            const chunks = tx.objectStore('chunks').getAll();
            tx.oncomplete = () => {
              const out: Snapshot = {
                runs: (runs.result as { id: string; eventCount: number }[]).map((r) => ({
                  id: r.id,
                  eventCount: r.eventCount,
                })),
                chunks: {},
              };
              for (const c of chunks.result as {
                run: string;
                seq: number;
                count: number;
                ts: Float64Array;
                hit: Uint8Array;
              }[]) {
                out.chunks[`${c.run}/${c.seq}`] = [
                  c.count,
                  c.ts[0],
                  c.ts[c.count - 1],
                  Array.from(c.hit).join(''),
                ].join('|');
              }
              db.close();
              const total = Object.values(out.chunks).reduce((n, fp) => n + Number(fp.split('|')[0]), 0);
              if (total >= min) resolve(out);
              else setTimeout(attempt, 20);
            };
            tx.onerror = () => reject(new Error(String(tx.error)));
          };
        };
        attempt();
      }),
    minEvents,
  );
}

/** Events stored per run, summed from the chunks. */
const chunkTotals = (s: Snapshot): Record<string, number> => {
  const totals: Record<string, number> = {};
  for (const [key, fp] of Object.entries(s.chunks)) {
    const run = key.slice(0, key.lastIndexOf('/'));
    totals[run] = (totals[run] ?? 0) + Number(fp.split('|')[0]);
  }
  return totals;
};

test('a renderer crash mid-batch keeps every committed event and leaves no corrupt record', async ({
  page,
  context,
  browser,
}, testInfo) => {
  test.skip(testInfo.project.name === 'webgpu', 'storage does not depend on the device: WASM covers it');
  await page.goto('/');
  await expect(page.getByTestId('device-badge')).toHaveText(/WASM/, { timeout: 90_000 });
  // The renderer processes, found before the batch starts so the kill follows the snapshot at once.
  const browserCdp = await browser.newBrowserCDPSession();
  const { processInfo } = (await browserCdp.send('SystemInfo.getProcessInfo')) as {
    processInfo: { id: number; type: string }[];
  };
  const renderers = processInfo.filter((p) => p.type === 'renderer');
  expect(renderers.length).toBeGreaterThan(0);
  await page.getByRole('button', { name: 'Run 200-prompt batch' }).click();
  // As soon as the batch's first flushes have committed (the load's 2 warm-ups plus 20 lookups)…
  const before = await snapshot(page, 22);
  // …SIGKILL every renderer process: the page and its worker stop between two instructions, as in a
  // crash or a killed tab; nothing runs after (no pagehide, no unload, no last flush).
  const crashed = page.waitForEvent('crash');
  for (const p of renderers) process.kill(p.id, 'SIGKILL');
  await crashed;

  const fresh = await context.newPage();
  await fresh.goto('/');
  const after = await snapshot(fresh);
  // Mid-run: what was committed at the kill is less than the batch's 400 lookups.
  expect(Object.values(chunkTotals(before)).reduce((a, b) => a + b, 0)).toBeLessThan(400);
  // Every chunk committed before the crash is there, unchanged.
  for (const [key, fp] of Object.entries(before.chunks)) expect(after.chunks[key], key).toBe(fp);
  // Every run record agrees with its chunks: counters and events were committed together.
  const totals = chunkTotals(after);
  for (const run of after.runs) expect(totals[run.id] ?? 0, run.id).toBe(run.eventCount);
  // And the batch's run holds at least what was seen committed.
  for (const run of before.runs) {
    const now = after.runs.find((r) => r.id === run.id);
    expect(now?.eventCount ?? -1).toBeGreaterThanOrEqual(run.eventCount);
  }
  testInfo.annotations.push({
    type: 'events committed before the crash / after',
    description: `${Object.values(chunkTotals(before)).reduce((a, b) => a + b, 0)} / ${Object.values(totals).reduce((a, b) => a + b, 0)}`,
  });
});
