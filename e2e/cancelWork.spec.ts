import { expect, test } from '@playwright/test';

const counter = async (page: import('@playwright/test').Page, name: string) =>
  Number(((await page.getByTestId(`counter-${name}`).textContent()) ?? '').replace(/,/g, ''));

test('a 200-prompt batch shows progress and cancels, keeping every event it traced', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('device-badge')).toHaveText(/WebGPU|WASM/, { timeout: 90_000 });
  const status = page.getByTestId('load-status');
  // Click Cancel the moment it appears (inside the page): a Playwright round trip could miss the
  // window on a fast device. The batch then stops after its first chunk.
  await page.evaluate(() => {
    const row = document.querySelector('.load-row')!;
    new MutationObserver((_, obs) => {
      const cancel = [...row.querySelectorAll('button')].find((b) => b.textContent === 'Cancel batch');
      if (cancel) {
        obs.disconnect();
        cancel.click();
      }
    }).observe(row, { childList: true, subtree: true });
  });
  await page.getByRole('button', { name: 'Run 200-prompt batch' }).click();
  await expect(status).toContainText(/Cancelled after \d+ of 200 prompts/, { timeout: 60_000 });
  const scored = Number(/after (\d+) of/.exec((await status.textContent()) ?? '')![1]);
  expect(scored).toBeGreaterThan(0);
  expect(scored).toBeLessThan(200);
  await expect(page.getByRole('button', { name: 'Cancel batch' })).toHaveCount(0);

  // Every lookup of the prompts that ran is counted, and stored: the run holds the two warm-ups
  // plus one event per lookup (each prompt on both views).
  await expect.poll(() => counter(page, 'lookups')).toBe(2 * scored);
  const row = page.getByTestId('traces-panel').getByTestId('run-row').first();
  await expect.poll(async () => Number(await row.getAttribute('data-events'))).toBe(2 + 2 * scored);

  // The batch runs to the end afterwards, with progress in between.
  await page.getByRole('button', { name: 'Run 200-prompt batch' }).click();
  await expect(status).toContainText('200 prompts × 2 views in', { timeout: 90_000 });
});

test('loading a pair can be cancelled, and the next load works', async ({ page }) => {
  // Hold the ft model's weights back so there is a load to cancel.
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  await page.route('**/deltascope-demo/ft/onnx/model.onnx', async (route) => {
    await held;
    await route.continue().catch(() => {});
  });
  await page.goto('/');
  const cancel = page.getByRole('button', { name: 'Cancel load' });
  await expect(cancel).toBeVisible({ timeout: 60_000 });
  // Escape cancels the work in progress (the batch test above uses the button).
  await expect(cancel).toHaveAttribute('title', 'Esc');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('load-notice')).toContainText('Loading cancelled.', { timeout: 30_000 });
  await expect(page.getByTestId('device-badge')).toHaveText('no model');
  await expect(page.getByRole('alert')).toHaveCount(0);
  release();
  await page.unroute('**/deltascope-demo/ft/onnx/model.onnx');

  await page.getByText('Open another pair').click();
  await page.getByRole('button', { name: 'Load demo pair' }).click();
  await expect(page.getByTestId('device-badge')).toHaveText(/WebGPU|WASM/, { timeout: 90_000 });
  await expect(page.getByTestId('load-notice')).toHaveCount(0);
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('compare-result')).toBeVisible();
});
