import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';

test.setTimeout(300_000);

test('two suite runs in the workbench compare with no change; a hand-changed report imported beside them shows that probe regressed', async ({
  page,
}, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.getByTestId('device-badge')).toHaveText(/WebGPU|WASM/, { timeout: 90_000 });
  const suite = page.getByRole('region', { name: 'Suite' });
  const compare = page.getByTestId('run-compare');
  await expect(compare).toContainText('No suite run stored yet.');

  // The same suite twice: every finished suite is kept for comparing.
  await suite.getByLabel('Example spec').selectOption('minimal.yaml');
  await expect(suite.getByTestId('spec-valid')).toContainText('1 probe');
  for (let i = 0; i < 2; i++) {
    await suite.getByRole('button', { name: 'Run suite' }).click();
    await expect(suite.getByTestId('suite-summary')).toBeVisible({ timeout: 120_000 });
    await expect(suite.getByRole('button', { name: 'Run suite' })).toBeEnabled({ timeout: 30_000 });
  }

  // The newest run is B, the one before it A (the list follows the worker's writes).
  const matrix = compare.getByTestId('compare-matrix');
  await expect(compare.getByTestId('compare-pick-a').locator('option')).toHaveCount(2, { timeout: 120_000 });
  await expect(matrix.getByTestId('compare-row')).toHaveCount(1);
  const row = matrix.locator('[data-probe="topic_shift"]');
  await expect(row).toHaveAttribute('data-status', 'same');
  await expect(compare.getByTestId('compare-summary')).toContainText('0 of 1 probes changed · 0 regressions');
  await compare.getByLabel('Show only what changed').check();
  await expect(matrix.getByTestId('compare-row')).toHaveCount(0);
  await expect(compare).toContainText('No probe changed between A and B.');
  await compare.getByLabel('Show only what changed').uncheck();

  // The JSON report of the last run, with topic_shift changed by hand to a FAIL 0.2 lower.
  const downloading = page.waitForEvent('download');
  await suite.getByRole('button', { name: 'Download JSON report' }).click();
  const report = JSON.parse(await readFile(await (await downloading).path(), 'utf8')) as {
    probes: { name: string; verdict: string; score: number }[];
  };
  const probe = report.probes.find((p) => p.name === 'topic_shift')!;
  expect(probe.verdict).toBe('pass');
  probe.verdict = 'fail';
  probe.score -= 0.2;
  await compare.getByTestId('compare-import-input').setInputFiles({
    name: 'hand-changed.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(report)),
  });
  await expect(compare.getByTestId('compare-pick-a').locator('option')).toHaveCount(3);
  await expect(compare.getByTestId('compare-pick-b')).toContainText('hand-changed.json');
  await expect(row).toHaveAttribute('data-status', 'regressed');
  await expect(row).toContainText('-0.20');
  await expect(compare.getByTestId('compare-summary')).toContainText('1 of 1 probes changed · 1 regression');
  await expect(compare.getByTestId('compare-regressions')).toContainText(
    'topic_shift: PASS → FAIL, score -0.200',
  );
  await compare.getByLabel('Show only what changed').check();
  await expect(matrix.getByTestId('compare-row')).toHaveCount(1);

  // The matrix downloads as one self-contained HTML page.
  const html = page.waitForEvent('download');
  await compare.getByRole('button', { name: 'Download HTML' }).click();
  const page2 = await readFile(await (await html).path(), 'utf8');
  expect(page2).toContain('<tr class="regressed"><td>regressed</td><td>topic_shift</td>');
  expect(page2).not.toMatch(/https?:|<script/i);

  await compare.screenshot({ path: testInfo.outputPath('run-compare.png') });
  expect(errors).toEqual([]);
});
