import { expect, test } from '@playwright/test';

test.setTimeout(240_000);

// A quick probe, then slow ones (greedy generation), so there is time to cancel in between.
const SPEC = `version: 1
dlm_source: ../public/models/deltascope-demo/document.md
models:
  base: { kind: hf, base: ../public/models/deltascope-demo/base }
  ft: { kind: hf, base: ../public/models/deltascope-demo/ft }
suite:
  - name: document_shift
    kind: delta_kl
    prompts: ['The festival begins when the keeper of the', 'Quillhaven is a small harbour town on the island of']
${Array.from({ length: 8 }, (_, i) => `  - { name: recital_${i}, kind: leakage, max_new_tokens: 96 }`).join('\n')}
`;

test('cancelling a suite keeps finished probes and every stored trace event', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('device-badge')).toHaveText(/WebGPU|WASM/, { timeout: 90_000 });
  const suite = page.getByRole('region', { name: 'Suite' });
  await suite.getByRole('textbox', { name: 'Spec (YAML)' }).fill(SPEC);
  await expect(suite.getByTestId('spec-valid')).toContainText('9 probes');
  await suite.getByRole('button', { name: 'Run suite' }).click();
  // Cancel as soon as the second probe has reported.
  await expect(suite.getByTestId('verdict-document_shift')).toBeVisible({ timeout: 180_000 });
  await suite.getByRole('button', { name: 'Cancel' }).click();
  await expect(suite.getByTestId('suite-summary')).toBeVisible({ timeout: 180_000 });
  await expect(suite.getByTestId('verdict-document_shift')).toHaveText('PASS');
  const cancelled = suite.getByRole('row').filter({ hasText: 'cancelled by user' });
  expect(await cancelled.count()).toBeGreaterThan(0);
  await expect(suite.getByTestId('verdict-recital_7')).toHaveText('SKIP');

  // After a reload the suite's run is still stored, with the cancelled run's events.
  await page.reload();
  const traces = page.getByTestId('traces-panel');
  const run = traces.getByTestId('run-row').filter({ hasText: 'suite on' }).first();
  await expect(run).toBeVisible({ timeout: 60_000 });
  expect(Number(await run.getAttribute('data-events'))).toBeGreaterThan(0);
  await run.click();
  await expect(traces.getByTestId('run-detail')).toContainText('document_shift');
});
