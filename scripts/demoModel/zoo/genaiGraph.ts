/**
 * A Llama decoder written the way onnxruntime-genai's model builder
 * (`src/python/py/models/builders/base.py`) writes it for the CPU / WebGPU
 * execution providers in fp32: `com.microsoft` contrib ops, the builder's node
 * and initializer names, and its in-graph attention-mask subgraph.
 *
 *   attention_mask ─ ReduceSum ─ Sub 1 ─ Cast int32 ───────── seqlens_k ─┐
 *                 └─ Shape ─ Gather 1 ─ Cast int32 ──── total_seq_len ──┤
 *   input_ids ─ /model/embed_tokens/Gather                             │
 *     layer N: (Skip)SimplifiedLayerNormalization                      │
 *              q/k/v_proj MatMul (or one packed qkv_proj MatMul)       │
 *              [RotaryEmbedding q_rotary / k_rotary]                   │
 *              GroupQueryAttention ◄───────────────────────────────────┘
 *              o_proj MatMul ─ SkipSimplifiedLayerNormalization
 *              gate/up MatMul, Sigmoid, Mul, Mul, down MatMul
 *   final_norm_layernorm (SkipSimplifiedLayerNormalization) ─ /lm_head/MatMul ─ logits
 *
 * Two attention layouts, both ones the builder emits:
 *  - `unfused`: three MatMuls and separate `RotaryEmbedding` nodes fed by a
 *    `position_ids` graph input (the builder when rotary is not fused into GQA,
 *    e.g. with `disable_qkv_fusion` on an EP without fused rotary, and what
 *    many older onnx-community exports contain);
 *  - `packed`: one `/model/layers.N/attn/qkv_proj/MatMul` whose output goes
 *    straight into GroupQueryAttention as packed QKV, with `do_rotary=1` and
 *    the cos/sin caches as GQA inputs, and no `position_ids` input at all (the
 *    builder's default for CPU and WebGPU fp32). `packedSplit` instead splits
 *    the packed output into Q, K, V (the builder does this when Q/K norms sit
 *    between projection and attention) and keeps the rotary in GQA.
 *
 * Weights are the HF ([out, in]) Llama weights of `demoModelConfig.ts`, so the
 * float64 `referenceForward` is the yardstick for this graph as for the demo's.
 */
import {
  encodeOnnxModel,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxInitializer,
  type OnnxNode,
  type OnnxValueInfo,
} from '../onnxModelEncoder.ts';
import { ropeTables, type LlamaDims, type LlamaWeights } from '../demoModelConfig.ts';
import { float16Array, roundToFloat16 } from '../../../src/core/float16.ts';
import { dequantizeQ4, quantizeQ4, type Q4Options } from './matMulNBits.ts';

export type GenaiAttentionLayout = 'unfused' | 'packed' | 'packedSplit';

export interface GenaiGraphOptions {
  attention: GenaiAttentionLayout;
  /**
   * Last dim of `past_key_values.N.*` / `present.N.*`. The builder wrote `head_size` (a number) for
   * years; since it learned quantized KV caches it writes the symbolic `kv_cache_dim`, which
   * transformers.js resolves to 0 when it makes the empty first-step cache.
   */
  kvLastDim?: 'head_size' | 'kv_cache_dim';
  /**
   * 4-bit weights as the builder's `-p int4` writes them: every MatMul (lm_head and the packed
   * qkv_proj included, not the embedding) replaced by onnxruntime's MatMulNBitsQuantizer with a
   * `com.microsoft.MatMulNBits` node `<name>_Q4` reading `<W>_Q4` / `<W>_scales`; symmetric blocks
   * of 32 (no zero points). `accuracyLevel` 0 is the builder's default now; hub models named
   * `cpu-int4-rtn-block-32-acc-level-4` were built with 4 (int8 activations on CPU).
   */
  q4?: { accuracyLevel: number };
  /**
   * fp16 as the builder writes it for CUDA / DML / WebGPU (`-p fp16`): io dtype float16, so every
   * float initializer, the KV cache and the logits are float16 (int4 scales too, with `q4`).
   */
  float16?: boolean;
}

/** The builder's int4 block quantization: block 32, symmetric. */
export const GENAI_Q4: Q4Options = { blockSize: 32, symmetric: true };

/** The builder's opset imports: `{"": 21, "com.microsoft": 1}`, IR version 10. */
export const GENAI_OPSET = 21;
export const GENAI_IR_VERSION = 10;
const MS = 'com.microsoft';

const int = (value: number): OnnxAttribute => ({ kind: 'int', value });
const float = (value: number): OnnxAttribute => ({ kind: 'float', value });

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c] ?? 0;
  return out;
}

function weight(w: LlamaWeights, name: string): Float32Array {
  const t = w.get(name);
  if (!t) throw new Error(`genaiGraph: weight ${name} is missing`);
  return t;
}

/** Graph inputs and outputs with the builder's names, types and dims. */
export function genaiGraphIo(
  d: LlamaDims,
  opts: GenaiGraphOptions,
): { inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[] } {
  const kvDim = opts.kvLastDim === 'kv_cache_dim' ? 'kv_cache_dim' : d.headDim;
  const inputs: OnnxValueInfo[] = [
    { name: 'input_ids', elemType: 'int64', shape: ['batch_size', 'sequence_length'] },
    { name: 'attention_mask', elemType: 'int64', shape: ['batch_size', 'total_sequence_length'] },
  ];
  // GQA with rotary inside takes no position_ids: the builder deletes the input.
  if (opts.attention === 'unfused') {
    inputs.push({ name: 'position_ids', elemType: 'int64', shape: ['batch_size', 'sequence_length'] });
  }
  const outputs: OnnxValueInfo[] = [
    { name: 'logits', elemType: 'float32', shape: ['batch_size', 'sequence_length', d.vocabSize] },
  ];
  for (let i = 0; i < d.numLayers; i++) {
    for (const kind of ['key', 'value']) {
      inputs.push({
        name: `past_key_values.${i}.${kind}`,
        elemType: 'float32',
        shape: ['batch_size', d.numKvHeads, 'past_sequence_length', kvDim],
      });
      outputs.push({
        name: `present.${i}.${kind}`,
        elemType: 'float32',
        shape: ['batch_size', d.numKvHeads, 'total_sequence_length', kvDim],
      });
    }
  }
  return { inputs, outputs };
}

export function buildGenaiGraph(d: LlamaDims, w: LlamaWeights, opts: GenaiGraphOptions): OnnxGraph {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  const names = new Set<string>();

  const node = (
    name: string,
    opType: string,
    inputs: string[],
    outputs: string[],
    attrs: [string, OnnxAttribute][] = [],
    domain = '',
  ): string => {
    if (names.has(name)) return outputs[0] ?? '';
    names.add(name);
    // Optional inputs are empty strings; trailing ones are dropped, as the builder's IR does.
    const trimmed = [...inputs];
    while (trimmed.length > 0 && trimmed.at(-1) === '') trimmed.pop();
    nodes.push({ name, opType, inputs: trimmed, outputs, attributes: attrs, ...(domain ? { domain } : {}) });
    return outputs[0] ?? '';
  };
  /** `name/output_0`, the builder's output naming. */
  const op = (
    name: string,
    opType: string,
    inputs: string[],
    attrs: [string, OnnxAttribute][] = [],
    domain = '',
  ) => node(name, opType, inputs, [`${name}/output_0`], attrs, domain);
  /** The builder's shared constants: a Constant node `/model/constant_nodes/T/v` with output `/model/constants/T/v`. */
  const constant = (type: 'INT64', text: string, values: number[], dims: number[]): string => {
    const out = `/model/constants/${type}/${text}`;
    const tensor: OnnxInitializer = { name: out, dims, data: BigInt64Array.from(values.map(BigInt)) };
    node(
      `/model/constant_nodes/${type}/${text}`,
      'Constant',
      [],
      [out],
      [['value', { kind: 'tensor', value: tensor }]],
    );
    return out;
  };
  const init = (name: string, dims: number[], data: Float32Array): string => {
    initializers.push({ name, dims, data });
    return name;
  };
  /**
   * A linear layer as the builder writes it: weight `<node path with dots>.weight`, stored [in, out];
   * or its MatMulNBits replacement, which keeps the MatMul's output name.
   */
  const matmul = (
    basename: string,
    input: string,
    hfWeight: Float32Array,
    outDim: number,
    inDim: number,
    output = `${basename}/output_0`,
  ): string => {
    const wName = `${basename.slice(1).replaceAll('/', '.')}.weight`;
    if (!opts.q4) {
      init(wName, [inDim, outDim], transpose2d(hfWeight, outDim, inDim));
      return node(basename, 'MatMul', [input, wName], [output]);
    }
    // fp16 scales are rounded before the values are quantized against them, as the quantizer does.
    const q = quantizeQ4(hfWeight, outDim, inDim, GENAI_Q4, opts.float16 ? roundToFloat16 : Math.fround);
    const kBlocks = Math.ceil(inDim / GENAI_Q4.blockSize);
    initializers.push({
      name: `${wName}_Q4`,
      dims: [outDim, kBlocks, GENAI_Q4.blockSize / 2],
      data: q.packed,
    });
    init(`${wName}_scales`, [outDim * kBlocks], q.scales);
    return node(
      `${basename}_Q4`,
      'MatMulNBits',
      [input, `${wName}_Q4`, `${wName}_scales`],
      [output],
      [
        ['K', int(inDim)],
        ['N', int(outDim)],
        ['accuracy_level', int(opts.q4.accuracyLevel)],
        ['bits', int(4)],
        ['block_size', int(GENAI_Q4.blockSize)],
      ],
      MS,
    );
  };

  const H = d.numHeads;
  const KV = d.numKvHeads;
  const hd = d.headDim;
  const qDim = H * hd;
  const kvDim = KV * hd;
  const eps = d.rmsNormEps;

  // Attention-mask reformatting for GQA: seqlens_k = sum(mask) - 1, total_seq_len = mask.shape[1], both int32.
  const maskBase = '/model/attn_mask_reformat/attn_mask_subgraph';
  const one1d = constant('INT64', '[1]', [1], [1]);
  const reduceSum = op(
    `${maskBase}/ReduceSum`,
    'ReduceSum',
    ['attention_mask', one1d],
    [['keepdims', int(0)]],
  );
  const sub = op(`${maskBase}/Sub`, 'Sub', [reduceSum, one1d]);
  const seqlensK = op(`${maskBase}/Sub/Cast`, 'Cast', [sub], [['to', int(6)]]);
  const shape = op(`${maskBase}/Shape`, 'Shape', ['attention_mask']);
  const gather = op(
    `${maskBase}/Gather`,
    'Gather',
    [shape, constant('INT64', '1', [1], [])],
    [['axis', int(0)]],
  );
  const totalSeqLen = op(`${maskBase}/Gather/Cast`, 'Cast', [gather], [['to', int(6)]]);

  // Rotary caches [max_positions, head_size / 2], the first half of HF's cat(freqs, freqs) tables.
  const rope = ropeTables(d);
  const half = hd / 2;
  const halfTable = (full: Float32Array): Float32Array => {
    const out = new Float32Array(d.maxPositions * half);
    for (let p = 0; p < d.maxPositions; p++) out.set(full.subarray(p * hd, p * hd + half), p * half);
    return out;
  };
  init('cos_cache', [d.maxPositions, half], halfTable(rope.cos));
  init('sin_cache', [d.maxPositions, half], halfTable(rope.sin));

  init('model.embed_tokens.weight', [d.vocabSize, d.hiddenSize], weight(w, 'model.embed_tokens.weight'));
  const embed = op('/model/embed_tokens/Gather', 'Gather', ['model.embed_tokens.weight', 'input_ids']);

  // The residual stream (`root`) and the branch output waiting to be added to it (`skip`).
  let root = embed;
  let skip = '';
  /** Input / post-attention / final norms: plain SimplifiedLayerNormalization first, fused Skip… after. */
  const layerNorm = (layer: number, location: string, hfName: string, last = false): string => {
    const wName = `model.layers.${layer}.${location}_layernorm.weight`;
    init(wName, [d.hiddenSize], weight(w, hfName));
    const base = `/model/layers.${layer}/${location}_layernorm`;
    const out0 = `${base}/output_0`;
    if (skip === '') {
      // Default-domain name; onnxruntime registers SimplifiedLayerNormalization there.
      node(
        `${base}/LayerNorm`,
        'SimplifiedLayerNormalization',
        [root, wName],
        [out0],
        [
          ['axis', int(-1)],
          ['epsilon', float(eps)],
          ['stash_type', int(1)],
        ],
      );
      return out0;
    }
    const out3 = `${base}/output_3`;
    node(
      `${base}/SkipLayerNorm`,
      'SkipSimplifiedLayerNormalization',
      [root, skip, wName],
      last ? [out0] : [out0, '', '', out3],
      [['epsilon', float(eps)]],
      MS,
    );
    if (!last) root = out3;
    return out0;
  };

  for (let i = 0; i < d.numLayers; i++) {
    const p = `model.layers.${i}`;
    const attn = `/model/layers.${i}/attn`;
    const x = layerNorm(i, 'input', `${p}.input_layernorm.weight`);
    const qW = weight(w, `${p}.self_attn.q_proj.weight`);
    const kW = weight(w, `${p}.self_attn.k_proj.weight`);
    const vW = weight(w, `${p}.self_attn.v_proj.weight`);

    let q: string;
    let k = '';
    let v = '';
    let cos = '';
    let sin = '';
    if (opts.attention === 'unfused') {
      q = matmul(`${attn}/q_proj/MatMul`, x, qW, qDim, d.hiddenSize);
      k = matmul(`${attn}/k_proj/MatMul`, x, kW, kvDim, d.hiddenSize);
      v = matmul(`${attn}/v_proj/MatMul`, x, vW, kvDim, d.hiddenSize);
      // num_heads 0 and rotary_embedding_dim 0: the kernel reads the head size off the caches.
      const rotary: [string, OnnxAttribute][] = [
        ['interleaved', int(0)],
        ['num_heads', int(0)],
        ['rotary_embedding_dim', int(0)],
      ];
      q = op(
        `${attn}/q_rotary/RotaryEmbedding`,
        'RotaryEmbedding',
        [q, 'position_ids', 'cos_cache', 'sin_cache'],
        rotary,
        MS,
      );
      k = op(
        `${attn}/k_rotary/RotaryEmbedding`,
        'RotaryEmbedding',
        [k, 'position_ids', 'cos_cache', 'sin_cache'],
        rotary,
        MS,
      );
    } else {
      const packed = new Float32Array(qW.length + kW.length + vW.length);
      packed.set(qW, 0);
      packed.set(kW, qW.length);
      packed.set(vW, qW.length + kW.length);
      q = matmul(`${attn}/qkv_proj/MatMul`, x, packed, qDim + 2 * kvDim, d.hiddenSize);
      if (opts.attention === 'packedSplit') {
        const split = `${attn}/qkv_proj/Split`;
        const sizes = constant('INT64', `[${qDim}, ${kvDim}, ${kvDim}]`, [qDim, kvDim, kvDim], [3]);
        const outs = [0, 1, 2].map((j) => `${split}/output_${j}`);
        node(split, 'Split', [q, sizes], outs, [['axis', int(-1)]]);
        [q, k, v] = outs as [string, string, string];
      }
      cos = 'cos_cache';
      sin = 'sin_cache';
    }
    const gqa = `${attn}/GroupQueryAttention`;
    node(
      gqa,
      'GroupQueryAttention',
      [q, k, v, `past_key_values.${i}.key`, `past_key_values.${i}.value`, seqlensK, totalSeqLen, cos, sin],
      [`${gqa}/output_0`, `present.${i}.key`, `present.${i}.value`],
      [
        ['num_heads', int(H)],
        ['kv_num_heads', int(KV)],
        ['scale', float(1 / Math.sqrt(hd))],
        ['local_window_size', int(-1)],
        ['softcap', float(0)],
        ['do_rotary', int(opts.attention === 'unfused' ? 0 : 1)],
        ['rotary_interleaved', int(0)],
      ],
      MS,
    );
    skip = matmul(
      `${attn}/o_proj/MatMul`,
      `${gqa}/output_0`,
      weight(w, `${p}.self_attn.o_proj.weight`),
      d.hiddenSize,
      qDim,
    );

    const x2 = layerNorm(i, 'post_attention', `${p}.post_attention_layernorm.weight`);
    const mlp = `/model/layers.${i}/mlp`;
    const I = d.intermediateSize;
    const gate = matmul(
      `${mlp}/gate_proj/MatMul`,
      x2,
      weight(w, `${p}.mlp.gate_proj.weight`),
      I,
      d.hiddenSize,
    );
    const up = matmul(`${mlp}/up_proj/MatMul`, x2, weight(w, `${p}.mlp.up_proj.weight`), I, d.hiddenSize);
    const sig = op(`${mlp}/act_fn/Sigmoid`, 'Sigmoid', [gate]);
    const act = op(`${mlp}/act_fn/Mul`, 'Mul', [gate, sig]);
    const prod = op(`${mlp}/Mul`, 'Mul', [act, up]);
    skip = matmul(`${mlp}/down_proj/MatMul`, prod, weight(w, `${p}.mlp.down_proj.weight`), d.hiddenSize, I);
  }
  const normed = layerNorm(d.numLayers, 'final_norm', 'model.norm.weight', true);
  matmul('/lm_head/MatMul', normed, weight(w, 'lm_head.weight'), d.vocabSize, d.hiddenSize, 'logits');

  const graph: OnnxGraph = { name: 'main_graph', nodes, initializers, ...genaiGraphIo(d, opts) };
  return opts.float16 ? toFloat16(graph) : graph;
}

/** The builder's fp16 io dtype: float32 initializers and graph inputs/outputs become float16. */
function toFloat16(g: OnnxGraph): OnnxGraph {
  const half = (v: OnnxValueInfo): OnnxValueInfo =>
    v.elemType === 'float32' ? { ...v, elemType: 'float16' } : v;
  return {
    ...g,
    initializers: g.initializers.map((t) =>
      t.data instanceof Float32Array ? { name: t.name, dims: t.dims, data: float16Array(t.data) } : t,
    ),
    inputs: g.inputs.map(half),
    outputs: g.outputs.map(half),
  };
}

/**
 * The weights a q4 graph computes with: every linear layer replaced by the dequantized values of its
 * 4-bit blocks (blocks run along each HF row, so quantizing the packed qkv_proj equals quantizing
 * q, k and v apart). The float64 reference over these measures the runtime, not the quantizer.
 */
export function genaiQ4EffectiveWeights(d: LlamaDims, w: LlamaWeights, float16 = false): LlamaWeights {
  const out: LlamaWeights = new Map(w);
  for (const [name, data] of w) {
    if (!(name.endsWith('_proj.weight') || name === 'lm_head.weight')) continue;
    const inDim = name.endsWith('down_proj.weight')
      ? d.intermediateSize
      : name.endsWith('o_proj.weight')
        ? d.numHeads * d.headDim
        : d.hiddenSize;
    out.set(
      name,
      dequantizeQ4(
        quantizeQ4(data, data.length / inDim, inDim, GENAI_Q4, float16 ? roundToFloat16 : Math.fround),
      ),
    );
  }
  return out;
}

export function encodeGenaiOnnx(
  d: LlamaDims,
  w: LlamaWeights,
  opts: GenaiGraphOptions,
  docString: string,
): Uint8Array {
  return encodeOnnxModel(buildGenaiGraph(d, w, opts), {
    irVersion: GENAI_IR_VERSION,
    opsetVersion: GENAI_OPSET,
    extraOpsets: [{ domain: MS, version: 1 }],
    producerName: 'onnxruntime-genai',
    producerVersion: 'deltascope-zoo',
    docString,
  });
}
