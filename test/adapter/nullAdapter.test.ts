import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  loraBranchWeights,
  nullAdapterModules,
  projectionDims,
  readOnnxModel,
  rewriteBaseWithAdapter,
  type LoraModule,
} from '../../src/adapter/index.ts';
import { DeltascopeError } from '../../src/core/errors.ts';
import { zooFeeds } from './ortFeeds.ts';

const DEMO = join(import.meta.dirname, '..', '..', 'public', 'models', 'deltascope-demo');
const read = (...p: string[]): Uint8Array => new Uint8Array(readFileSync(join(DEMO, ...p)));
const json = (...p: string[]): unknown => JSON.parse(readFileSync(join(DEMO, ...p), 'utf8'));

const toy = (key: string, rank: number, inF: number, outF: number): LoraModule => ({
  key,
  rank,
  alpha: 2 * rank,
  scale: 2,
  inFeatures: inF,
  outFeatures: outF,
  a: new Float32Array(rank * inF).fill(1),
  b: new Float32Array(outF * rank).fill(1),
});
const MODULES = [toy('model.layers.0.self_attn.q_proj', 8, 64, 64), toy('lm_head', 16, 64, 1000)];

function stats(values: Float32Array[]): { mean: number; std: number; n: number } {
  let n = 0;
  let sum = 0;
  let sq = 0;
  for (const v of values)
    for (const x of v) {
      n++;
      sum += x;
      sq += x * x;
    }
  const mean = sum / n;
  return { mean, std: Math.sqrt(sq / n - mean * mean), n };
}

describe('nullAdapterModules', () => {
  it('keeps the structure (keys, ranks, shapes, scales) and draws new A and B', () => {
    const nulls = nullAdapterModules(MODULES, 1000);
    expect(nulls.map(({ a: _a, b: _b, ...rest }) => rest)).toEqual(
      MODULES.map(({ a: _a, b: _b, ...rest }) => rest),
    );
    nulls.forEach((m, i) => {
      expect(m.a).toHaveLength(MODULES[i]!.a.length);
      expect(m.b).toHaveLength(MODULES[i]!.b.length);
      expect(m.a).not.toEqual(MODULES[i]!.a);
    });
  });

  it('is deterministic per seed and differs across seeds (pinned values: null-stat caches key on the seed)', () => {
    const x = nullAdapterModules(MODULES, 1000);
    const y = nullAdapterModules(MODULES, 1000);
    const z = nullAdapterModules(MODULES, 1001);
    expect(x.map((m) => [m.a, m.b])).toEqual(y.map((m) => [m.a, m.b]));
    expect(x[0]!.a).not.toEqual(z[0]!.a);
    expect(x[1]!.b).not.toEqual(z[1]!.b);
    // A module's draws do not depend on the modules after it.
    expect(nullAdapterModules(MODULES.slice(0, 1), 1000)[0]!.a).toEqual(x[0]!.a);
    expect([...x[0]!.a.slice(0, 3)].map((v) => Number(v.toFixed(6)))).toEqual(PINNED);
  });

  it('has std init_scale · √rank_scale and mean 0', () => {
    for (const [initScale, rankScale] of [
      [0.02, 1],
      [0.02, 4],
      [0.5, 0.25],
    ] as const) {
      const s = stats(nullAdapterModules(MODULES, 7, { initScale, rankScale }).flatMap((m) => [m.a, m.b]));
      const std = initScale * Math.sqrt(rankScale);
      expect(s.n).toBe(8 * 64 * 2 + 16 * 64 + 1000 * 16);
      expect(Math.abs(s.std / std - 1)).toBeLessThan(0.03);
      expect(Math.abs(s.mean)).toBeLessThan((4 * std) / Math.sqrt(s.n));
    }
  });

  it('refuses a non-positive or non-finite scale and a non-integer seed', () => {
    for (const opts of [{ initScale: 0 }, { rankScale: -1 }, { rankScale: Infinity }, { initScale: NaN }])
      expect(() => nullAdapterModules(MODULES, 1, opts)).toThrow(DeltascopeError);
    expect(() => nullAdapterModules(MODULES, 1.5)).toThrow(/not an integer/);
  });

  it('serves ft and null views from one session when A and B are graph inputs (demo)', async () => {
    const lora = rewriteBaseWithAdapter(
      read('base', 'onnx', 'model.onnx'),
      {
        config: json('adapter', 'adapter_config.json'),
        safetensors: read('adapter', 'adapter_model.safetensors'),
      },
      projectionDims(json('base', 'config.json')),
      { weights: 'inputs' },
    );
    const rows = [[1, 40, 41, 300, 7]];
    const feeds = zooFeeds(readOnnxModel(lora.bytes), rows);
    const session = await ort.InferenceSession.create(lora.bytes);
    const ft = await ort.InferenceSession.create(join(DEMO, 'ft', 'onnx', 'model.onnx'));
    const base = await ort.InferenceSession.create(join(DEMO, 'base', 'onnx', 'model.onnx'));
    const run = async (modules: LoraModule[]): Promise<Float32Array> => {
      const weights = Object.fromEntries(
        loraBranchWeights(lora.targets, modules).flatMap((b) => [
          [b.aName, new ort.Tensor('float32', b.a, b.aDims)],
          [b.bName, new ort.Tensor('float32', b.b, b.bDims)],
        ]),
      );
      const lambda = new ort.Tensor('float32', Float32Array.of(1), [1]);
      return (await session.run({ ...feeds, ...weights, [lora.scaleInput]: lambda })).logits!
        .data as Float32Array;
    };
    const maxDiff = (a: Float32Array, b: Float32Array) =>
      a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] ?? 0))), 0);
    const ftLogits = (await ft.run(feeds)).logits!.data as Float32Array;
    const baseLogits = (await base.run(feeds)).logits!.data as Float32Array;
    expect(maxDiff(await run(lora.modules), ftLogits)).toBeLessThan(1e-4);
    const n1 = await run(nullAdapterModules(lora.modules, 1000, { initScale: 0.5 }));
    const n1again = await run(nullAdapterModules(lora.modules, 1000, { initScale: 0.5 }));
    const n2 = await run(nullAdapterModules(lora.modules, 1001, { initScale: 0.5 }));
    expect(n1again).toEqual(n1);
    expect(maxDiff(n1, n2)).toBeGreaterThan(1e-3);
    expect(maxDiff(n1, baseLogits)).toBeGreaterThan(1e-3);
    await Promise.all([session.release(), ft.release(), base.release()]);
  });
});

/** The first three A values of seed 1000's first module (std 0.02). */
const PINNED = [0.002116, 0.004673, 0.005458];
