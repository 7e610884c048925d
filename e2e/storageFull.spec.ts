import { expect, test } from '@playwright/test';

// Storage is full from the start (the origin's quota set to one byte through CDP before the page
// first touches storage; Chromium reads the quota when the origin's storage is first used): every
// trace write fails with QuotaExceededError, the page says so with the events held in memory, and
// once there is room again the button writes every held event — none lost, the run complete.
test('a full disk holds trace events in memory, says so, and saves them all once there is room', async ({
  page,
  context,
}, testInfo) => {
  test.skip(testInfo.project.name === 'webgpu', 'storage does not depend on the device: WASM covers it');
  const origin = new URL(testInfo.project.use.baseURL ?? 'http://localhost:4173').origin;
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1 });
  await page.goto('/');
  await expect(page.getByTestId('device-badge')).toHaveText(/WASM/, { timeout: 90_000 });
  await expect(page.getByTestId('storage-persisted')).toContainText(/Trace storage is (not )?persistent/);

  await page.getByRole('button', { name: 'Run 200-prompt batch' }).click();
  await expect(page.getByTestId('load-status')).toContainText('200 prompts × 2 views in', {
    timeout: 120_000,
  });
  const alert = page.getByTestId('storage-full');
  await expect(alert).toContainText('Browser storage is full', { timeout: 20_000 });
  const heldText = async () => (await alert.textContent()) ?? '';
  await expect
    .poll(async () =>
      Number(/([\d,]+) trace events are held/.exec(await heldText())?.[1]?.replace(/,/g, '') ?? 0),
    )
    .toBeGreaterThanOrEqual(400);
  await expect(alert).not.toContainText('dropped');

  // Room again (the browser's own quota back), then the button: every held event is written.
  await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  await alert.getByRole('button', { name: 'Delete the oldest runs and save' }).click();
  await expect(page.getByTestId('storage-freed')).toContainText('Held events saved');
  await expect(alert).toBeHidden();
  const lookups = Number((await page.getByTestId('counter-lookups').textContent())?.replace(/,/g, '') ?? '0');
  expect(lookups).toBeGreaterThanOrEqual(400);
  // The saved run survives a reload whole: its stored count covers every lookup of the batch.
  await page.reload();
  await expect(page.getByTestId('device-badge')).toHaveText(/WASM/, { timeout: 90_000 });
  const rows = page.getByTestId('traces-panel').getByTestId('run-row');
  await expect
    .poll(
      async () =>
        Math.max(
          0,
          ...(await rows.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-events'))))),
        ),
      {
        timeout: 15_000,
      },
    )
    .toBeGreaterThanOrEqual(lookups);
});
