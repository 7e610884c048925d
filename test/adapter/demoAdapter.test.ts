// The demo's shipped PEFT adapter applied at run time to the demo base: one rewritten graph whose
// λ = 0 is base/onnx/model.onnx and whose λ = 1 is the merged ft/onnx/model.onnx, on onnxruntime-node
// and on onnxruntime-web's WASM provider (which refuses feeds for inputs with initializer defaults:
// lora_scale has none). Measured: λ 0 vs base 0 on both runtimes; λ 1 vs ft 5.7e-6 (node), 4.8e-6 (web).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { projectionDims, readOnnxModel, rewriteBaseWithAdapter } from '../../src/adapter/index.ts';
import { DeltascopeError } from '../../src/core/errors.ts';
import { zooFeeds } from './ortFeeds.ts';
import { encodeSafetensors } from './safetensorsEncode.ts';

const DEMO = join(import.meta.dirname, '..', '..', 'public', 'models', 'deltascope-demo');
const read = (...p: string[]): Uint8Array => new Uint8Array(readFileSync(join(DEMO, ...p)));
const json = (...p: string[]): unknown => JSON.parse(readFileSync(join(DEMO, ...p), 'utf8'));

const ROWS = [
  [1, 40, 41, 300, 7, 12, 99],
  [1, 500, 2, 3, 4, 5, 6],
];

function rewriteDemo() {
  return rewriteBaseWithAdapter(
    read('base', 'onnx', 'model.onnx'),
    {
      config: json('adapter', 'adapter_config.json'),
      safetensors: read('adapter', 'adapter_model.safetensors'),
    },
    projectionDims(json('base', 'config.json')),
  );
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}

describe('the demo adapter at run time', () => {
  it('rewrites the base once: λ = 0 is base/, λ = 1 the merged ft/ (onnxruntime-node)', async () => {
    const lora = rewriteDemo();
    expect(lora.branches.map((b) => [b.node, b.modules, b.aDims, b.bDims])).toEqual([
      ['/MatMul_151', ['lm_head'], [64, 8], [8, 768]],
    ]);
    const feeds = zooFeeds(readOnnxModel(lora.bytes), ROWS);
    const run = async (s: ort.InferenceSession, extra: Record<string, ort.Tensor> = {}) =>
      (await s.run({ ...feeds, ...extra })).logits!.data as Float32Array;
    const base = await ort.InferenceSession.create(join(DEMO, 'base', 'onnx', 'model.onnx'));
    const ft = await ort.InferenceSession.create(join(DEMO, 'ft', 'onnx', 'model.onnx'));
    const one = await ort.InferenceSession.create(lora.bytes);
    const lambda = (v: number[]) => ({
      [lora.scaleInput]: new ort.Tensor('float32', Float32Array.from(v), [v.length]),
    });
    const baseLogits = await run(base);
    const ftLogits = await run(ft);
    expect(maxAbsDiff(baseLogits, ftLogits)).toBeGreaterThan(0.1);
    expect(maxAbsDiff(await run(one, lambda([0, 0])), baseLogits)).toBe(0);
    expect(maxAbsDiff(await run(one, lambda([1])), ftLogits)).toBeLessThan(1e-4);
    // Both views in one batch.
    const mixed = await run(one, lambda([0, 1]));
    const half = mixed.length / 2;
    expect(maxAbsDiff(mixed.subarray(0, half), baseLogits.subarray(0, half))).toBe(0);
    expect(maxAbsDiff(mixed.subarray(half), ftLogits.subarray(half))).toBeLessThan(1e-4);
    await Promise.all([base.release(), ft.release(), one.release()]);
  });

  it('runs on onnxruntime-web (WASM) with lora_scale fed: λ 0 is its base, λ 1 its ft', async () => {
    const lora = rewriteDemo();
    const model = readOnnxModel(lora.bytes);
    const nodeFeeds = zooFeeds(model, ROWS);
    const webFeeds = Object.fromEntries(
      Object.entries(nodeFeeds).map(([k, t]) => [
        k,
        new ortWeb.Tensor(t.type as 'int64', t.data as BigInt64Array, t.dims),
      ]),
    );
    const open = (bytes: Uint8Array) =>
      ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
    const [web, ft, base] = await Promise.all([
      open(lora.bytes),
      open(read('ft', 'onnx', 'model.onnx')),
      open(read('base', 'onnx', 'model.onnx')),
    ]);
    const logits = async (s: ortWeb.InferenceSession, lambda?: number[]) =>
      (
        await s.run({
          ...webFeeds,
          ...(lambda
            ? { [lora.scaleInput]: new ortWeb.Tensor('float32', Float32Array.from(lambda), [lambda.length]) }
            : {}),
        })
      ).logits!.data as Float32Array;
    expect(maxAbsDiff(await logits(web, [1, 1]), await logits(ft))).toBeLessThan(1e-4);
    expect(maxAbsDiff(await logits(web, [0, 0]), await logits(base))).toBe(0);
    await Promise.all([web.release(), ft.release(), base.release()]);
  });

  it('refuses a malformed adapter with a message naming the problem, before anything is built', () => {
    const config = json('adapter', 'adapter_config.json') as Record<string, unknown>;
    const weights = read('adapter', 'adapter_model.safetensors');
    const baseBytes = read('base', 'onnx', 'model.onnx');
    const attempt = (c: unknown, w: Uint8Array): DeltascopeError => {
      try {
        rewriteBaseWithAdapter(
          baseBytes,
          { config: c, safetensors: w, safetensorsLabel: 'adapter/adapter_model.safetensors' },
          null,
        );
      } catch (e) {
        expect(e).toBeInstanceOf(DeltascopeError);
        return e as DeltascopeError;
      }
      throw new Error('expected a refusal');
    };
    expect(attempt({ ...config, use_dora: true }, weights).message).toMatch(/use_dora is true: DoRA/);
    expect(attempt(config, weights.subarray(0, 4000)).message).toMatch(
      /adapter\/adapter_model.safetensors is not a valid safetensors file: .*truncated/,
    );
    const huge = weights.slice();
    new DataView(huge.buffer).setBigUint64(0, 4n * 2n ** 30n, true);
    expect(attempt(config, huge).message).toMatch(/claims 4294967296 bytes/);
    expect(attempt({ ...config, r: 4 }, weights).message).toMatch(
      /lm_head has rank 8 but adapter_config.json gives it 4/,
    );
    // An adapter for another base: its modules match nothing here, or their shapes do not fit.
    const other = encodeSafetensors([
      [
        'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight',
        { dtype: 'F32', shape: [8, 64], values: new Float32Array(512) },
      ],
      [
        'base_model.model.transformer.h.0.attn.c_attn.lora_B.weight',
        { dtype: 'F32', shape: [192, 8], values: new Float32Array(1536) },
      ],
    ]);
    const unmatched = attempt({ ...config, target_modules: ['c_attn'] }, other);
    expect(unmatched.code).toBe('model-load/mismatch');
    expect(unmatched.message).toMatch(
      /1 adapter module\(s\) match no projection in the base model: transformer.h.0.attn.c_attn/,
    );
    const narrow = encodeSafetensors([
      [
        'base_model.model.lm_head.lora_A.weight',
        { dtype: 'F32', shape: [8, 32], values: new Float32Array(256) },
      ],
      [
        'base_model.model.lm_head.lora_B.weight',
        { dtype: 'BF16', shape: [768, 8], values: new Float32Array(6144) },
      ],
    ]);
    expect(attempt(config, narrow).message).toMatch(
      /lm_head: lora_A × lora_B is \[768 × 32\] but \/MatMul_151 maps 64 → 768/,
    );
  });
});
