import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_DIMS } from '../../scripts/demoModel/demoModelConfig.ts';
import { readOnnxGraphSummary } from '../../scripts/demoModel/onnxModelReader.ts';
import { DEMO_DIR, readOnnx, type DemoKind } from './demoModelOrt.ts';

// Default-domain ops that onnxruntime-web's WebGPU and WASM execution providers both implement.
const WEB_SAFE_OPS = new Set(
  [
    'Add',
    'Cast',
    'Concat',
    'Div',
    'Equal',
    'Expand',
    'Gather',
    'Less',
    'LessOrEqual',
    'MatMul',
    'Mul',
    'Neg',
    'Pow',
    'Range',
    'Reciprocal',
    'ReduceMean',
    'Reshape',
    'Shape',
    'Sigmoid',
    'Slice',
    'Softmax',
    'Sqrt',
    'Sub',
    'Transpose',
    'Unsqueeze',
    'Where',
  ].map((op) => `:${op}`),
);

const FLOAT = 1;
const INT64 = 7;

describe.each<DemoKind>(['base', 'ft'])('%s ONNX file has the hub (Optimum) decoder contract', (kind) => {
  const summary = readOnnxGraphSummary(readOnnx(kind));
  const d = DEMO_DIMS;

  it('uses IR 8, opset 17 and only web-safe default-domain ops', () => {
    expect(summary.irVersion).toBe(8);
    expect(summary.opsets).toEqual({ '': 17 });
    for (const op of summary.ops) expect(WEB_SAFE_OPS.has(op), op).toBe(true);
  });

  it('names and types its inputs and outputs as transformers.js expects', () => {
    const past = (i: number, k: string): object => ({
      name: `past_key_values.${i}.${k}`,
      elemType: FLOAT,
      shape: ['batch_size', d.numKvHeads, 'past_sequence_length', d.headDim],
    });
    const present = (i: number, k: string): object => ({
      name: `present.${i}.${k}`,
      elemType: FLOAT,
      shape: ['batch_size', d.numKvHeads, 'total_sequence_length', d.headDim],
    });
    const layers = Array.from({ length: d.numLayers }, (_, i) => i);
    expect(summary.inputs).toEqual([
      { name: 'input_ids', elemType: INT64, shape: ['batch_size', 'sequence_length'] },
      { name: 'attention_mask', elemType: INT64, shape: ['batch_size', 'total_sequence_length'] },
      { name: 'position_ids', elemType: INT64, shape: ['batch_size', 'sequence_length'] },
      ...layers.flatMap((i) => [past(i, 'key'), past(i, 'value')]),
    ]);
    expect(summary.outputs).toEqual([
      { name: 'logits', elemType: FLOAT, shape: ['batch_size', 'sequence_length', d.vocabSize] },
      ...layers.flatMap((i) => [present(i, 'key'), present(i, 'value')]),
    ]);
  });

  it('ships a config.json that describes the graph', () => {
    const config = JSON.parse(readFileSync(join(DEMO_DIR, kind, 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(config).toMatchObject({
      model_type: 'llama',
      architectures: ['LlamaForCausalLM'],
      torch_dtype: 'float32',
      hidden_size: d.hiddenSize,
      num_hidden_layers: d.numLayers,
      num_attention_heads: d.numHeads,
      num_key_value_heads: d.numKvHeads,
      intermediate_size: d.intermediateSize,
      vocab_size: d.vocabSize,
      max_position_embeddings: d.maxPositions,
      bos_token_id: 1,
      eos_token_id: 2,
      pad_token_id: 0,
    });
  });
});
