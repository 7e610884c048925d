import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';

test.setTimeout(300_000);

const SECTIONS = ['verdict', 'categories', 'probes', 'ablation', 'pins', 'trace', 'provenance'] as const;

const at = (json: unknown, key: string): unknown =>
  key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | null)?.[k], json);

test('the demo suite’s HTML report, with pinned snapshots, opens offline: no request, no console error, every section, the JSON report’s numbers', async ({
  page,
  browser,
}, testInfo) => {
  await page.goto('/');
  await expect(page.getByTestId('device-badge')).toHaveText(/WebGPU|WASM/, { timeout: 90_000 });
  const probe = page.getByRole('region', { name: 'Probe' });
  const suite = page.getByRole('region', { name: 'Suite' });

  // Pin a Compare, a continuation score and a heatmap.
  await probe.getByRole('button', { name: 'Compare', exact: true }).click();
  await expect(probe.getByTestId('compare-result')).toBeVisible({ timeout: 60_000 });
  const jsTitle = await probe.getByTestId('js-value').getAttribute('title');
  await probe.getByRole('button', { name: 'Add to report: comparison' }).click();
  await expect(probe.getByRole('button', { name: 'In report: comparison' })).toBeDisabled();
  await probe.getByRole('button', { name: 'Score continuation' }).click();
  await expect(probe.getByTestId('continuation-result')).toBeVisible({ timeout: 60_000 });
  await probe.getByRole('button', { name: 'Add to report: continuation score' }).click();
  await probe.getByRole('button', { name: 'Heatmap', exact: true }).click();
  await expect(probe.getByTestId('heatmap')).toBeVisible({ timeout: 60_000 });
  await probe.getByRole('button', { name: 'Add to report: heat map' }).click();
  await expect(suite.getByTestId('report-pins')).toContainText('Pinned for the HTML report (3)');

  await suite.getByLabel('Example spec').selectOption('demo-suite.yaml');
  await expect(suite.getByTestId('spec-valid')).toBeVisible();
  await suite.getByRole('button', { name: 'Run suite' }).click();
  await expect(suite.getByTestId('suite-summary')).toBeVisible({ timeout: 220_000 });

  const save = async (button: string) => {
    const downloading = page.waitForEvent('download');
    await suite.getByRole('button', { name: button }).click();
    const d = await downloading;
    return { name: d.suggestedFilename(), text: await readFile((await d.path())!, 'utf8') };
  };
  const json = JSON.parse((await save('Download JSON report')).text) as Record<string, unknown>;
  const file = await save('Download HTML report');
  expect(file.name).toBe('deltascope-suite-report.html');
  expect(Buffer.byteLength(file.text, 'utf8')).toBeLessThan(200_000);

  // Open it in a fresh context, offline: the report is the only thing served; anything else it asks
  // for is counted and refused.
  const context = await browser.newContext({ offline: false });
  const reportUrl = 'http://report.invalid/deltascope-suite-report.html';
  const others: string[] = [];
  await context.route('**', async (route) => {
    if (route.request().url() === reportUrl)
      await route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: file.text });
    else {
      others.push(route.request().url());
      await route.abort();
    }
  });
  const report = await context.newPage();
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  report.on('request', (r) => requests.push(r.url()));
  report.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(m.text());
  });
  report.on('pageerror', (e) => consoleErrors.push(String(e)));
  await report.goto(reportUrl);
  await report.waitForLoadState('load');

  for (const id of SECTIONS) {
    await expect(report.locator(`section#${id} > h2`), id).toBeVisible();
  }
  // Every number the report keys to the JSON report equals it.
  const keyed = await report
    .locator('[data-key]')
    .evaluateAll((els) =>
      els.map((e) => ({ key: e.getAttribute('data-key')!, value: e.getAttribute('data-value') })),
    );
  let numbers = 0;
  for (const { key, value } of keyed) {
    const expected = at(json, key);
    if (typeof expected === 'number') {
      numbers++;
      expect(value, key).toBe(JSON.stringify(expected));
    } else expect(value, key).toBeNull();
  }
  expect(numbers).toBeGreaterThan(60);
  const overall = (json.score as { overall: number }).overall;
  await expect(report.locator('[data-key="score.overall"]')).toHaveText(overall.toFixed(2));
  const probes = json.probes as { name: string; verdict: string }[];
  for (const [i, p] of probes.entries()) {
    await expect(report.locator(`#probe-${i} td`).first()).toHaveText(p.name);
    await expect(report.locator(`[data-key="probes.${i}.verdict"]`)).toHaveText(p.verdict.toUpperCase());
  }

  // The pins: the Compare's JS is the panel's exact value.
  await expect(report.locator('#pins [data-pin]')).toHaveCount(3);
  const js = await report.locator('[data-pin="compare"] table.kv td.n').first().getAttribute('data-value');
  expect(`${js} nats`).toBe(jsTitle);
  await expect(report.locator('[data-pin="heatmap"] .tok[data-delta]').first()).toBeVisible();

  // The inline script (allowed by the CSP's hash) sorts the probe table by a column's exact values.
  await report.locator('#probes table.probes th button', { hasText: 'score' }).click();
  const scores = await report
    .locator('#probes table.probes tbody tr')
    .evaluateAll((rows) =>
      rows.map((r) => r.querySelector('[data-key$=".score"]')?.getAttribute('data-value')),
    );
  const known = scores.filter((s): s is string => s !== null && s !== undefined).map(Number);
  expect(known).toEqual([...known].sort((a, b) => a - b));

  // Dark mode and print have their own styles.
  const bg = () => report.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await report.emulateMedia({ colorScheme: 'light' });
  const light = await bg();
  await report.emulateMedia({ colorScheme: 'dark' });
  expect(await bg()).not.toBe(light);
  await report.screenshot({ path: testInfo.outputPath('report-dark.png'), fullPage: true });
  await report.emulateMedia({ media: 'print', colorScheme: 'light' });
  await expect(report.locator('nav')).toBeHidden();

  expect(others).toEqual([]);
  expect(requests).toEqual([reportUrl]);
  expect(consoleErrors).toEqual([]);
  await context.close();
});
