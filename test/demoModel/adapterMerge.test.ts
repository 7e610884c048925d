import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_DIMS } from '../../scripts/demoModel/demoModelConfig.ts';
import { readLlamaWeightsFromOnnx } from '../../scripts/demoModel/onnxModelReader.ts';
import { decodeSafetensors } from '../../scripts/demoModel/safetensorsFormat.ts';
import { DEMO_DIR, readOnnx } from './demoModelOrt.ts';

interface AdapterConfig {
  peft_type: string;
  task_type: string;
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: string[];
  bias: string;
  fan_in_fan_out: boolean;
  base_model_name_or_path: string;
}

describe('PEFT adapter', () => {
  const config = JSON.parse(
    readFileSync(join(DEMO_DIR, 'adapter', 'adapter_config.json'), 'utf8'),
  ) as AdapterConfig;
  const tensors = decodeSafetensors(
    new Uint8Array(readFileSync(join(DEMO_DIR, 'adapter', 'adapter_model.safetensors'))),
  );
  const base = readLlamaWeightsFromOnnx(readOnnx('base'));
  const ft = readLlamaWeightsFromOnnx(readOnnx('ft'));

  it('is a rank ≤ 8 LoRA on lm_head with PEFT key names and shapes', () => {
    expect(config).toMatchObject({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      lora_dropout: 0,
      bias: 'none',
      fan_in_fan_out: false,
      target_modules: ['lm_head'],
    });
    expect(config.r).toBeLessThanOrEqual(8);
    expect([...tensors.keys()].sort()).toEqual([
      'base_model.model.lm_head.lora_A.weight',
      'base_model.model.lm_head.lora_B.weight',
    ]);
    expect(tensors.get('base_model.model.lm_head.lora_A.weight')?.shape).toEqual([
      config.r,
      DEMO_DIMS.hiddenSize,
    ]);
    expect(tensors.get('base_model.model.lm_head.lora_B.weight')?.shape).toEqual([
      DEMO_DIMS.vocabSize,
      config.r,
    ]);
  });

  it('merged into base gives the ft weights: W_ft = W + (alpha / r)·B·A', () => {
    const a = tensors.get('base_model.model.lm_head.lora_A.weight')?.data ?? new Float32Array();
    const b = tensors.get('base_model.model.lm_head.lora_B.weight')?.data ?? new Float32Array();
    const w = base.get('lm_head.weight') ?? new Float32Array();
    const wFt = ft.get('lm_head.weight') ?? new Float32Array();
    const { r, lora_alpha: alpha } = config;
    const D = DEMO_DIMS.hiddenSize;
    let maxDiff = 0;
    let maxDelta = 0;
    for (let o = 0; o < DEMO_DIMS.vocabSize; o++) {
      for (let i = 0; i < D; i++) {
        let ba = 0;
        for (let k = 0; k < r; k++) ba += (b[o * r + k] as number) * (a[k * D + i] as number);
        const merged = (w[o * D + i] as number) + (alpha / r) * ba;
        maxDiff = Math.max(maxDiff, Math.abs(merged - (wFt[o * D + i] as number)));
        maxDelta = Math.max(maxDelta, Math.abs((alpha / r) * ba));
      }
    }
    expect(maxDiff).toBeLessThan(1e-6);
    // The adapter is not a no-op.
    expect(maxDelta).toBeGreaterThan(0.1);
  });

  it('changes nothing but lm_head', () => {
    expect([...ft.keys()].sort()).toEqual([...base.keys()].sort());
    for (const [name, data] of base) {
      if (name === 'lm_head.weight') continue;
      expect(ft.get(name), name).toEqual(data);
    }
  });
});
