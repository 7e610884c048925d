import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAdapterConfig } from '../../src/adapter/adapterConfig.ts';
import { loraModules } from '../../src/adapter/adapterWeights.ts';
import { mapModules, type AdapterModuleShape, type ProjectionDims } from '../../src/adapter/moduleMap.ts';
import { readOnnxModel } from '../../src/adapter/onnxGraph.ts';
import { decodeSafetensors } from '../../src/adapter/safetensors.ts';
import { DeltascopeError } from '../../src/core/errors.ts';
import type { LlamaDims } from '../../scripts/demoModel/demoModelConfig.ts';
import { ensureZoo, zooLayouts, type ZooLayout } from './zooLayouts.ts';

const DEMO = join(import.meta.dirname, '..', '..', 'public', 'models', 'deltascope-demo');

beforeAll(async () => {
  await ensureZoo();
}, 120_000);

const projDims = (d: LlamaDims): ProjectionDims => ({
  numHeads: d.numHeads,
  numKvHeads: d.numKvHeads,
  headDim: d.headDim,
  intermediateSize: d.intermediateSize,
});

/** PEFT module paths and LoRA shapes for every projection of a Llama with dims `d`. */
function everyProjection(d: LlamaDims): AdapterModuleShape[] {
  const H = d.hiddenSize;
  const q = d.numHeads * d.headDim;
  const kv = d.numKvHeads * d.headDim;
  const out: AdapterModuleShape[] = [];
  for (let i = 0; i < d.numLayers; i++) {
    const a = `model.layers.${i}.self_attn`;
    const m = `model.layers.${i}.mlp`;
    out.push(
      { key: `${a}.q_proj`, inFeatures: H, outFeatures: q },
      { key: `${a}.k_proj`, inFeatures: H, outFeatures: kv },
      { key: `${a}.v_proj`, inFeatures: H, outFeatures: kv },
      { key: `${a}.o_proj`, inFeatures: q, outFeatures: H },
      { key: `${m}.gate_proj`, inFeatures: H, outFeatures: d.intermediateSize },
      { key: `${m}.up_proj`, inFeatures: H, outFeatures: d.intermediateSize },
      { key: `${m}.down_proj`, inFeatures: d.intermediateSize, outFeatures: H },
    );
  }
  out.push({ key: 'lm_head', inFeatures: H, outFeatures: d.vocabSize });
  return out;
}

/** The node name each layout gives a module's projection. */
function expectedNode(l: ZooLayout, key: string): string {
  const suffix = l.dtype === 'q4' || l.dtype === 'q4f16' ? '_Q4' : '';
  if (key === 'lm_head')
    return l.family === 'genai' && suffix ? '/lm_head/MatMul_Q4' : `/lm_head/MatMul${suffix}`;
  const [, i, block, proj] = /^model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+)$/.exec(key)!;
  if (l.family === 'optimum') return `/model/layers.${i}/${block}/${proj}/MatMul${suffix}`;
  const scope = block === 'self_attn' ? 'attn' : 'mlp';
  const fused = l.attention !== 'unfused' && ['q_proj', 'k_proj', 'v_proj'].includes(proj!);
  return `/model/layers.${i}/${scope}/${fused ? 'qkv_proj' : proj}/MatMul${suffix}`;
}

describe('mapModules', () => {
  it.each(zooLayouts().map((l) => [l.label, l] as const))(
    '%s: maps every projection and lm_head',
    (_, layout) => {
      const model = readOnnxModel(layout.bytes());
      const modules = everyProjection(layout.dims);
      const targets = mapModules(model, modules, projDims(layout.dims));
      expect(targets.map((t) => t.module)).toEqual(modules.map((m) => m.key));
      const d = layout.dims;
      const q = d.numHeads * d.headDim;
      const kv = d.numKvHeads * d.headDim;
      for (const t of targets) {
        expect(t.projection.node.name).toBe(expectedNode(layout, t.module));
        expect(t.projection.kind).toBe(layout.dtype.startsWith('q4') ? 'MatMulNBits' : 'MatMul');
        expect(t.projection.output).toBe(t.projection.node.outputs[0]);
        const fused = t.projection.node.name.includes('qkv_proj');
        const leaf = t.module.split('.').at(-1);
        expect(t.columns).toEqual(
          !fused
            ? null
            : leaf === 'q_proj'
              ? { start: 0, end: q }
              : leaf === 'k_proj'
                ? { start: q, end: q + kv }
                : { start: q + kv, end: q + 2 * kv },
        );
      }
      if (layout.family === 'optimum') expect(targets.at(-1)?.projection.output).toBe('logits');
    },
  );

  it("maps the demo adapter onto the demo base by the weight's initializer name", () => {
    const config = parseAdapterConfig(
      JSON.parse(readFileSync(join(DEMO, 'adapter', 'adapter_config.json'), 'utf8')),
    );
    const { tensors } = decodeSafetensors(
      new Uint8Array(readFileSync(join(DEMO, 'adapter', 'adapter_model.safetensors'))),
    );
    const model = readOnnxModel(new Uint8Array(readFileSync(join(DEMO, 'base', 'onnx', 'model.onnx'))));
    const targets = mapModules(model, loraModules(config, tensors), null);
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatchObject({
      module: 'lm_head',
      columns: null,
      projection: { kind: 'MatMul', output: 'logits', inFeatures: 64, outFeatures: 768 },
    });
    expect(targets[0]?.projection.node.inputs[1]).toBe('lm_head.weight');
    // Every projection of the demo's hand-built graph is found the same way (its nodes are /MatMul_<n>).
    const demoDims = { ...layoutDims(), vocabSize: 768 };
    expect(
      mapModules(model, everyProjection(demoDims), projDims(demoDims)).map(
        (t) => t.projection.node.inputs[1],
      ),
    ).toEqual(everyProjection(demoDims).map((m) => `${m.key}.weight`));
  });

  function refusal(fn: () => unknown): DeltascopeError {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(DeltascopeError);
      expect((e as DeltascopeError).code).toBe('model-load/mismatch');
      return e as DeltascopeError;
    }
    throw new Error('expected a refusal');
  }
  const layoutDims = (): LlamaDims => zooLayouts().find((l) => l.label === 'genai-qkv/fp32')!.dims;

  it('refuses, listing every one, modules that match nothing, never guessing', () => {
    const layout = zooLayouts().find((l) => l.label === 'optimum-llama/q4')!;
    const model = readOnnxModel(layout.bytes());
    const d = layout.dims;
    const extra: AdapterModuleShape[] = [
      { key: 'model.layers.7.self_attn.q_proj', inFeatures: d.hiddenSize, outFeatures: d.hiddenSize },
      { key: 'model.layers.0.self_attn.rotary_emb', inFeatures: 16, outFeatures: 16 },
      { key: 'transformer.h.0.attn.c_attn', inFeatures: d.hiddenSize, outFeatures: 3 * d.hiddenSize },
      // A suffix of a real path is not that path.
      { key: 'layers.0.self_attn.q_proj', inFeatures: d.hiddenSize, outFeatures: d.hiddenSize },
    ];
    const err = refusal(() =>
      mapModules(model, [...everyProjection(d), ...extra], projDims(d), 'base/onnx/model_q4.onnx'),
    );
    expect(err.input).toBe('base/onnx/model_q4.onnx');
    expect(err.message).toMatch(
      /4 adapter module\(s\) match no projection in the base model: model.layers.7.self_attn.q_proj, model.layers.0.self_attn.rotary_emb, transformer.h.0.attn.c_attn, layers.0.self_attn.q_proj/,
    );
    expect((err.details as { unmatched: string[] }).unmatched).toEqual(extra.map((m) => m.key));
  });

  it('refuses LoRA shapes that do not fit the projection, and fused projections without dims', () => {
    const layout = zooLayouts().find((l) => l.label === 'genai-qkv/q4')!;
    const model = readOnnxModel(layout.bytes());
    const d = layout.dims;
    const bad = [
      { key: 'model.layers.0.mlp.down_proj', inFeatures: d.hiddenSize, outFeatures: d.intermediateSize },
    ];
    expect(refusal(() => mapModules(model, bad, projDims(d))).message).toMatch(
      /model.layers.0.mlp.down_proj: lora_A × lora_B is \[128 × 64\] but \/model\/layers.0\/mlp\/down_proj\/MatMul_Q4 maps 128 → 64/,
    );
    const kProj = [
      {
        key: 'model.layers.1.self_attn.k_proj',
        inFeatures: d.hiddenSize,
        outFeatures: d.numKvHeads * d.headDim,
      },
    ];
    expect(refusal(() => mapModules(model, kProj, null)).message).toMatch(
      /part of the fused \/model\/layers.1\/attn\/qkv_proj\/MatMul_Q4/,
    );
    expect(refusal(() => mapModules(model, kProj, { ...projDims(d), numKvHeads: 4 })).message).toMatch(
      /has 128 outputs, not 64 \+ 64 \+ 64/,
    );
    expect(mapModules(model, kProj, projDims(d))[0]?.columns).toEqual({ start: 64, end: 96 });
  });
});
