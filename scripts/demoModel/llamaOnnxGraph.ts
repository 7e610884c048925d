/**
 * Builds the ONNX graph of a Llama decoder with KV cache, using the input and
 * output names of Optimum hub exports so transformers.js treats it like any
 * hub model. Only plain default-domain ops (opset 17) that the WebGPU and WASM
 * execution providers of onnxruntime-web implement.
 */
import { encodeOnnxModel, OnnxGraphBuilder, type OnnxGraph, type OnnxValueInfo } from './onnxModelEncoder.ts';
import {
  isLinearWeight,
  llamaWeightShapes,
  ropeTables,
  type LlamaDims,
  type LlamaWeights,
} from './demoModelConfig.ts';

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;

/** Large negative added to masked attention scores; finite so fully masked rows stay NaN-free. */
export const MASK_VALUE = -1e9;

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c] ?? 0;
  return out;
}

export function llamaGraphIo(d: LlamaDims): { inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[] } {
  const inputs: OnnxValueInfo[] = [
    { name: 'input_ids', elemType: 'int64', shape: ['batch_size', 'sequence_length'] },
    { name: 'attention_mask', elemType: 'int64', shape: ['batch_size', 'total_sequence_length'] },
    { name: 'position_ids', elemType: 'int64', shape: ['batch_size', 'sequence_length'] },
  ];
  const outputs: OnnxValueInfo[] = [
    { name: 'logits', elemType: 'float32', shape: ['batch_size', 'sequence_length', d.vocabSize] },
  ];
  // transformers.js sizes the empty first-step cache from these dims: every symbolic
  // dim except batch_size becomes 0, so heads and head_dim must be fixed numbers.
  for (let i = 0; i < d.numLayers; i++) {
    for (const kind of ['key', 'value']) {
      inputs.push({
        name: `past_key_values.${i}.${kind}`,
        elemType: 'float32',
        shape: ['batch_size', d.numKvHeads, 'past_sequence_length', d.headDim],
      });
      outputs.push({
        name: `present.${i}.${kind}`,
        elemType: 'float32',
        shape: ['batch_size', d.numKvHeads, 'total_sequence_length', d.headDim],
      });
    }
  }
  return { inputs, outputs };
}

export function buildLlamaGraph(d: LlamaDims, weights: LlamaWeights): OnnxGraph {
  const g = new OnnxGraphBuilder();
  for (const [name, shape] of llamaWeightShapes(d)) {
    const data = weights.get(name);
    if (!data) throw new Error(`buildLlamaGraph: weight ${name} is missing`);
    if (isLinearWeight(name)) {
      const [out, inp] = shape as [number, number];
      g.initializer(name, [inp, out], transpose2d(data, out, inp));
    } else {
      g.initializer(name, shape, data);
    }
  }
  const rope = ropeTables(d);
  g.initializer('rope.cos_cached', [d.maxPositions, d.headDim], rope.cos);
  g.initializer('rope.sin_cached', [d.maxPositions, d.headDim], rope.sin);

  const H = d.numHeads;
  const KV = d.numKvHeads;
  const hd = d.headDim;
  const half = hd / 2;
  const scalarIndex1 = g.int64([1], []);

  // Additive attention bias [batch, 1, seq, total]: 0 where the key is both causal-visible
  // and unpadded, MASK_VALUE elsewhere. Query i sits at absolute index past + i.
  const seqLen = g.op(
    'Gather',
    [g.op('Shape', ['input_ids']), scalarIndex1],
    [['axis', { kind: 'int', value: 0 }]],
  );
  const totalLen = g.op(
    'Gather',
    [g.op('Shape', ['attention_mask']), scalarIndex1],
    [['axis', { kind: 'int', value: 0 }]],
  );
  const pastLen = g.op('Sub', [totalLen, seqLen]);
  const zero = g.int64([0], []);
  const one = g.int64([1], []);
  const keyIndex = g.op('Range', [zero, totalLen, one]);
  const queryIndex = g.op('Unsqueeze', [g.op('Range', [pastLen, totalLen, one]), g.int64([1])]);
  const causal = g.op(
    'Cast',
    [g.op('LessOrEqual', [keyIndex, queryIndex])],
    [['to', { kind: 'int', value: 1 }]],
  );
  const keyValid = g.op('Unsqueeze', [
    g.op('Cast', ['attention_mask'], [['to', { kind: 'int', value: 1 }]]),
    g.int64([1, 2]),
  ]);
  const allowed = g.op('Mul', [causal, keyValid]);
  const attnBias = g.op('Mul', [g.op('Sub', [allowed, g.float(1)]), g.float(-MASK_VALUE)]);

  // Rotary tables gathered by position_ids, broadcast over heads: [batch, 1, seq, head_dim].
  const cos = g.op('Unsqueeze', [g.op('Gather', ['rope.cos_cached', 'position_ids']), g.int64([1])]);
  const sin = g.op('Unsqueeze', [g.op('Gather', ['rope.sin_cached', 'position_ids']), g.int64([1])]);

  const rmsNorm = (x: string, weight: string): string => {
    const meanSq = g.op(
      'ReduceMean',
      [g.op('Mul', [x, x])],
      [
        ['axes', { kind: 'ints', value: [-1] }],
        ['keepdims', { kind: 'int', value: 1 }],
      ],
    );
    const invRms = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [meanSq, g.float(d.rmsNormEps)])])]);
    return g.op('Mul', [g.op('Mul', [x, invRms]), weight]);
  };
  const toHeads = (x: string, heads: number): string =>
    g.op(
      'Transpose',
      [g.op('Reshape', [x, g.int64([0, 0, heads, hd])])],
      [['perm', { kind: 'ints', value: [0, 2, 1, 3] }]],
    );
  const applyRope = (x: string): string => {
    const axes = g.int64([3]);
    const x1 = g.op('Slice', [x, g.int64([0]), g.int64([half]), axes]);
    const x2 = g.op('Slice', [x, g.int64([half]), g.int64([hd]), axes]);
    const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], [['axis', { kind: 'int', value: 3 }]]);
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
  };
  // Grouped-query attention: kv head j serves query heads j*rep .. j*rep+rep-1, as HF repeat_kv.
  const repeatKv = (x: string): string => {
    if (KV === H) return x;
    const expanded = g.op('Expand', [g.op('Unsqueeze', [x, g.int64([2])]), g.int64([1, 1, H / KV, 1, 1])]);
    return g.op('Reshape', [expanded, g.int64([0, H, -1, hd])]);
  };

  let hidden = g.op(
    'Gather',
    ['model.embed_tokens.weight', 'input_ids'],
    [['axis', { kind: 'int', value: 0 }]],
  );
  for (let i = 0; i < d.numLayers; i++) {
    const p = `model.layers.${i}`;
    const x = rmsNorm(hidden, `${p}.input_layernorm.weight`);
    const q = applyRope(toHeads(g.op('MatMul', [x, `${p}.self_attn.q_proj.weight`]), H));
    const k = applyRope(toHeads(g.op('MatMul', [x, `${p}.self_attn.k_proj.weight`]), KV));
    const v = toHeads(g.op('MatMul', [x, `${p}.self_attn.v_proj.weight`]), KV);
    const presentK = g.op(
      'Concat',
      [`past_key_values.${i}.key`, k],
      [['axis', { kind: 'int', value: 2 }]],
      `present.${i}.key`,
    );
    const presentV = g.op(
      'Concat',
      [`past_key_values.${i}.value`, v],
      [['axis', { kind: 'int', value: 2 }]],
      `present.${i}.value`,
    );
    const kT = g.op('Transpose', [repeatKv(presentK)], [['perm', { kind: 'ints', value: [0, 1, 3, 2] }]]);
    const scores = g.op('Mul', [g.op('MatMul', [q, kT]), g.float(1 / Math.sqrt(hd))]);
    const probs = g.op('Softmax', [g.op('Add', [scores, attnBias])], [['axis', { kind: 'int', value: -1 }]]);
    const context = g.op('MatMul', [probs, repeatKv(presentV)]);
    const merged = g.op('Reshape', [
      g.op('Transpose', [context], [['perm', { kind: 'ints', value: [0, 2, 1, 3] }]]),
      g.int64([0, 0, H * hd]),
    ]);
    hidden = g.op('Add', [hidden, g.op('MatMul', [merged, `${p}.self_attn.o_proj.weight`])]);

    const x2 = rmsNorm(hidden, `${p}.post_attention_layernorm.weight`);
    const gate = g.op('MatMul', [x2, `${p}.mlp.gate_proj.weight`]);
    const up = g.op('MatMul', [x2, `${p}.mlp.up_proj.weight`]);
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    hidden = g.op('Add', [hidden, g.op('MatMul', [act, `${p}.mlp.down_proj.weight`])]);
  }
  const finalNorm = rmsNorm(hidden, 'model.norm.weight');
  g.op('MatMul', [finalNorm, 'lm_head.weight'], [], 'logits');

  const io = llamaGraphIo(d);
  return { name: 'deltascope_demo_llama', nodes: g.nodes, initializers: g.initializers, ...io };
}

export function encodeLlamaOnnx(d: LlamaDims, weights: LlamaWeights, docString: string): Uint8Array {
  return encodeOnnxModel(buildLlamaGraph(d, weights), {
    irVersion: ONNX_IR_VERSION,
    opsetVersion: ONNX_OPSET,
    producerName: 'deltascope-demo-builder',
    producerVersion: '1',
    docString,
  });
}
