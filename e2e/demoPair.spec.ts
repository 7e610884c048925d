import { expect, test, type Page } from '@playwright/test';

const PROMPT = 'The festival begins when the keeper of the';

async function compareTopTokens(page: Page): Promise<{ base: string[]; ft: string[]; js: string }> {
  await page.getByRole('textbox', { name: 'Prompt' }).fill(PROMPT);
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('compare-result')).toBeVisible();
  const ids = async (testId: string) =>
    (
      await page
        .getByTestId(testId)
        .locator('li')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-token-id')))
    )
      .slice(0, 5)
      .map(String);
  return {
    base: await ids('dist-base'),
    ft: await ids('dist-ft'),
    js: (await page.getByTestId('js-value').textContent()) ?? '',
  };
}

test('the demo pair loads in the worker and compares a prompt', async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const external: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('http://localhost')) external.push(r.url());
  });
  await page.goto('/');
  const badge = page.getByTestId('device-badge');
  await expect(badge).toHaveText(testInfo.project.name === 'webgpu' ? /WebGPU/ : /WASM/, { timeout: 90_000 });
  await expect(page.getByTestId('model-info')).toContainText('demo model base');
  const top = await compareTopTokens(page);
  expect(top.base).toHaveLength(5);
  expect(top.js).toMatch(/^\d\.\d{4} nats$/);
  expect(Number.parseFloat(top.js)).toBeGreaterThan(0);
  // Nothing is fetched from a hub or CDN: models and the ORT runtime come from our own origin.
  expect(external.filter((u) => !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
  expect(errors).toEqual([]);
});

test('WebGPU and WASM give the same top-5 tokens', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'webgpu', 'needs a browser with WebGPU to run both devices');
  await page.goto('/?device=webgpu');
  await expect(page.getByTestId('device-badge')).toHaveText(/WebGPU/, { timeout: 90_000 });
  const gpu = await compareTopTokens(page);
  await page.goto('/?device=wasm');
  await expect(page.getByTestId('device-badge')).toHaveText(/WASM/, { timeout: 90_000 });
  const wasm = await compareTopTokens(page);
  expect(gpu.base).toEqual(wasm.base);
  expect(gpu.ft).toEqual(wasm.ft);
  expect(Math.abs(Number.parseFloat(gpu.js) - Number.parseFloat(wasm.js))).toBeLessThan(1e-3);
});
