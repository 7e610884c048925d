import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';

// Base + PEFT adapter in the workbench (runtime LoRA): the demo base with its shipped adapter opened
// from the Model panel, the view picker and λ slider in Probe, and demo-adapter.yaml in Suite.

test.setTimeout(300_000);

const PROMPT = 'The festival begins when the keeper of the';

/** Opens the demo base + adapter from the Model panel and waits until its views are listed. */
async function openDemoAdapter(page: Page, device: RegExp): Promise<void> {
  await expect(page.getByTestId('device-badge')).toHaveText(device, { timeout: 90_000 });
  await page.getByText('Open another pair').click();
  await page.getByRole('button', { name: 'Load demo base + adapter' }).click();
  await expect(page.getByTestId('pair-views')).toContainText('scaled_<λ> · null_<seed>', {
    timeout: 90_000,
  });
}

/** The first five token ids of a drawn distribution. */
async function top5(page: Page, testId: 'dist-base' | 'dist-ft'): Promise<string[]> {
  const ids = await page
    .getByTestId(testId)
    .locator('li')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-token-id')));
  return ids.slice(0, 5).map(String);
}

/** The compare shown once it is the one for `view` (a result for an older λ does not count). */
async function shown(page: Page, view: string) {
  await expect(page.getByTestId('compare-view')).toHaveText(`base vs ${view}`);
  return {
    js: (await page.getByTestId('js-value').textContent()) ?? '',
    kl: (await page.getByTestId('kl-value').textContent()) ?? '',
    klRev: (await page.getByTestId('kl-rev-value').textContent()) ?? '',
    /** Unrounded (the value's title): a null adapter's JS is often below the fourth decimal. */
    jsExact: Number.parseFloat((await page.getByTestId('js-value').getAttribute('title')) ?? ''),
    base: await top5(page, 'dist-base'),
    view: await top5(page, 'dist-ft'),
  };
}

test('base + adapter: view picker, λ slider, null view, and the suite with nulls and the ablation curve', async ({
  page,
}, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await openDemoAdapter(page, testInfo.project.name === 'webgpu' ? /WebGPU/ : /WASM/);

  const probe = page.getByRole('region', { name: 'Probe' });
  await probe.getByRole('textbox', { name: 'Prompt' }).fill(PROMPT);
  await probe.getByRole('button', { name: 'Compare' }).click();
  const ft = await shown(page, 'ft');
  expect(Number.parseFloat(ft.js)).toBeGreaterThan(0.001);

  const slider = probe.getByRole('slider', { name: 'λ (adapter scale)' });
  await expect(slider).toHaveAttribute('min', '-1');
  await expect(slider).toHaveAttribute('max', '2');
  // λ = 0 is base: nothing differs.
  await slider.fill('0');
  await expect(probe.getByTestId('lambda-value')).toHaveText('0.00');
  const zero = await shown(page, 'scaled_0.00');
  expect(zero.js).toBe('0.0000 nats');
  expect(zero.kl).toBe('0.0000 nats');
  expect(zero.view).toEqual(zero.base);
  // λ = 1 is the adapter as trained: ft's numbers.
  await slider.fill('1');
  const one = await shown(page, 'scaled_1.00');
  expect([one.js, one.kl, one.klRev, one.view]).toEqual([ft.js, ft.kl, ft.klRev, ft.view]);
  // The keyboard moves it a step at a time, and each step re-scores.
  await slider.focus();
  await page.keyboard.press('ArrowLeft');
  await expect(probe.getByTestId('lambda-value')).toHaveText('0.95');
  const below = await shown(page, 'scaled_0.95');
  expect(Number.parseFloat(below.js)).toBeLessThan(Number.parseFloat(ft.js));
  await page.screenshot({ path: testInfo.outputPath('probe-adapter-page.png') });
  await probe.screenshot({ path: testInfo.outputPath('probe-adapter.png') });

  // A null adapter: a random change of the adapter's shape, far smaller than the trained adapter's.
  await probe.getByRole('radio', { name: 'null adapter' }).check();
  const nul = await shown(page, 'null_1000');
  expect(nul.jsExact).toBeGreaterThan(0);
  expect(nul.jsExact).toBeLessThan(ft.jsExact / 10);
  await probe.getByRole('spinbutton', { name: 'seed' }).fill('1001');
  const other = await shown(page, 'null_1001');
  expect(other.jsExact).toBeGreaterThan(0);
  expect(other.jsExact).not.toBe(nul.jsExact);

  // The adapter suite: null calibration, a z-score against it, and the λ sweep.
  const suite = page.getByRole('region', { name: 'Suite' });
  const spec = await readFile('examples/demo-adapter.yaml', 'utf8');
  await suite.getByRole('textbox', { name: 'Spec (YAML)' }).fill(spec);
  await expect(suite.getByTestId('spec-valid')).toContainText('3 probes');
  await suite.getByRole('button', { name: 'Run suite' }).click();
  await expect(suite.getByTestId('suite-summary')).toBeVisible({ timeout: 240_000 });
  await expect(suite.getByTestId('verdict-nulls')).toHaveText('PASS');
  const dist = suite.getByTestId('null-dist-topic_shift');
  await expect(dist).toBeVisible();
  await expect(dist).toHaveAttribute('data-samples', '3');
  await expect(dist).toHaveAttribute(
    'aria-label',
    /^raw [-\d.e]+ vs null [-\d.e]+ ± [-\d.e]+ \(n=3\), z = [-\d.e]+$/,
  );
  await expect(dist.locator('circle.null-sample')).toHaveCount(3);
  const curve = suite.getByTestId('ablation-curve');
  await expect(curve).toBeVisible();
  await expect(curve.getByTestId('ablation-point')).toHaveCount(6);
  await expect(curve.getByTestId('ablation-ft-marker')).toHaveCount(1);
  await expect(suite.getByTestId('verdict-lambda_sweep')).toHaveText(/PASS|FAIL/);
  await suite.screenshot({ path: testInfo.outputPath('suite-adapter.png') });
  expect(errors).toEqual([]);
});

test('every view (base, ft, scaled_0.50, null_1000) gives the same top-5 tokens on WebGPU and WASM', async ({
  page,
}, testInfo) => {
  test.skip(testInfo.project.name !== 'webgpu', 'needs a browser with WebGPU to run both devices');
  const views = async () => {
    const probe = page.getByRole('region', { name: 'Probe' });
    await probe.getByRole('textbox', { name: 'Prompt' }).fill(PROMPT);
    await probe.getByRole('radio', { name: 'ft' }).check();
    await probe.getByRole('button', { name: 'Compare' }).click();
    const ft = await shown(page, 'ft');
    await probe.getByRole('radio', { name: 'scaled' }).check();
    const half = await shown(page, 'scaled_0.50');
    await probe.getByRole('radio', { name: 'null adapter' }).check();
    const nul = await shown(page, 'null_1000');
    return { base: ft.base, ft: ft.view, scaled_0_50: half.view, null_1000: nul.view, js: ft.js };
  };
  await page.goto('/?device=webgpu');
  await openDemoAdapter(page, /WebGPU/);
  const gpu = await views();
  // The remembered pair is now the demo base + adapter: the next visit reopens it (here on WASM).
  await page.goto('/?device=wasm');
  await expect(page.getByTestId('device-badge')).toHaveText(/WASM/, { timeout: 90_000 });
  await expect(page.getByTestId('pair-views')).toContainText('null_<seed>', { timeout: 90_000 });
  const wasm = await views();
  expect(gpu.base).toHaveLength(5);
  expect({ ...gpu, js: undefined }).toEqual({ ...wasm, js: undefined });
  expect(Math.abs(Number.parseFloat(gpu.js) - Number.parseFloat(wasm.js))).toBeLessThan(1e-3);
});

test('picked base and adapter folders open as base + adapter; a missing adapter file is named', async ({
  page,
}, testInfo) => {
  test.skip(testInfo.project.name !== 'wasm', 'file picking does not depend on the device; once is enough');
  const DEMO = 'public/models/deltascope-demo';
  await page.goto('/?device=wasm');
  await expect(page.getByTestId('device-badge')).toHaveText(/WASM/, { timeout: 90_000 });
  await page.getByText('Open another pair').click();
  const scratch = mkdtempSync(join(tmpdir(), 'deltascope-adapter-pick-'));
  try {
    const broken = join(scratch, 'adapter-broken');
    cpSync(`${DEMO}/adapter`, broken, { recursive: true });
    rmSync(join(broken, 'adapter_model.safetensors'));
    await page.getByLabel('Base model folder').setInputFiles(`${DEMO}/base`);
    await page.getByLabel('Adapter folder').setInputFiles(broken);
    await page.getByRole('button', { name: 'Open local base + adapter' }).click();
    await expect(page.getByRole('alert')).toContainText('adapter_model.safetensors', { timeout: 60_000 });

    await page.getByLabel('Adapter folder').setInputFiles(`${DEMO}/adapter`);
    await page.getByRole('button', { name: 'Open local base + adapter' }).click();
    await expect(page.getByTestId('pair-views')).toContainText('scaled_<λ>', { timeout: 60_000 });
    await expect(page.getByRole('alert')).toHaveCount(0);
    const probe = page.getByRole('region', { name: 'Probe' });
    await probe.getByRole('slider', { name: 'λ (adapter scale)' }).fill('0');
    const zero = await shown(page, 'scaled_0.00');
    expect(zero.js).toBe('0.0000 nats');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
