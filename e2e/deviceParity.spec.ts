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
