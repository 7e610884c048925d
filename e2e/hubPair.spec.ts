import { expect, test, type Page } from '@playwright/test';
import { startHubServer, type HubServer } from '../test/helpers/hubServer.ts';

// A stand-in hub on loopback (the shared test server: `/<org>/<name>/resolve/<revision>/<file>`, CORS
// and CORP headers so the cross-origin-isolated app may read it), opened as a mirror host from the
// Model panel: a pair loads; and the download faults a mirror or the hub really produce — 503s, a
// body cut off mid-way, 404, 401, an HTML page where JSON was expected — either load after retries or
// fail at once with a message naming the file and the repo@revision.

const DEMO = 'public/models/deltascope-demo';
let hub: HubServer;

test.beforeAll(async () => {
  hub = await startHubServer({
    cors: true,
    // `<case>/demo-base` and `<case>/demo-ft` serve the demo pair; the org names the fault.
    repos: (id) => {
      const side = /\/demo-(base|ft)$/.exec(id)?.[1];
      return side === undefined ? undefined : { dir: `${DEMO}/${side}` };
    },
    fault: (r) => {
      const org = r.repo.split('/')[0];
      if (org === 'flaky' && r.nth <= 2) return { status: 503 };
      if (org === 'cut' && r.file === 'onnx/model.onnx' && r.method === 'GET' && r.range === undefined)
        return r.nth === 1 ? { closeAfter: 50_000 } : undefined;
      if (org === 'gated') return { status: 401, body: 'Access to this repo is restricted' };
      if (org === 'html' && r.file === 'config.json') return { html: '<!doctype html><h1>Sign in</h1>' };
      return undefined;
    },
  });
});

test.afterAll(() => hub?.close());

async function openHub(page: Page, org: string, ft = `${org}/demo-ft`): Promise<void> {
  await page.getByLabel('Base model id').fill(`${org}/demo-base`);
  await page.getByLabel('Fine-tuned model id').fill(ft);
  await page.getByLabel('Host (optional mirror)').fill(hub.host);
  await page.getByRole('button', { name: 'Open hub pair' }).click();
}

async function ready(page: Page): Promise<void> {
  test.skip(
    test.info().project.name !== 'wasm',
    'the hub path does not depend on the device; once is enough',
  );
  await page.goto('/?device=wasm');
  await expect(page.getByTestId('device-badge')).toHaveText(/WASM/, { timeout: 90_000 });
  await page.getByText('Open another pair').click();
}

test('a hub pair opens from a mirror host in the hub URL layout', async ({ page }) => {
  await ready(page);
  await openHub(page, 'acme');
  await expect(page.getByTestId('model-info')).toContainText('hub model acme/demo-ft@main', {
    timeout: 60_000,
  });
  expect(hub.count({ repo: 'acme/demo-ft', file: 'onnx/model.onnx', method: 'GET' })).toBeGreaterThan(0);
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('dist-base').locator('li')).toHaveCount(10);

  // An id the mirror does not have: the error names the model and the file, asked once.
  await openHub(page, 'acme', 'acme/missing');
  await expect(page.getByRole('alert')).toContainText('acme/missing@main: config.json is missing');
  expect(hub.count({ repo: 'acme/missing', file: 'config.json', method: 'GET' })).toBeLessThanOrEqual(1);
  expect(hub.count({ repo: 'acme/missing', file: 'config.json', method: 'HEAD' })).toBeLessThanOrEqual(1);
});

test('503 twice on every file and a body cut off mid-way: both pairs load, after retries', async ({
  page,
}) => {
  await ready(page);
  await openHub(page, 'flaky');
  await expect(page.getByTestId('model-info')).toContainText('hub model flaky/demo-ft@main', {
    timeout: 90_000,
  });
  // Each file was asked until it came: two 503s, then the file (our validation and transformers.js
  // each read config.json, so it may be asked once more after that).
  expect(
    hub.count({ repo: 'flaky/demo-base', file: 'onnx/model.onnx', method: 'GET' }),
  ).toBeGreaterThanOrEqual(3);
  expect(hub.count({ repo: 'flaky/demo-base', file: 'config.json', method: 'GET' })).toBeGreaterThanOrEqual(
    3,
  );
  await openHub(page, 'cut');
  await expect(page.getByTestId('model-info')).toContainText('hub model cut/demo-ft@main', {
    timeout: 90_000,
  });
  // The cut-off body was resumed with a byte range from where it broke, not handed on short.
  expect(
    hub.requests.some(
      (r) => r.repo.startsWith('cut/') && r.file === 'onnx/model.onnx' && r.range !== undefined,
    ),
  ).toBe(true);
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('dist-base').locator('li')).toHaveCount(10);
});

test('401 and an HTML page fail at once, naming the file and the repo', async ({ page }) => {
  await ready(page);
  await openHub(page, 'gated');
  await expect(page.getByRole('alert')).toContainText('gated/demo-base@main', { timeout: 30_000 });
  await expect(page.getByRole('alert')).toContainText(/gated or private/);
  await expect(page.getByTestId('access-denied-hint')).toBeVisible();
  // Not retried: every (method, file) asked once.
  const gated = hub.requests.filter((r) => r.repo.startsWith('gated/'));
  expect(gated.length).toBeGreaterThan(0);
  expect(gated.every((r) => r.nth === 1)).toBe(true);

  await openHub(page, 'html');
  await expect(page.getByRole('alert')).toContainText('config.json', { timeout: 30_000 });
  await expect(page.getByRole('alert')).toContainText(/HTML/);
  await expect(page.getByRole('alert')).toContainText('html/demo-base@main');
});
