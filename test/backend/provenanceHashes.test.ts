// The hash recorder behind a report's provenance: a file read through `hashingModelFiles` is hashed
// as its body streams (any chunking, deltascope's own SHA-256 as in a browser), once per file, only
// for watched models and for the files a report names (ONNX graphs and their data, adapter files);
// a body cut off or cancelled records nothing. And the workbench's suite (SuiteService) carries the
// provenance of its pair, with the SHA-256 of the spec text it ran.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openPair } from '../../src/backend/index.ts';
import {
  FileHashRecorder,
  adapterName,
  fullPairModels,
  hashingModelFiles,
  isProvenanceFile,
  modelIdentity,
} from '../../src/backend/loadProvenance.ts';
import { notFound, type ModelFiles } from '../../src/backend/modelFiles.ts';
import { Sha256 } from '../../src/core/sha256.ts';
import { DELTASCOPE_VERSION } from '../../src/suite/runner.ts';
import { SuiteService } from '../../src/worker/suiteService.ts';

const nodeHash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A folder whose files stream in the given chunk sizes; `reads` counts GETs by path. */
function chunkedFiles(label: string, files: Record<string, Uint8Array>, cuts: number[] = [7]) {
  const reads: Record<string, number> = {};
  const source: ModelFiles = {
    label,
    async fetch(path, init) {
      const bytes = files[path];
      if (bytes === undefined) return notFound(path);
      if (init?.method === 'HEAD') return new Response(null, { status: 200 });
      reads[path] = (reads[path] ?? 0) + 1;
      let at = 0;
      let i = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (at >= bytes.length) return c.close();
          const n = Math.max(1, cuts[i++ % cuts.length]!);
          c.enqueue(bytes.subarray(at, at + n));
          at += n;
        },
      });
      return new Response(body, { status: 200 });
    },
  };
  return { source, reads };
}

const read = async (files: ModelFiles, path: string) =>
  new Uint8Array(await (await files.fetch(path)).arrayBuffer());

describe('FileHashRecorder', () => {
  it('names the files a report hashes', () => {
    for (const p of [
      'onnx/model.onnx',
      '/onnx/model_q4.onnx',
      'onnx/model.onnx_data',
      'onnx/model.onnx_data_3',
    ])
      expect(isProvenanceFile(p), p).toBe(true);
    for (const p of ['adapter_model.safetensors', 'adapter_config.json'])
      expect(isProvenanceFile(p), p).toBe(true);
    for (const p of ['config.json', 'tokenizer.json', 'onnx/model.onnx.bak', 'model.safetensors'])
      expect(isProvenanceFile(p), p).toBe(false);
  });

  it('hashes what streams through, in any chunking, with deltascope’s own SHA-256', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.integer({ min: 1, max: 90 }), { minLength: 1, maxLength: 6 }),
        async (bytes, cuts) => {
          const hashes = new FileHashRecorder(() => new Sha256());
          hashes.watch('m', 'adapter');
          const { source } = chunkedFiles('m', { 'adapter_model.safetensors': bytes }, cuts);
          const got = await read(hashingModelFiles(source, hashes), 'adapter_model.safetensors');
          expect(got).toEqual(bytes);
          expect(hashes.files()).toEqual([
            {
              role: 'adapter',
              path: 'adapter_model.safetensors',
              bytes: bytes.length,
              sha256: nodeHash(bytes),
            },
          ]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('records only watched models and named files, a file once, and nothing for HEAD', async () => {
    const onnx = new Uint8Array(1000).map((_, i) => i * 7);
    const hashes = new FileHashRecorder(() => new Sha256());
    hashes.watch('base', 'base');
    const base = chunkedFiles('base', { 'onnx/model.onnx': onnx, 'config.json': new Uint8Array([123, 125]) });
    const other = chunkedFiles('other', { 'onnx/model.onnx': new Uint8Array([1, 2, 3]) });
    const files = hashingModelFiles(base.source, hashes);
    await files.fetch('onnx/model.onnx', { method: 'HEAD' });
    expect(hashes.files()).toEqual([]);
    await read(files, 'config.json');
    await read(hashingModelFiles(other.source, hashes), 'onnx/model.onnx');
    expect(hashes.files()).toEqual([]);
    await read(files, 'onnx/model.onnx');
    await read(files, 'onnx/model.onnx');
    expect(base.reads['onnx/model.onnx']).toBe(2);
    expect(hashes.files()).toEqual([
      { role: 'base', path: 'onnx/model.onnx', bytes: 1000, sha256: nodeHash(onnx) },
    ]);
  });

  it('a cancelled body records nothing; a later whole read does', async () => {
    const onnx = new Uint8Array(500).fill(9);
    const hashes = new FileHashRecorder(() => new Sha256());
    hashes.watch('base', 'base');
    const files = hashingModelFiles(chunkedFiles('base', { 'onnx/model.onnx': onnx }, [50]).source, hashes);
    const reader = (await files.fetch('onnx/model.onnx')).body!.getReader();
    await reader.read();
    await reader.cancel();
    expect(hashes.has('base', 'onnx/model.onnx')).toBe(false);
    await read(files, 'onnx/model.onnx');
    expect(hashes.files().map((f) => f.sha256)).toEqual([nodeHash(onnx)]);
  });

  it('one model in two roles (the same folder as base and ft) is recorded for both', async () => {
    const onnx = new Uint8Array([5, 6, 7]);
    const hashes = new FileHashRecorder(() => new Sha256());
    hashes.watch('same', 'base');
    hashes.watch('same', 'ft');
    await read(
      hashingModelFiles(chunkedFiles('same', { 'onnx/model.onnx': onnx }).source, hashes),
      'onnx/model.onnx',
    );
    expect(hashes.files().map((f) => f.role)).toEqual(['base', 'ft']);
  });

  it('names models: hub ids with their revision, folders by label, adapters by last segment', () => {
    const files = (label: string): ModelFiles => ({ label, fetch: async (p) => notFound(p) });
    expect(modelIdentity(files('hub model org/lora@v2'))).toEqual({ id: 'org/lora', revision: 'v2' });
    expect(modelIdentity(files('folder ./x'))).toEqual({ id: 'folder ./x', revision: null });
    expect(adapterName('org/my-lora')).toBe('my-lora');
    expect(adapterName('folder ./runs/step-500/')).toBe('step-500');
    expect(adapterName('demo adapter')).toBe('demo adapter');
  });

  it('records the commit a hub revision resolved to: only from that revision’s files, the first one kept', () => {
    const base = { label: 'hub model org/base@v2', fetch: async (p: string) => notFound(p) };
    const ft = { label: 'hub model org/ft@main', fetch: async (p: string) => notFound(p) };
    const folder = { label: 'folder /models/x', fetch: async (p: string) => notFound(p) };
    const h = new FileHashRecorder();
    const c = (d: string) => d.repeat(40);
    // transformers.js probes tokenizer_config.json at main whatever revision was asked: not v2's commit.
    h.noteCommit(base.label, c('a'), 'https://huggingface.co/org/base/resolve/main/tokenizer_config.json');
    h.noteCommit(base.label, c('b'), 'https://huggingface.co/org/base/resolve/v2/config.json');
    h.noteCommit(base.label, c('c'), 'https://huggingface.co/org/base/resolve/v2/onnx/model.onnx');
    h.noteCommit(ft.label, 'not-a-commit', 'https://huggingface.co/org/ft/resolve/main/config.json');
    h.noteCommit(folder.label, c('d'), 'http://127.0.0.1:8080/x/config.json');
    const models = fullPairModels({ files: base }, { files: ft }, h);
    expect(models.base).toEqual({ id: 'org/base', revision: 'v2', commit: c('b') });
    expect(models.ft).toEqual({ id: 'org/ft', revision: 'main' });
    expect(fullPairModels({ files: folder }, { files: ft }, h).base).toEqual({
      id: 'folder /models/x',
      revision: null,
      commit: c('d'),
    });
  });
});

describe('the workbench suite’s provenance', () => {
  it('carries the pair’s info, the spec text’s SHA-256, the seed and the version', async () => {
    const yaml = [
      'version: 1',
      'models:',
      '  base: { kind: hf, base: a }',
      '  ft: { kind: hf, base: b }',
      'defaults: { seed: 11 }',
      'suite:',
      '  - { name: shift, kind: delta_kl, prompts: ["hello there"] }',
      '',
    ].join('\n');
    const backend = await openPair({ kind: 'fake' });
    try {
      const service = new SuiteService(() => 'http://localhost/', undefined);
      const result = await service.run(yaml, backend, () => {});
      expect(result.provenance).toMatchObject({
        deltascope_version: DELTASCOPE_VERSION,
        spec_path: 'workbench',
        spec_sha256: nodeHash(new TextEncoder().encode(yaml)),
        seed: 11,
        device: backend.info.device,
        dtype: backend.info.dtype,
        base: { id: backend.info.baseModel, revision: null },
        files: [],
      });
      expect(JSON.parse(service.report('json')).provenance.spec_sha256).toBe(result.provenance!.spec_sha256);
    } finally {
      await backend.dispose();
    }
  });
});
