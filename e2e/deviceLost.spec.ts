import { expect, test, type Page } from '@playwright/test';

/** Destroys the GPUDevice the worker's ORT sessions run on, as a driver reset or GPU crash would. */
async function loseDevice(page: Page) {
  const worker = page.workers().findLast((w) => w.url().includes('workbench.worker'));
  expect(worker).toBeDefined();
  await worker!.evaluate(() => {
    (self as unknown as { deltascopeGpuDevice: { destroy(): void } }).deltascopeGpuDevice.destroy();
  });
}

// The page must say so, refuse work with the reason, keep the trace, and recover in a fresh worker.
test('a lost WebGPU device is reported, and the engine restarts on WebGPU or WASM', async ({
  page,
}, testInfo) => {
  test.skip(testInfo.project.name !== 'webgpu', 'needs a WebGPU device to lose');
  test.setTimeout(240_000);
  // The manual path: with the circuit breaker off, nothing falls back by itself (e2e/breaker.spec.ts).
  await page.goto('/?breaker=off');
  const badge = page.getByTestId('device-badge');
  await expect(badge).toHaveText(/WebGPU/, { timeout: 90_000 });
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('compare-result')).toBeVisible();
  const firstRun = page.getByTestId('traces-panel').getByTestId('run-row').first();
  await expect.poll(async () => Number(await firstRun.getAttribute('data-events'))).toBe(4);
  const runId = await firstRun.getAttribute('data-run-id');

  await loseDevice(page);
  const lost = page.getByTestId('device-lost');
  await expect(lost).toContainText('The WebGPU device was lost (destroyed');
  await expect(badge).toHaveText('WebGPU · device lost');
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByRole('region', { name: 'Probe' }).getByRole('alert')).toContainText(
    'device was lost',
  );
  await page.screenshot({ path: testInfo.outputPath('device-lost.png'), fullPage: true });

  // Restart on WebGPU: a fresh worker gets a new device and loads the pair again.
  await lost.getByRole('button', { name: 'Restart on WebGPU' }).click();
  await expect(badge).toHaveText(/^WebGPU · (?!device lost)/, { timeout: 90_000 });
  await expect(page.getByTestId('device-lost')).toHaveCount(0);
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('compare-result')).toBeVisible();

  // Lost again, restart on WASM; the first run is still stored with every event.
  await loseDevice(page);
  await page.getByTestId('device-lost').getByRole('button', { name: 'Restart on WASM' }).click();
  await expect(badge).toHaveText(/WASM/, { timeout: 90_000 });
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('compare-result')).toBeVisible();
  const stored = page.getByTestId('traces-panel').locator(`[data-run-id="${runId}"]`);
  await expect(stored).toHaveAttribute('data-events', '4');
});

// ORT destroys its GPUDevice itself when the last session of a pair is released (a reload): that
// must not read as a lost device for the new pair.
test('loading the pair again on WebGPU is not mistaken for a lost device', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'webgpu', 'WebGPU only');
  await page.goto('/');
  const badge = page.getByTestId('device-badge');
  await expect(badge).toHaveText(/WebGPU/, { timeout: 90_000 });
  await page.getByText('Open another pair').click();
  await page.getByRole('button', { name: 'Load demo pair' }).click();
  await expect(badge).toHaveText('loading…');
  await expect(badge).toHaveText(/^WebGPU · (?!device lost)/, { timeout: 90_000 });
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('compare-result')).toBeVisible();
  await expect(page.getByTestId('device-lost')).toHaveCount(0);
  await expect(badge).toHaveText(/^WebGPU · (?!device lost)/);
});
