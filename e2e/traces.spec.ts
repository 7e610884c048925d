import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';

const SWAY_KEYS = ['ts', 'probe', 'view_id', 'prompt_hash', 'top_k', 'op', 'wall_ms', 'hit'];

interface ShownAnalysis {
  events: string;
  hitRate: string;
  views: Record<string, string>;
}

/**
 * The analysis numbers the panel shows for the selected run, once they have caught up with `events`
 * (the panel recomputes the analysis when a run goes quiet, not on every new event).
 */
async function shownAnalysis(page: Page, runId: string, events: number): Promise<ShownAnalysis> {
  const detail = page.getByTestId('run-detail');
  await expect(detail).toHaveAttribute('data-run-id', runId);
  await expect(detail.getByTestId('analysis')).toBeVisible();
  await expect(detail.getByTestId('analysis-events')).toHaveText(events.toLocaleString('en-US'));
  const views = await detail
    .getByTestId('analysis-views')
    .locator('tbody tr')
    .evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-name'), r.getAttribute('data-events')]));
  return {
    events: (await detail.getByTestId('analysis-events').textContent()) ?? '',
    hitRate: (await detail.getByTestId('analysis-hit-rate').textContent()) ?? '',
    views: Object.fromEntries(views),
  };
}

test('runs persist in IndexedDB, export as JSONL and Perfetto, and import back', async ({
  page,
}, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.getByTestId('device-badge')).toHaveText(/WebGPU|WASM/, { timeout: 90_000 });
  const panel = page.getByTestId('traces-panel');
  await expect(page.getByRole('heading', { name: 'Traces', level: 2 })).toBeVisible();

  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('compare-result')).toBeVisible();

  // Warm-up (2) plus the compare's two lookups, once the list has caught up with the feed.
  const row = panel.getByTestId('run-row').first();
  await expect
    .poll(async () => Number(await row.getAttribute('data-events')), { timeout: 15_000 })
    .toBeGreaterThanOrEqual(4);
  const runId = (await row.getAttribute('data-run-id'))!;
  const events = Number(await row.getAttribute('data-events'));
  expect(events).toBeGreaterThan(0);
  await row.click();
  const before = await shownAnalysis(page, runId, events);
  expect(before.events).toBe(events.toLocaleString('en-US'));
  expect(before.hitRate).toMatch(/^\d+\.\d%$/);

  // Reload: the run is still there with the same count (the reload loads the demo pair again,
  // which starts a new run of its own).
  await page.reload();
  await expect(page.getByTestId('device-badge')).toHaveText(/WebGPU|WASM/, { timeout: 90_000 });
  const kept = panel.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
  await expect(kept).toHaveAttribute('data-events', String(events));
  // The reload's own run is listed only once it has events: no listed run is empty.
  await expect(panel.locator('[data-testid="run-row"][data-events="0"]')).toHaveCount(0);
  await kept.click();
  expect(await shownAnalysis(page, runId, events)).toEqual(before);

  // Download JSONL: every line parses, sway's eight keys first and in order.
  const [jsonl] = await Promise.all([
    page.waitForEvent('download'),
    panel.getByRole('button', { name: 'Download JSONL' }).click(),
  ]);
  expect(jsonl.suggestedFilename()).toMatch(/\.jsonl$/);
  const jsonlPath = testInfo.outputPath('run.jsonl');
  await jsonl.saveAs(jsonlPath);
  const lines = (await readFile(jsonlPath, 'utf8')).trimEnd().split('\n');
  expect(lines).toHaveLength(events);
  for (const line of lines) {
    const obj = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(obj).slice(0, 8)).toEqual(SWAY_KEYS);
    expect(obj.run_id).toBe(runId);
  }
  expect(lines.some((l) => l.includes('"op": "warmup"'))).toBe(true);

  // Download Perfetto trace: valid JSON with slices, counters and a thread per view.
  const [perfetto] = await Promise.all([
    page.waitForEvent('download'),
    panel.getByRole('button', { name: 'Download Perfetto trace' }).click(),
  ]);
  const perfettoPath = testInfo.outputPath('run.perfetto.json');
  await perfetto.saveAs(perfettoPath);
  const trace = JSON.parse(await readFile(perfettoPath, 'utf8')) as {
    traceEvents: { ph: string; name: string; tid: number; args?: Record<string, unknown> }[];
    displayTimeUnit: string;
  };
  expect(trace.displayTimeUnit).toBe('ms');
  expect(trace.traceEvents.some((e) => e.ph === 'X')).toBe(true);
  expect(trace.traceEvents.some((e) => e.ph === 'C')).toBe(true);
  const threads = trace.traceEvents
    .filter((e) => e.ph === 'M' && e.name === 'thread_name')
    .map((e) => e.args!.name);
  expect([...threads].sort()).toEqual(Object.keys(before.views).sort());

  // Import JSONL: the file comes back as a new run with the same analysis.
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    panel.getByRole('button', { name: 'Import JSONL' }).click(),
  ]);
  await chooser.setFiles(jsonlPath);
  await expect(panel.getByTestId('import-notice')).toContainText(
    `Imported ${events.toLocaleString('en-US')} events`,
  );
  await expect(panel.getByTestId('import-notice')).toContainText('no lines skipped');
  const imported = panel.locator('[data-testid="run-row"][aria-pressed="true"]');
  await expect(imported).toContainText('run.jsonl');
  const importedId = (await imported.getAttribute('data-run-id'))!;
  expect(importedId).not.toBe(runId);
  await expect(imported).toHaveAttribute('data-events', String(events));
  expect(await shownAnalysis(page, importedId, events)).toEqual(before);

  await expect(panel.getByTestId('storage-used')).toContainText(/storage used \d/);
  await panel.screenshot({ path: testInfo.outputPath('traces-panel.png') });

  // Delete the imported run: it leaves the list, the original stays.
  await panel.getByRole('button', { name: 'Delete run' }).click();
  await panel.getByRole('button', { name: 'Confirm delete' }).click();
  await expect(panel.locator(`[data-testid="run-row"][data-run-id="${importedId}"]`)).toHaveCount(0);
  await expect(kept).toHaveAttribute('data-events', String(events));
  expect(errors).toEqual([]);
});
