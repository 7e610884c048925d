// Model sources and their errors: a local server in the hub's URL layout, missing files, wrong
// architectures, unknown dtypes, and pairs whose tokenizers differ.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelLoadError, openPair, type ModelSource } from '../../src/backend/index.ts';
import { startHubServer, type HubServer } from '../helpers/hubServer.ts';
import { expectClose } from './divergenceHelpers.ts';

const DEMO = 'public/models/deltascope-demo';
const REPOS: Record<string, string> = {
  'deltascope/demo-base': `${DEMO}/base`,
  'deltascope/demo-ft': `${DEMO}/ft`,
};

let server: HubServer;
let host = '';
const scratch = mkdtempSync(join(tmpdir(), 'deltascope-load-'));

beforeAll(async () => {
  // Serves `/<org>/<name>/resolve/<revision>/<file>` from the demo folders, revision "main" only.
  server = await startHubServer({
    repos: Object.fromEntries(Object.entries(REPOS).map(([id, dir]) => [id, { dir }])),
    revisions: ['main'],
  });
  host = server.host;
});

afterAll(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const DEMO_SOURCE: ModelSource = { kind: 'demo' };
const dirPair = (base: string, ft: string): ModelSource => ({
  kind: 'pair',
  base: { kind: 'dir', path: base },
  ft: { kind: 'dir', path: ft },
});
const hubPair = (base: string, ft: string, revision?: string): ModelSource => ({
  kind: 'pair',
  base: { kind: 'hub', id: base, host, ...(revision !== undefined ? { revision } : {}) },
  ft: { kind: 'hub', id: ft, host, ...(revision !== undefined ? { revision } : {}) },
});

function copyDemo(name: string): { base: string; ft: string } {
  const root = join(scratch, name);
  cpSync(`${DEMO}/base`, join(root, 'base'), { recursive: true });
  cpSync(`${DEMO}/ft`, join(root, 'ft'), { recursive: true });
  return { base: join(root, 'base'), ft: join(root, 'ft') };
}

describe('hub loading (local server in the hub URL layout)', () => {
  it('opens a hub pair and scores exactly as the local folders do', async () => {
    const hub = await openPair(hubPair('deltascope/demo-base', 'deltascope/demo-ft'), {
      warmup: false,
      cacheDir: join(scratch, 'hub-cache'),
    });
    const local = await openPair(DEMO_SOURCE, { warmup: false });
    try {
      expect(hub.info.baseModel).toBe('hub model deltascope/demo-base@main');
      const p = 'The festival begins when';
      expectClose(
        (await hub.ft.nextTokenDist(p, { topK: 5 })).logprobs,
        (await local.ft.nextTokenDist(p, { topK: 5 })).logprobs,
        1e-6,
        0,
      );
      expect(
        server.count({ method: 'GET', repo: 'deltascope/demo-ft', file: 'onnx/model.onnx' }),
      ).toBeGreaterThan(0);
    } finally {
      await hub.dispose();
      await local.dispose();
    }
  });

  it('names the missing file for an unknown revision', async () => {
    const run = openPair(hubPair('deltascope/demo-base', 'deltascope/demo-ft', 'v9'), {
      warmup: false,
      cacheDir: join(scratch, 'hub-cache'),
    });
    await expect(run).rejects.toBeInstanceOf(ModelLoadError);
    await expect(run).rejects.toThrow(/deltascope\/demo-base@v9: config\.json is missing/);
    await expect(run).rejects.toThrow(
      /\(404 at http:\/\/127\.0\.0\.1:\d+\/deltascope\/demo-base\/resolve\/v9\/config\.json\)/,
    );
    await expect(run).rejects.toMatchObject({ code: 'model-load/missing-file', input: 'config.json' });
  });

  it('rejects a malformed hub id before any request', async () => {
    const before = server.requests.length;
    const run = openPair(hubPair('not a repo id!', 'x/y'));
    await expect(run).rejects.toThrow(/not a hub model id/);
    await expect(run).rejects.toMatchObject({ code: 'model-load/bad-source', input: 'not a repo id!' });
    expect(server.requests.length).toBe(before);
  });
});

describe('model folder errors', () => {
  it('names a missing tokenizer file', async () => {
    const dirs = copyDemo('no-tokenizer');
    rmSync(join(dirs.ft, 'tokenizer.json'));
    const run = openPair(dirPair(dirs.base, dirs.ft), { warmup: false });
    await expect(run).rejects.toThrow(/ft: missing tokenizer\.json/);
    await expect(run).rejects.toMatchObject({ code: 'model-load/missing-file', input: 'tokenizer.json' });
  });

  it('names the ONNX file the dtype needs', async () => {
    const run = openPair(DEMO_SOURCE, { warmup: false, dtype: 'q4' });
    await expect(run).rejects.toThrow(/onnx\/model_q4\.onnx/);
    await expect(run).rejects.toMatchObject({ code: 'model-load/missing-file', input: 'onnx/model_q4.onnx' });
  });

  it('rejects an unknown dtype with the supported list', async () => {
    const run = openPair(DEMO_SOURCE, { warmup: false, dtype: 'fp8' });
    await expect(run).rejects.toThrow(/Unknown dtype "fp8". Supported: fp32, fp16/);
    await expect(run).rejects.toMatchObject({ code: 'model-load/unsupported' });
  });

  it('rejects a non-causal architecture', async () => {
    const dirs = copyDemo('encoder');
    const cfgPath = join(dirs.base, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      cfgPath,
      JSON.stringify({ ...cfg, model_type: 'bert', architectures: ['BertForMaskedLM'] }),
    );
    const run = openPair(dirPair(dirs.base, dirs.ft), { warmup: false });
    await expect(run).rejects.toThrow(/"BertForMaskedLM" is not a causal language model/);
    await expect(run).rejects.toMatchObject({ code: 'model-load/invalid-file', input: 'config.json' });
  });

  it('refuses a pair whose tokenizers differ', async () => {
    const dirs = copyDemo('other-tokenizer');
    const tokPath = join(dirs.ft, 'tokenizer.json');
    const tok = JSON.parse(readFileSync(tokPath, 'utf8')) as { model: { vocab: Record<string, number> } };
    const [first] = Object.keys(tok.model.vocab);
    tok.model.vocab[`${first}x`] = tok.model.vocab[first!]!;
    delete tok.model.vocab[first!];
    writeFileSync(tokPath, JSON.stringify(tok));
    const run = openPair(dirPair(dirs.base, dirs.ft), { warmup: false });
    await expect(run).rejects.toThrow(/tokenizers differ/);
    await expect(run).rejects.toMatchObject({ code: 'model-load/mismatch', input: 'tokenizer.json' });
  });

  it('rejects a browser-only device in Node', async () => {
    // WebGPU runs in Node too (Dawn; test/backend/nodeWebgpu.test.ts); the WASM provider does not.
    await expect(openPair(DEMO_SOURCE, { device: 'wasm' })).rejects.toThrow(
      /Device "wasm" is for the browser; in Node choose "cpu", "webgpu" or "auto"/,
    );
  });
});

describe('sources openPair refuses', () => {
  it('a base + adapter ft whose adapter folder has no adapter_config.json, naming the file', async () => {
    const run = openPair({
      kind: 'pair',
      base: { kind: 'dir', path: `${DEMO}/base` },
      ft: {
        kind: 'adapter',
        base: { kind: 'dir', path: `${DEMO}/base` },
        adapter: { kind: 'dir', path: `${DEMO}/ft` },
      },
    });
    await expect(run).rejects.toMatchObject({
      code: 'model-load/missing-file',
      input: 'adapter_config.json',
    });
  });

  it('the fake needs no files and honours its options', async () => {
    const fake = await openPair({ kind: 'fake', ftShift: 0 }, { maxBatchSize: 3 });
    expect(fake.info).toMatchObject({ device: 'fake', maxBatchSize: 3 });
    const [b, f] = await Promise.all([fake.base.nextTokenDist('x'), fake.ft.nextTokenDist('x')]);
    expect(Array.from(f.logprobs)).toEqual(Array.from(b.logprobs));
  });
});
