import { expect, test, type Page } from '@playwright/test';

// The renderer dies in the middle of a 200-prompt batch (a crash: no pagehide, no unload, no last
// flush). Everything IndexedDB had committed before must be there afterwards, unchanged, and every
// run record must agree with its chunks (no half-written flush: a flush is one transaction).

interface Snapshot {
  runs: { id: string; eventCount: number }[];
  /** `run/seq` → a fingerprint of the chunk (count, first and last ts, hit bytes). */
  chunks: Record<string, string>;
}

/** What the trace database holds now, read straight from IndexedDB in the page. */
function snapshot(page: Page): Promise<Snapshot> {
  return page.evaluate(
    () =>
      new Promise<Snapshot>((resolve, reject) => {
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
            resolve(out);
          };
          tx.onerror = () => reject(new Error(String(tx.error)));
        };
      }),
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
  await page.getByRole('button', { name: 'Run 200-prompt batch' }).click();
  // Wait until the batch's events have started to land (a few flushes committed).
  let before: Snapshot = { runs: [], chunks: {} };
  await expect
    .poll(
      async () => {
        before = await snapshot(page);
        return Object.keys(before.chunks).length;
      },
      { timeout: 60_000, intervals: [100] },
    )
    .toBeGreaterThanOrEqual(3);
  // SIGKILL every renderer process: the page and its worker stop between two instructions, as in a
  // crash or a killed tab; nothing runs after (no pagehide, no unload, no last flush).
  const browserCdp = await browser.newBrowserCDPSession();
  const { processInfo } = (await browserCdp.send('SystemInfo.getProcessInfo')) as {
    processInfo: { id: number; type: string }[];
  };
  const renderers = processInfo.filter((p) => p.type === 'renderer');
  expect(renderers.length).toBeGreaterThan(0);
  // Mid-run: the batch has not finished.
  await expect(page.getByTestId('load-status')).not.toContainText('200 prompts × 2 views in', { timeout: 1 });
  const crashed = page.waitForEvent('crash');
  for (const p of renderers) process.kill(p.id, 'SIGKILL');
  await crashed;

  const fresh = await context.newPage();
  await fresh.goto('/');
  const after = await snapshot(fresh);
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
