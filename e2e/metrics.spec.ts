import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';

test('a batch run shows its metrics in Traces, and the metrics history downloads as JSON', async ({
  page,
}, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.getByTestId('device-badge')).toHaveText(/WebGPU|WASM/, { timeout: 90_000 });
  await page.getByRole('button', { name: 'Run 200-prompt batch' }).click();
  await expect(page.getByTestId('load-status')).toContainText('200 prompts × 2 views in', {
    timeout: 90_000,
  });

  const panel = page.getByTestId('traces-panel');
  const row = panel.getByTestId('run-row').first();
  // Two warm-ups plus 200 prompts on both views.
  await expect.poll(async () => Number(await row.getAttribute('data-events')), { timeout: 15_000 }).toBe(402);
  await row.click();
  const metrics = panel.getByTestId('run-metrics');
  await expect(metrics).toHaveAttribute('data-origin', 'stored');
  // Per op: the batch's next_token_dist and the load's warm-up, each with three percentiles in ms.
  const ops = metrics.getByTestId('metrics-op-row');
  await expect(ops.filter({ hasText: 'next_token_dist' })).toHaveCount(1);
  const cells = await ops.filter({ hasText: 'next_token_dist' }).locator('td').allTextContents();
  expect(Number(cells[1]!.replace(/,/g, ''))).toBeGreaterThan(0);
  for (const c of cells.slice(2)) expect(c).toMatch(/^\d+(\.\d+)? (ms|s)$/);
  await expect(metrics.getByTestId('metrics-hit-rate')).toHaveText(/^\d+\.\d%$/);
  await expect(metrics.getByTestId('metrics-prompts-per-s')).toHaveText(/^\d+(\.\d+)? prompts\/s$/);
  await expect(metrics.getByTestId('metrics-peak-batch')).toHaveText(/^\d+$/);
  await expect(metrics.getByTestId('metrics-load')).toHaveText(/^\d+(\.\d+)? (ms|s)$/);
  // Chromium's performance.memory exists on the page but not in the worker that holds the models:
  // the heap reads "—" and says why (a number where a runtime does report it).
  const heap = metrics.getByTestId('metrics-heap');
  if ((await heap.textContent()) === '—') await expect(heap).toHaveAttribute('title', /not available/);
  else await expect(heap).toHaveText(/^\d+(\.\d)? (B|KB|MB|GB)$/);
  // GPU buffer bytes: counted on WebGPU (ORT's buffers through the worker's createBuffer), "—" on WASM.
  const gpu = metrics.getByTestId('metrics-gpu');
  const device = (await page.getByTestId('device-badge').textContent()) ?? '';
  if (/WASM/.test(device)) await expect(gpu).toHaveText('—');
  else await expect(gpu).toHaveText(/^\d+(\.\d)? (KB|MB|GB)$/);
  testInfo.annotations.push({
    type: 'memory',
    description: `heap ${await heap.textContent()}, GPU buffers ${await gpu.textContent()} on ${device}`,
  });
  await expect(metrics).not.toContainText(/NaN|Infinity/);

  const [file] = await Promise.all([
    page.waitForEvent('download'),
    panel.getByRole('button', { name: 'Download metrics history' }).click(),
  ]);
  expect(file.suggestedFilename()).toMatch(/^deltascope-metrics-.*\.json$/);
  const path = testInfo.outputPath('history.json');
  await file.saveAs(path);
  const history = JSON.parse(await readFile(path, 'utf8')) as {
    schema: string;
    runs: { run_id: string; metrics: { schema: string; lookups: number; load_ms: number | null } }[];
  };
  expect(history.schema).toBe('deltascope.metrics_history');
  const runId = await row.getAttribute('data-run-id');
  const mine = history.runs.find((r) => r.run_id === runId);
  expect(mine).toBeDefined();
  expect(mine!.metrics.schema).toBe('deltascope.run_metrics');
  expect(mine!.metrics.lookups).toBe(400);
  expect(mine!.metrics.load_ms).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});
