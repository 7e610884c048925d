// A model whose weights live in external data (`onnx/model.onnx_data`, as Optimum exports models
// over 2 GB): onnxruntime-node opens both files by path, and the pair's provenance hashes both, equal
// to node:crypto's hash of each file on disk. The demo base is rewritten here with every initializer
// moved to the data file (TensorProto.data_location = EXTERNAL), and scores as the demo base does.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readOnnxModel, writeOnnxModel } from '../../src/adapter/onnxGraph.ts';
import { PbWriter } from '../../src/adapter/protobuf.ts';
import { openPair } from '../../src/backend/index.ts';

const DEMO = resolve(import.meta.dirname, '../../public/models/deltascope-demo');
// onnx.proto3 field numbers.
const GRAPH_INITIALIZER = 5;
const TENSOR = { dims: 1, dataType: 2, name: 8, externalData: 13, dataLocation: 14 } as const;

let scratch = '';
let folder = '';

/** The demo base's folder with its initializers moved to `onnx/model.onnx_data`. */
function writeExternalDataBase(dir: string): void {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  for (const f of ['generation_config.json', 'tokenizer.json', 'tokenizer_config.json'])
    copyFileSync(join(DEMO, 'base', f), join(dir, f));
  const config = JSON.parse(readFileSync(join(DEMO, 'base', 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  config['transformers.js_config'] = { use_external_data_format: true };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const model = readOnnxModel(new Uint8Array(readFileSync(join(DEMO, 'base', 'onnx', 'model.onnx'))));
  const pieces: Uint8Array[] = [];
  let offset = 0;
  const entry = (key: string, value: string) => new PbWriter().string(1, key).string(2, value);
  // Weights over 1 KiB move out (as Optimum does); small constants stay in the graph, where shape
  // inference reads them.
  const moves = model.initializers.map((t) => t.rawData.byteLength > 1024);
  expect(moves.filter(Boolean).length).toBeGreaterThan(3);
  const initializers = model.initializers
    .filter((_, i) => moves[i])
    .map((t) => {
      const w = new PbWriter();
      for (const d of t.dims) w.int(TENSOR.dims, d);
      w.int(TENSOR.dataType, t.dataType);
      w.string(TENSOR.name, t.name);
      w.message(TENSOR.externalData, entry('location', 'model.onnx_data'));
      w.message(TENSOR.externalData, entry('offset', String(offset)));
      w.message(TENSOR.externalData, entry('length', String(t.rawData.byteLength)));
      w.int(TENSOR.dataLocation, 1);
      pieces.push(t.rawData);
      offset += t.rawData.byteLength;
      return w;
    });
  let nth = 0;
  const graphless = {
    ...model,
    graphFields: model.graphFields.filter((f) => f.field !== GRAPH_INITIALIZER || !moves[nth++]),
  };
  writeFileSync(join(dir, 'onnx', 'model.onnx'), writeOnnxModel(graphless, { initializers }));
  writeFileSync(join(dir, 'onnx', 'model.onnx_data'), Buffer.concat(pieces));
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'deltascope-extdata-'));
  folder = join(scratch, 'base-ext');
  writeExternalDataBase(folder);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const hashOf = (path: string) => {
  const bytes = readFileSync(path);
  return { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
};

it('hashes the graph and its external data file, each as on disk', async () => {
  const pair = await openPair(
    { kind: 'pair', base: { kind: 'dir', path: folder }, ft: { kind: 'dir', path: join(DEMO, 'ft') } },
    { warmup: false },
  );
  const demo = await openPair({ kind: 'demo' }, { warmup: false });
  try {
    expect(pair.info.files).toEqual([
      { role: 'base', path: 'onnx/model.onnx', ...hashOf(join(folder, 'onnx/model.onnx')) },
      { role: 'base', path: 'onnx/model.onnx_data', ...hashOf(join(folder, 'onnx/model.onnx_data')) },
      { role: 'ft', path: 'onnx/model.onnx', ...hashOf(join(DEMO, 'ft/onnx/model.onnx')) },
    ]);
    // The graph is small without its weights; the data file holds them.
    expect(pair.info.files![0]!.bytes).toBeLessThan(pair.info.files![1]!.bytes);
    // The weights did load from the data file: the base scores as the demo's own.
    const prompt = 'The keeper of the old lighthouse';
    const [a, b] = await Promise.all([pair.base.nextTokenDist(prompt), demo.base.nextTokenDist(prompt)]);
    expect(Array.from(a.tokenIds)).toEqual(Array.from(b.tokenIds));
    Array.from(a.logprobs).forEach((v, i) => expect(v).toBeCloseTo(b.logprobs[i]!, 4));
  } finally {
    await pair.dispose();
    await demo.dispose();
  }
});

it('base + adapter on it: the base graph as read, its data file where the session reads it, the adapter files', async () => {
  const base = { kind: 'dir', path: folder } as const;
  const adapter = { kind: 'dir', path: join(DEMO, 'adapter') } as const;
  const pair = await openPair(
    { kind: 'pair', base, ft: { kind: 'adapter', base, adapter } },
    { warmup: false },
  );
  try {
    expect(pair.info.files).toEqual([
      { role: 'base', path: 'onnx/model.onnx', ...hashOf(join(folder, 'onnx/model.onnx')) },
      { role: 'base', path: 'onnx/model.onnx_data', ...hashOf(join(folder, 'onnx/model.onnx_data')) },
      { role: 'adapter', path: 'adapter_config.json', ...hashOf(join(DEMO, 'adapter/adapter_config.json')) },
      {
        role: 'adapter',
        path: 'adapter_model.safetensors',
        ...hashOf(join(DEMO, 'adapter/adapter_model.safetensors')),
      },
    ]);
  } finally {
    await pair.dispose();
  }
});
