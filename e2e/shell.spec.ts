import { expect, test } from '@playwright/test';

test('the workbench renders with its Model panel and a device badge', async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'deltascope' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Model' })).toBeVisible();
  const badge = page.getByTestId('device-badge');
  const expected = testInfo.project.name === 'webgpu' ? /WebGPU/ : /WASM/;
  await expect(badge).toHaveText(expected);
  expect(errors).toEqual([]);
});
