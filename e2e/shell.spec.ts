import { expect, test } from '@playwright/test';

// The names the issue promises, looked up the way people write them (substring match, not exact):
// each must resolve to exactly one heading, also once the demo pair has loaded and a trace run is open
// (model and run labels are shown, and must never shadow a panel heading).
const HEADINGS = ['Model', 'Cache hit rate', 'Batch size', 'Latency', 'Traces'];

test('the workbench renders with its Model panel and a device badge', async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'deltascope', exact: true })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Model', exact: true })).toBeVisible();
  const badge = page.getByTestId('device-badge');
  const expected = testInfo.project.name === 'webgpu' ? /WebGPU/ : /WASM/;
  await expect(badge).toHaveText(expected, { timeout: 90_000 });
  await expect(page.getByTestId('model-info')).toContainText('demo model base');
  await page.getByTestId('traces-panel').getByTestId('run-row').first().click();
  await expect(page.getByTestId('run-title')).toContainText('demo model');
  for (const name of HEADINGS) await expect(page.getByRole('heading', { name })).toHaveCount(1);
  expect(errors).toEqual([]);
});
