// The Compare panel shows exact full-vocabulary divergences: the values on screen (WebGPU or WASM in
// the page) match the same computation in Node (onnxruntime-node on the same demo pair).
import { expect, test } from '@playwright/test';
import { openPair } from '../src/backend/index.ts';
import { compare } from '../src/worker/interactiveOps.ts';

const PROMPT = 'The keeper of the old lighthouse';

test('Compare shows the exact JS and KLs that Node computes on the same pair', async ({ page }, testInfo) => {
  const pair = await openPair({ kind: 'demo' }, { warmup: false });
  const node = await compare(pair, PROMPT, 10).finally(() => pair.dispose());

  await page.goto('/');
  await expect(page.getByTestId('device-badge')).toHaveText(
    testInfo.project.name === 'webgpu' ? /WebGPU/ : /WASM/,
    {
      timeout: 90_000,
    },
  );
  await page.getByRole('textbox', { name: 'Prompt' }).fill(PROMPT);
  await page.getByRole('button', { name: 'Compare' }).click();
  const shown = async (testId: string) =>
    Number.parseFloat((await page.getByTestId(testId).textContent({ timeout: 30_000 })) ?? 'NaN');
  await expect(page.getByTestId('compare-result')).toBeVisible();
  // Four decimals on screen; device float differences stay well below 1e-4.
  expect(Math.abs((await shown('js-value')) - node.divergence.js)).toBeLessThan(2e-4);
  expect(Math.abs((await shown('kl-value')) - node.divergence.klFtBase)).toBeLessThan(2e-4);
  expect(Math.abs((await shown('kl-rev-value')) - node.divergence.klBaseFt)).toBeLessThan(2e-4);
  await expect(page.getByTestId('mass-value')).toContainText('over the full vocabulary');
});
