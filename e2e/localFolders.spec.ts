import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';

const DEMO = 'public/models/deltascope-demo';

test('local folders picked in the browser load through the custom fetch; a missing file is named', async ({
  page,
}, testInfo) => {
  test.skip(testInfo.project.name !== 'wasm', 'file picking does not depend on the device; once is enough');
  await page.goto('/?device=wasm');
  await expect(page.getByTestId('device-badge')).toHaveText(/WASM/, { timeout: 90_000 });
  await page.getByText('Open another pair').click();

  // A folder without its tokenizer: the error names the file.
  const scratch = mkdtempSync(join(tmpdir(), 'deltascope-pick-'));
  try {
    const broken = join(scratch, 'ft-broken');
    cpSync(`${DEMO}/ft`, broken, { recursive: true });
    rmSync(join(broken, 'tokenizer.json'));
    await page.getByLabel('Base folder').setInputFiles(`${DEMO}/base`);
    await page.getByLabel('Fine-tuned folder').setInputFiles(broken);
    await page.getByRole('button', { name: 'Open local pair' }).click();
    await expect(page.getByRole('alert')).toContainText('missing tokenizer.json');

    await page.getByLabel('Fine-tuned folder').setInputFiles(`${DEMO}/ft`);
    await page.getByRole('button', { name: 'Open local pair' }).click();
    await expect(page.getByTestId('model-info')).toContainText('picked folder ft', { timeout: 60_000 });
    await page.getByRole('button', { name: 'Compare' }).click();
    await expect(page.getByTestId('dist-ft').locator('li')).toHaveCount(10);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
