import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { hubCommit, startHubServer, type HubServer } from '../test/helpers/hubServer.ts';

// The workbench's JSON report says what produced it, with the SHA-256 of each ONNX graph as the
// worker hashed it (deltascope's own SHA-256: a browser has no streaming digest): the demo pair
// (read over HTTP from the app's origin), then a hub pair from a mirror (hashed as it downloads),
// then the same hub pair after a reload, which transformers.js reads from Cache Storage (hashed
// there); and the demo base + adapter (the base graph and the adapter's files, hashed as the worker
// reads them to rewrite the base). Every hash equals node:crypto's of the file on disk.

const DEMO = 'public/models/deltascope-demo';
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const onDisk = (role: string, side: string, path = 'onnx/model.onnx') => {
  const bytes = readFileSync(`${DEMO}/${side}/${path}`);
  return { role, path, bytes: bytes.byteLength, sha256: sha256(bytes) };
};
const WANT = [onDisk('base', 'base'), onDisk('ft', 'ft')];

let hub: HubServer;
test.beforeAll(async () => {
  hub = await startHubServer({
    cors: true,
    repos: (id) => {
      const side = /\/demo-(base|ft)$/.exec(id)?.[1];
      return side === undefined ? undefined : { dir: `${DEMO}/${side}` };
    },
  });
});
test.afterAll(() => hub?.close());

interface Provenance {
  deltascope_version: string;
  spec_path: string;
  spec_sha256: string | null;
  seed: number;
  device: string | null;
  base: { id: string; revision: string | null; commit?: string };
  ft: { id: string; revision: string | null; commit?: string } | null;
  adapter: { id: string; revision: string | null; name: string } | null;
  files: { role: string; path: string; bytes: number; sha256: string }[];
}

/** Runs minimal.yaml on the open pair; the JSON report's provenance and the spec text that ran. */
async function runMinimal(page: Page): Promise<{ p: Provenance; spec: string }> {
  const suite = page.getByRole('region', { name: 'Suite' });
  await suite.getByLabel('Example spec').selectOption('minimal.yaml');
  await expect(suite.getByTestId('spec-valid')).toContainText('1 probe');
  const spec = await suite.getByRole('textbox', { name: 'Spec (YAML)' }).inputValue();
  await suite.getByRole('button', { name: 'Run suite' }).click();
  await expect(suite.getByTestId('suite-summary')).toBeVisible({ timeout: 120_000 });
  const downloading = page.waitForEvent('download');
  await suite.getByRole('button', { name: 'Download JSON report' }).click();
  const report = JSON.parse(await readFile(await (await downloading).path(), 'utf8')) as {
    provenance: Provenance;
  };
  return { p: report.provenance, spec };
}

async function openHub(page: Page): Promise<void> {
  await page.getByText('Open another pair').click();
  await page.getByLabel('Base model id').fill('acme/demo-base');
  await page.getByLabel('Fine-tuned model id').fill('acme/demo-ft');
  await page.getByLabel('Host (optional mirror)').fill(hub.host);
  await page.getByRole('button', { name: 'Open hub pair' }).click();
  await expect(page.getByTestId('model-info')).toContainText('hub model acme/demo-ft@main', {
    timeout: 60_000,
  });
}

test('the report names the models and the SHA-256 of every model file: demo, hub, hub from the cache, adapter', async ({
  page,
}) => {
  test.skip(test.info().project.name !== 'wasm', 'hashing does not depend on the device; once is enough');
  test.setTimeout(300_000);
  await page.goto('/?device=wasm');
  await expect(page.getByTestId('device-badge')).toHaveText(/WASM/, { timeout: 90_000 });

  const demo = await runMinimal(page);
  expect(demo.p.spec_path).toBe('workbench');
  expect(demo.p.spec_sha256).toBe(sha256(demo.spec));
  expect(demo.p.device).toBe('wasm');
  expect(demo.p.base).toEqual({ id: 'demo model base', revision: null });
  expect(demo.p.files).toEqual(WANT);

  await openHub(page);
  const fetched = await runMinimal(page);
  // The revision asked for, and the commit the hub's X-Repo-Commit header says it resolved to.
  expect(fetched.p.base).toEqual({
    id: 'acme/demo-base',
    revision: 'main',
    commit: hubCommit('acme/demo-base', 'main'),
  });
  expect(fetched.p.ft).toEqual({
    id: 'acme/demo-ft',
    revision: 'main',
    commit: hubCommit('acme/demo-ft', 'main'),
  });
  expect(fetched.p.files).toEqual(WANT);

  // After a reload the graphs come from Cache Storage: not downloaded again, still hashed.
  const gets = () => hub.count({ file: 'onnx/model.onnx', method: 'GET', range: undefined });
  const before = gets();
  await page.reload();
  await expect(page.getByTestId('device-badge')).toHaveText(/WASM/, { timeout: 90_000 });
  await openHub(page);
  expect(gets()).toBe(before);
  const cached = await runMinimal(page);
  expect(cached.p.files).toEqual(WANT);

  const loadLora = page.getByRole('button', { name: 'Load demo base + adapter' });
  if (!(await loadLora.isVisible())) await page.getByText('Open another pair').click();
  await loadLora.click();
  await expect(page.getByTestId('pair-views')).toContainText('scaled_<λ>', { timeout: 60_000 });
  const lora = await runMinimal(page);
  expect(lora.p.ft).toBeNull();
  expect(lora.p.adapter).toEqual({ id: 'demo adapter', revision: null, name: 'demo adapter' });
  expect(lora.p.files).toEqual([
    onDisk('base', 'base'),
    onDisk('adapter', 'adapter', 'adapter_config.json'),
    onDisk('adapter', 'adapter', 'adapter_model.safetensors'),
  ]);
});
