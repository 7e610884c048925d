import { createServer, type Server } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';

const DEMO = 'public/models/deltascope-demo';
const REPOS: Record<string, string> = { 'acme/demo-base': `${DEMO}/base`, 'acme/demo-ft': `${DEMO}/ft` };

let server: Server;
let host = '';
const served: string[] = [];

test.beforeAll(async () => {
  // A stand-in hub on loopback: `/<org>/<name>/resolve/<revision>/<file>`, CORS and CORP headers so
  // the cross-origin-isolated app may read it.
  server = createServer((req, res) => {
    const headers = {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Headers': '*',
      'Access-Control-Expose-Headers': 'Content-Length, Content-Range',
      'Cross-Origin-Resource-Policy': 'cross-origin',
    };
    if (req.method === 'OPTIONS') return void res.writeHead(204, headers).end();
    const m = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(decodeURIComponent(req.url ?? ''));
    const dir = m ? REPOS[m[1]!] : undefined;
    if (!m || dir === undefined) return void res.writeHead(404, headers).end();
    try {
      const file = join(dir, m[2]!);
      const size = statSync(file).size;
      served.push(m[2]!);
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (range) {
        const end = Math.min(Number(range[2]), size - 1);
        res.writeHead(206, { ...headers, 'Content-Range': `bytes ${range[1]}-${end}/${size}` });
        return void res.end(readFileSync(file).subarray(Number(range[1]), end + 1));
      }
      res.writeHead(200, { ...headers, 'Content-Length': size });
      res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
    } catch {
      res.writeHead(404, headers).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  host = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
});

test.afterAll(() => server?.close());

test('a hub pair opens from a mirror host in the hub URL layout', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'wasm', 'the hub path does not depend on the device; once is enough');
  await page.goto('/?device=wasm');
  await expect(page.getByTestId('device-badge')).toHaveText(/WASM/, { timeout: 90_000 });
  await page.getByText('Open another pair').click();
  await page.getByLabel('Base model id').fill('acme/demo-base');
  await page.getByLabel('Fine-tuned model id').fill('acme/demo-ft');
  await page.getByLabel('Host (optional mirror)').fill(host);
  await page.getByRole('button', { name: 'Open hub pair' }).click();
  await expect(page.getByTestId('model-info')).toContainText('hub model acme/demo-ft@main', {
    timeout: 60_000,
  });
  expect(served).toContain('onnx/model.onnx');
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('dist-base').locator('li')).toHaveCount(10);

  // An id the mirror does not have: the error names the model and the file.
  await page.getByLabel('Fine-tuned model id').fill('acme/missing');
  await page.getByRole('button', { name: 'Open hub pair' }).click();
  await expect(page.getByRole('alert')).toContainText('acme/missing@main: config.json is missing');
});
