import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';

test.setTimeout(300_000);

test('the Suite view validates as you type, runs the demo suite, shows verdicts and downloads reports', async ({
  page,
}, testInfo) => {
  await page.goto('/');
  await expect(page.getByTestId('device-badge')).toHaveText(/WebGPU|WASM/, { timeout: 90_000 });
  const suite = page.getByRole('region', { name: 'Suite' });
  await expect(suite.getByRole('heading', { name: 'Suite', exact: true })).toBeVisible();
  await suite.getByLabel('Example spec').selectOption('minimal.yaml');
  await expect(suite.getByTestId('spec-valid')).toContainText('1 probe');

  // A malformed spec names the line.
  const editor = suite.getByRole('textbox', { name: 'Spec (YAML)' });
  const good = await editor.inputValue();
  await editor.fill(good.replace('kind: delta_kl', 'kind: delta_kll'));
  await expect(suite.getByTestId('spec-issues')).toContainText(/line \d+:\d+/);
  await expect(suite.getByTestId('spec-issues')).toContainText('delta_kll');
  await expect(suite.getByRole('button', { name: 'Run suite' })).toBeDisabled();

  await suite.getByLabel('Example spec').selectOption('demo-suite.yaml');
  await expect(suite.getByTestId('spec-valid')).toBeVisible();
  await suite.getByRole('button', { name: 'Run suite' }).click();
  await expect(suite.getByTestId('suite-summary')).toBeVisible({ timeout: 220_000 });
  await expect(suite.getByTestId('verdict-document_shift')).toHaveText('PASS');
  await expect(suite.getByTestId('verdict-nulls')).toHaveText('SKIP');
  await expect(suite.getByTestId('score-gauge')).toContainText(/healthy|partial|suspicious/);

  const downloading = page.waitForEvent('download');
  await suite.getByRole('button', { name: 'Download JSON report' }).click();
  const file = await (await downloading).path();
  const report = JSON.parse(await readFile(file, 'utf8')) as {
    schema_version: number;
    probes: { name: string; verdict: string }[];
  };
  expect(report.schema_version).toBe(1);
  expect(report.probes.find((p) => p.name === 'document_shift')?.verdict).toBe('pass');
  await page.screenshot({ path: testInfo.outputPath('suite.png'), fullPage: true });
});
