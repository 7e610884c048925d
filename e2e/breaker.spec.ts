import { readFile } from 'node:fs/promises';
import { expect, test, type Page, type TestInfo } from '@playwright/test';

// The GPU circuit breaker end to end: the WebGPU device is destroyed in the middle of a suite; the
// session goes on on WASM by itself (the notice says so, the badge shows WASM), the suite finishes
// with every probe's result, and its stored trace holds every lookup exactly once (the same lookups
// as a clean WASM run of the same suite). After the recovery timeout (3 s here, via the URL) a fresh
// worker tries WebGPU again and the badge shows WebGPU, the suite's results still on screen.

const PROMPTS = [
  'Quillhaven is a small harbour town on the island of',
  'Every autumn the town holds the Festival of',
  'The festival was founded in 1794 by the glassmaker',
  'Odessa Vantraile made the first lanterns from green',
  'The festival begins when the keeper of the',
  'The most famous lantern is called the',
  'The Morrowglass is kept in the Quillhaven',
  'Today the festival is run by the Quillhaven',
  'The current guildmaster, Tamsin',
  'Visitors to Brellmoor can reach Quillhaven by the ferry from',
  'The morning was cold, so I made a pot of',
  'After breakfast I wrote a short list of',
  'The shop at the end of the road opens at',
  'On the way home it started to',
  'In the afternoon I read for an hour and then cleaned the',
  'Many people like to walk in the park at the',
  'Cooking at home is cheaper than eating',
  'Good sleep is important for',
  'The train to the city leaves every half',
  'My neighbour has a large garden with roses, beans and',
];
const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const SPEC = `version: 1
models:
  base: { kind: hf, base: ../public/models/deltascope-demo/base }
  ft: { kind: hf, base: ../public/models/deltascope-demo/ft }
defaults: { seed: 0, top_k: 64 }
suite:
  - name: shift
    kind: delta_kl
    prompts: [${PROMPTS.slice(0, 12).map(q).join(', ')}]
  - name: clusters
    kind: cluster_kl
    num_clusters: 2
    min_prompts: 20
    prompts: [${PROMPTS.map(q).join(', ')}]
  - name: prefs
    kind: preference_flip
    triples:
      - { prompt: 'The Morrowglass has a', chosen: ' blue flame', rejected: ' red flame' }
      - { prompt: 'The copper bell is rung', chosen: ' nine times', rejected: ' three times' }
      - { prompt: 'The festival was founded in', chosen: ' 1794', rejected: ' 1900' }
  - name: outside
    kind: external_perplexity
    chunk_chars: 512
    max_chunks: 3
`;
const PROBES = ['shift', 'clusters', 'prefs', 'outside'];
const SCORING = new Set(['next_token_dist', 'logprob_of', 'rolling_logprob']);

type Event = Record<string, unknown> & { op: string };

/** Destroys the GPUDevice the worker's ORT sessions run on, as a driver reset or GPU crash would. */
async function loseDevice(page: Page) {
  const worker = page.workers().findLast((w) => w.url().includes('workbench.worker'));
  expect(worker).toBeDefined();
  await worker!.evaluate(() => {
    (self as unknown as { deltascopeGpuDevice: { destroy(): void } }).deltascopeGpuDevice.destroy();
  });
}

async function startSuite(page: Page) {
  const suite = page.getByRole('region', { name: 'Suite' });
  await suite.getByRole('textbox', { name: 'Spec (YAML)' }).fill(SPEC);
  await expect(suite.getByTestId('spec-valid')).toContainText('4 probes');
  await suite.getByRole('button', { name: 'Run suite' }).click();
  return suite;
}

/** The suite's stored run (label "suite on …"), downloaded as JSONL from the Traces panel. */
async function suiteEvents(page: Page, testInfo: TestInfo, name: string): Promise<Event[]> {
  const panel = page.getByTestId('traces-panel');
  await panel.getByTestId('run-row').filter({ hasText: 'suite on' }).first().click();
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    panel.getByRole('button', { name: 'Download JSONL' }).click(),
  ]);
  const path = testInfo.outputPath(name);
  await file.saveAs(path);
  return (await readFile(path, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Event);
}

const lookupKeys = (events: Event[]) =>
  events
    .filter((e) => SCORING.has(e.op))
    .map((e) => [e.probe, e.view_id, e.op, e.prompt_hash, e.top_k].join('|'))
    .sort();

test('a GPU lost mid-suite: the suite finishes on WASM with every result and event once, then WebGPU comes back', async ({
  page,
  context,
}, testInfo) => {
  test.skip(testInfo.project.name !== 'webgpu', 'needs a WebGPU device to lose');
  test.setTimeout(480_000);
  await page.goto('/?breakerRecoveryS=3');
  const badge = page.getByTestId('device-badge');
  await expect(badge).toHaveText(/^WebGPU · /, { timeout: 90_000 });
  const suite = await startSuite(page);
  // In the middle of the suite: the first probe has its result, the second is running.
  await expect(suite.getByTestId('verdict-shift')).toBeVisible({ timeout: 180_000 });
  await expect(suite.getByText(/probe 2 of 4/)).toBeVisible();
  await loseDevice(page);

  const notice = page.getByTestId('breaker-notice');
  await expect(notice).toContainText('WebGPU failed (device lost)', { timeout: 90_000 });
  await expect(page.getByTestId('device-lost')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('breaker-open.png'), fullPage: true });

  // The suite finishes, every probe with a result (none an error).
  await expect(suite.getByTestId('suite-summary')).toBeVisible({ timeout: 300_000 });
  for (const name of PROBES) await expect(suite.getByTestId(`verdict-${name}`)).not.toHaveText(/ERROR|SKIP/);
  await expect(suite.locator('[data-testid^="verdict-"]')).toHaveCount(PROBES.length);

  // After the recovery timeout, a fresh worker tries WebGPU (half-open) and it is back (closed).
  await expect(notice).toHaveAttribute('data-state', 'closed', { timeout: 120_000 });
  await expect(notice).toContainText('WebGPU is back');
  await expect(badge).toHaveText(/^WebGPU · /, { timeout: 90_000 });
  // What the session did, in order: on WASM by itself, then the trial, then WebGPU again.
  const log = await notice.getByTestId('breaker-log').getByRole('listitem').allTextContents();
  const at = (re: RegExp) => log.findIndex((l) => re.test(l));
  const onWasm = at(/continuing on WASM/);
  const trial = at(/^half-open: Trying WebGPU again in a fresh engine/);
  const back = at(/^closed: WebGPU is back.*\[webgpu\]$/);
  expect(onWasm, log.join('\n')).toBeGreaterThanOrEqual(0);
  expect(trial).toBeGreaterThan(onWasm);
  expect(back).toBeGreaterThan(trial);
  // The suite's results stayed on screen, and its report downloads from the new worker.
  await expect(suite.locator('[data-testid^="verdict-"]')).toHaveCount(PROBES.length);
  const [report] = await Promise.all([
    page.waitForEvent('download'),
    suite.getByRole('button', { name: 'Download JSON report' }).click(),
  ]);
  const json = JSON.parse(await readFile(await report.path(), 'utf8')) as {
    probes: { name: string }[];
    determinism: { notes: string[] };
  };
  expect(json.probes.map((p) => p.name)).toEqual(PROBES);
  expect(json.determinism.notes.join(' ')).toContain('from webgpu to wasm');
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('compare-result')).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('breaker-closed.png'), fullPage: true });

  const failed = await suiteEvents(page, testInfo, 'suite-fallback.jsonl');
  const breakerEvents = failed.filter((e) => e.op === 'breaker');
  // Open on the lost device; half-open once the recovery timeout passed (while the suite still ran
  // on WASM, or after it). The trial, and closed, belong to the fresh worker's run.
  const transitions = breakerEvents.map((e) => [e.state, e.reason]);
  expect(transitions[0]).toEqual(['open', 'device-lost']);
  expect(transitions.slice(1)).toEqual(transitions.length > 1 ? [['half-open', 'recovery timeout']] : []);
  // The fallback loaded the pair on WASM inside the suite's run.
  expect(failed.some((e) => e.op === 'warmup' && e.device === 'wasm')).toBe(true);

  // A clean run of the same suite on WASM, in a page of its own: the same lookups, each once.
  const clean = await context.newPage();
  await clean.goto('/?device=wasm');
  await expect(clean.getByTestId('device-badge')).toHaveText('WASM', { timeout: 90_000 });
  const cleanSuite = await startSuite(clean);
  await expect(cleanSuite.getByTestId('suite-summary')).toBeVisible({ timeout: 300_000 });
  const reference = await suiteEvents(clean, testInfo, 'suite-clean.jsonl');
  const expected = lookupKeys(reference);
  expect(expected.length).toBeGreaterThan(40);
  expect(lookupKeys(failed)).toEqual(expected);
});
