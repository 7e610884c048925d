import { expect, test } from '@playwright/test';

// The page runs under a strict Content-Security-Policy (vite.config.ts: `contentSecurityPolicy`): as a
// header from `vite preview` / `npm start` and as a <meta> tag in the built index.html. A session that
// loads the demo pair, compares, draws a heatmap, generates and runs the demo suite must not trip it
// (no violation event in the page, no CSP message in the console, which also carries the worker's),
// and prompt and token text holding markup must be shown as text, never parsed.
test('the page is served under a strict CSP, a full session trips none of it, markup is shown as text', async ({
  page,
}, testInfo) => {
  const cspMessages: string[] = [];
  page.on('console', (m) => {
    if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspMessages.push(m.text());
  });
  await page.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`),
    );
  });
  const response = await page.goto('/');
  const header = response!.headers()['content-security-policy'] ?? '';
  expect(header).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(header).toContain("object-src 'none'");
  expect(header).not.toContain("'unsafe-inline'");
  expect(header).not.toMatch(/script-src[^;]*'unsafe-eval'/);
  const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(meta).toContain("script-src 'self' 'wasm-unsafe-eval'");

  await expect(page.getByTestId('device-badge')).toHaveText(
    testInfo.project.name === 'webgpu' ? /WebGPU/ : /WASM/,
    { timeout: 90_000 },
  );
  // Markup in a prompt: the tokens it becomes are drawn as text.
  const markup = '<img src=x onerror="window.pwned=1"><b>bold</b> and the';
  await page.getByRole('textbox', { name: 'Prompt' }).fill(markup);
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('dist-base').locator('li')).toHaveCount(10);
  await page.getByRole('button', { name: 'Heatmap' }).click();
  const heatmap = page.getByTestId('heatmap');
  await expect(heatmap.locator('.hm-tok').first()).toBeVisible();
  await expect(heatmap).toContainText('<');
  expect(await page.locator('main img, main b').count()).toBe(0);
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('generated')).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();

  // A suite through the worker, its report rendered in the page.
  const suite = page.getByRole('region', { name: 'Suite' });
  await suite.getByLabel('Example spec').selectOption('minimal.yaml');
  await expect(suite.getByTestId('spec-valid')).toBeVisible();
  await suite.getByRole('button', { name: 'Run suite' }).click();
  await expect(suite.getByTestId('suite-summary')).toBeVisible({ timeout: 120_000 });

  const violations = await page.evaluate(
    () => (window as unknown as { cspViolations: string[] }).cspViolations,
  );
  expect(violations).toEqual([]);
  expect(cspMessages).toEqual([]);
});
