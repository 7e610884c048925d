/**
 * The ONNX graph of a Llama decoder with KV cache as Optimum writes it
 * (`optimum-cli export onnx --task text-generation-with-past`, TorchScript
 * exporter), in the dtypes people download: fp32 (`model.onnx`), fp16
 * (`model_fp16.onnx`), q4 and q4f16 (`model_q4.onnx`, `model_q4f16.onnx`,
 * MatMuls replaced by `com.microsoft.MatMulNBits` as onnxruntime's
 * MatMulNBitsQuantizer does).
 *
 * What is kept from a real export, because loaders and tools key on it:
 * nodes named by module scope (`/model/layers.0/self_attn/q_proj/MatMul`,
 * `/model/norm/Mul_1`, `/lm_head/MatMul`), `Constant` nodes for constants,
 * node outputs named `<node>_output_0`, linear weights as anonymous
 * `onnx::MatMul_<n>` initializers stored [in, out], norm weights under their
 * parameter names, a tied lm_head written as its own transposed copy (what
 * constant folding of `Transpose(embed_tokens.weight)` leaves: SmolLM2-135M's
 * model.onnx is 654 MB for 135M parameters), the rotary tables computed from
 * `position_ids` under `/model/rotary_emb/`, RMSNorm and softmax in float32
 * inside fp16 graphs (HF upcasts there), inputs `input_ids`, `attention_mask`,
 * `position_ids`, `past_key_values.N.key|value`, outputs `logits` (every
 * position) and `present.N.key|value`, grouped-query attention via
 * Unsqueeze/Expand/Reshape (HF's repeat_kv).
 *
 * Not copied: the exporter's dynamic-shape arithmetic (Shape/Gather/Concat
 * chains) and its exact mask construction; the mask here is the demo model's
 * additive −1e9 bias, which `referenceForward` mirrors.
 */
import {
  ONNX_DATA_TYPE,
  type OnnxAttribute,
  type OnnxElemType,
  type OnnxGraph,
  type OnnxInitializer,
  type OnnxModelMeta,
  type OnnxNode,
  type OnnxTensorData,
  type OnnxValueInfo,
} from '../onnxModelEncoder.ts';
import { isLinearWeight, llamaWeightShapes, type LlamaDims, type LlamaWeights } from '../demoModelConfig.ts';
import { MASK_VALUE } from '../llamaOnnxGraph.ts';
import { float16Array, roundToFloat16 } from '../../../src/core/float16.ts';
import {
  dequantizeQ4,
  quantizeQ4,
  TRANSFORMERS_JS_Q4,
  type Q4Options,
  type Q4Weight,
} from './matMulNBits.ts';
import type { WeightSource } from './seededWeights.ts';

export type ZooDtype = 'fp32' | 'fp16' | 'q4' | 'q4f16';
export const ZOO_DTYPES: readonly ZooDtype[] = ['fp32', 'fp16', 'q4', 'q4f16'];

/** The file transformers.js loads for each dtype. */
export const ZOO_ONNX_FILE: Record<ZooDtype, string> = {
  fp32: 'onnx/model.onnx',
  fp16: 'onnx/model_fp16.onnx',
  q4: 'onnx/model_q4.onnx',
  q4f16: 'onnx/model_q4f16.onnx',
};

export interface OptimumLlamaOptions {
  dtype: ZooDtype;
  /** lm_head shares the embedding (SmolLM2, Qwen2.5-0.5B): written as a transposed copy. */
  tied: boolean;
  /** q4 / q4f16 only; default transformers.js's preset (block 32, symmetric, no zero points). */
  q4?: Q4Options;
  /** Also quantize /lm_head/MatMul (the quantizer's default: every MatMul with a constant 2-D weight). */
  quantizeLmHead?: boolean;
}

export const OPTIMUM_OPSET = 14;
export const OPTIMUM_IR_VERSION = 8;

/** Model-level metadata as the exporter writes it (opset 14 default domain, com.microsoft when quantized). */
export function optimumMeta(dtype: ZooDtype, docString: string): OnnxModelMeta {
  const quantized = dtype === 'q4' || dtype === 'q4f16';
  return {
    irVersion: OPTIMUM_IR_VERSION,
    opsetVersion: OPTIMUM_OPSET,
    ...(quantized ? { extraOpsets: [{ domain: 'com.microsoft', version: 1 }] } : {}),
    producerName: 'pytorch',
    producerVersion: '2.5.1',
    docString,
  };
}

const half = (dtype: ZooDtype): boolean => dtype === 'fp16' || dtype === 'q4f16';
const quantized = (dtype: ZooDtype): boolean => dtype === 'q4' || dtype === 'q4f16';

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[row + c] ?? 0;
  }
  return out;
}

function toHalf(data: Float32Array): Float32Array {
  return data.map(roundToFloat16);
}

/** Quantizes one HF [out, in] linear weight as the dtype's file stores it. */
export function quantizeLinear(
  hf: Float32Array,
  out: number,
  inp: number,
  dtype: ZooDtype,
  q4: Q4Options,
): Q4Weight {
  return half(dtype)
    ? quantizeQ4(toHalf(hf), out, inp, q4, roundToFloat16)
    : quantizeQ4(hf, out, inp, q4, Math.fround);
}

/**
 * The weights the dtype's graph computes with, in HF orientation: fp16 values
 * rounded to half precision, quantized linears dequantized from the very bytes
 * the file holds. Feed these to `referenceForward` to check a runtime against
 * its own file rather than against quantization error.
 */
export function effectiveWeights(
  d: LlamaDims,
  source: WeightSource,
  opts: OptimumLlamaOptions,
): LlamaWeights {
  const q4 = opts.q4 ?? TRANSFORMERS_JS_Q4;
  const out: LlamaWeights = new Map();
  for (const [name, shape] of llamaWeightShapes(d)) {
    const w = source(name);
    const isQuantized =
      quantized(opts.dtype) &&
      isLinearWeight(name) &&
      (name !== 'lm_head.weight' || opts.quantizeLmHead !== false);
    if (isQuantized) {
      const [o, i] = shape as [number, number];
      out.set(name, dequantizeQ4(quantizeLinear(w, o, i, opts.dtype, q4)));
    } else {
      out.set(name, half(opts.dtype) ? toHalf(w) : w);
    }
  }
  return out;
}

/** Names nodes the way the TorchScript exporter does: `<scope>/<Op>`, then `_1`, `_2`… per scope. */
class ScopedGraph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private readonly seen = new Map<string, number>();
  private matmulId = 0;

  constructor(private readonly matmulBase: number) {}

  private nodeName(scope: string, opType: string): string {
    const key = `${scope}/${opType}`;
    const n = this.seen.get(key) ?? 0;
    this.seen.set(key, n + 1);
    return n === 0 ? key : `${key}_${n}`;
  }

  op(
    scope: string,
    opType: string,
    inputs: string[],
    attributes: [string, OnnxAttribute][] = [],
    output?: string,
    /** A contrib op standing in for `replaces` is named `<scope>/<replaces>_Q4`, as the quantizer renames. */
    contrib?: { domain: string; replaces: string; suffix: string },
  ): string {
    const name = contrib
      ? this.nodeName(scope, contrib.replaces) + contrib.suffix
      : this.nodeName(scope, opType);
    const out = output ?? `${name}_output_0`;
    const domain = contrib ? { domain: contrib.domain } : {};
    this.nodes.push({ name, opType, inputs, outputs: [out], attributes, ...domain });
    return out;
  }

  constant(scope: string, data: OnnxTensorData, dims: number[], elemType?: OnnxElemType): string {
    const value: OnnxInitializer = { name: '', dims, data, ...(elemType ? { elemType } : {}) };
    return this.op(scope, 'Constant', [], [['value', { kind: 'tensor', value }]]);
  }

  ints(scope: string, values: number[]): string {
    return this.constant(scope, BigInt64Array.from(values.map(BigInt)), [values.length]);
  }

  scalar(scope: string, value: number, elemType: 'float32' | 'float16'): string {
    return elemType === 'float16'
      ? this.constant(scope, float16Array([value]), [], 'float16')
      : this.constant(scope, Float32Array.of(value), []);
  }

  initializer(t: OnnxInitializer): string {
    this.initializers.push(t);
    return t.name;
  }

  /** The next anonymous MatMul weight name, as the exporter numbers them. */
  matmulName(): string {
    return `onnx::MatMul_${this.matmulBase + this.matmulId++}`;
  }
}

export function optimumGraphIo(
  d: LlamaDims,
  dtype: ZooDtype,
): { inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[] } {
  const T: OnnxElemType = half(dtype) ? 'float16' : 'float32';
  const inputs: OnnxValueInfo[] = [
    { name: 'input_ids', elemType: 'int64', shape: ['batch_size', 'sequence_length'] },
    { name: 'attention_mask', elemType: 'int64', shape: ['batch_size', 'past_sequence_length + 1'] },
    { name: 'position_ids', elemType: 'int64', shape: ['batch_size', 'sequence_length'] },
  ];
  const outputs: OnnxValueInfo[] = [
    { name: 'logits', elemType: T, shape: ['batch_size', 'sequence_length', d.vocabSize] },
  ];
  for (let i = 0; i < d.numLayers; i++) {
    for (const kind of ['key', 'value']) {
      inputs.push({
        name: `past_key_values.${i}.${kind}`,
        elemType: T,
        shape: ['batch_size', d.numKvHeads, 'past_sequence_length', d.headDim],
      });
      outputs.push({
        name: `present.${i}.${kind}`,
        elemType: T,
        shape: ['batch_size', d.numKvHeads, 'past_sequence_length + 1', d.headDim],
      });
    }
  }
  return { inputs, outputs };
}

/**
 * The graph, with every weight initializer lazy: weights are drawn from
 * `source` (and transposed, rounded or quantized) only when the encoder writes
 * them, so encoding with `encodeOnnxModelStream` holds one tensor at a time.
 */
export function buildOptimumLlamaGraph(
  d: LlamaDims,
  source: WeightSource,
  opts: OptimumLlamaOptions,
): OnnxGraph {
  const { dtype } = opts;
  const q4 = opts.q4 ?? TRANSFORMERS_JS_Q4;
  const T: 'float32' | 'float16' = half(dtype) ? 'float16' : 'float32';
  const TO_T = ONNX_DATA_TYPE[T];
  const TO_F32 = ONNX_DATA_TYPE.float32;
  const shapes = new Map(llamaWeightShapes(d));
  // Anonymous weight numbers start past the exporter's own value numbering, roughly where real exports do.
  const g = new ScopedGraph(40 * d.numLayers + 100);

  const floatTensor = (name: string, dims: number[], produce: () => Float32Array): string =>
    g.initializer({
      name,
      dims,
      elemType: T,
      data: T === 'float16' ? () => float16Array(produce()) : produce,
    });

  const H = d.numHeads;
  const KV = d.numKvHeads;
  const hd = d.headDim;
  const halfDim = hd / 2;

  /** A linear layer x·Wᵀ at `scope` (e.g. /model/layers.0/self_attn/q_proj), weight `param` in HF [out, in]. */
  const linear = (scope: string, x: string, param: string, output?: string): string => {
    const [out, inp] = shapes.get(param) as [number, number];
    const weightName = g.matmulName();
    const quantize = quantized(dtype) && (param !== 'lm_head.weight' || opts.quantizeLmHead !== false);
    if (!quantize) {
      floatTensor(weightName, [inp, out], () => transpose(source(param), out, inp));
      return g.op(scope, 'MatMul', [x, weightName], [], output);
    }
    // One quantization shared by the three lazy initializers (the first to be written computes it).
    let cached: Q4Weight | undefined;
    const weight = (): Q4Weight => (cached ??= quantizeLinear(source(param), out, inp, dtype, q4));
    const kBlocks = Math.ceil(inp / q4.blockSize);
    const inputs = [x, `${weightName}_Q4`, `${weightName}_scales`];
    g.initializer({
      name: `${weightName}_Q4`,
      dims: [out, kBlocks, q4.blockSize / 2],
      elemType: 'uint8',
      data: () => weight().packed,
    });
    g.initializer({
      name: `${weightName}_scales`,
      dims: [out * kBlocks],
      elemType: T,
      data: () => {
        const w = weight();
        if (q4.symmetric) cached = undefined; // the last of this weight's tensors: release it
        return T === 'float16' ? float16Array(w.scales) : w.scales;
      },
    });
    if (!q4.symmetric) {
      inputs.push(`${weightName}_zero_points`);
      g.initializer({
        name: `${weightName}_zero_points`,
        dims: [out * Math.ceil(kBlocks / 2)],
        elemType: 'uint8',
        data: () => {
          const w = weight();
          cached = undefined; // the last of this weight's tensors: release it
          return w.zeroPoints as Uint8Array;
        },
      });
    }
    return g.op(
      scope,
      'MatMulNBits',
      inputs,
      [
        ['K', { kind: 'int', value: inp }],
        ['N', { kind: 'int', value: out }],
        ['bits', { kind: 'int', value: 4 }],
        ['block_size', { kind: 'int', value: q4.blockSize }],
      ],
      output,
      { domain: 'com.microsoft', replaces: 'MatMul', suffix: '_Q4' },
    );
  };

  const cast = (scope: string, x: string, to: number): string =>
    g.op(scope, 'Cast', [x], [['to', { kind: 'int', value: to }]]);

  /** HF LlamaRMSNorm: upcast, x·rsqrt(mean(x²)+eps), downcast, times weight. */
  const rmsNorm = (scope: string, x: string, param: string): string => {
    floatTensor(param, [d.hiddenSize], () => source(param));
    const xf = T === 'float16' ? cast(scope, x, TO_F32) : x;
    const pow = g.op(scope, 'Pow', [xf, g.scalar(scope, 2, 'float32')]);
    const mean = g.op(
      scope,
      'ReduceMean',
      [pow],
      [
        ['axes', { kind: 'ints', value: [-1] }],
        ['keepdims', { kind: 'int', value: 1 }],
      ],
    );
    const add = g.op(scope, 'Add', [mean, g.scalar(scope, d.rmsNormEps, 'float32')]);
    const inv = g.op(scope, 'Div', [g.scalar(scope, 1, 'float32'), g.op(scope, 'Sqrt', [add])]);
    let y = g.op(scope, 'Mul', [xf, inv]);
    if (T === 'float16') y = cast(scope, y, TO_T);
    return g.op(scope, 'Mul', [param, y]);
  };

  // Rotary tables from position_ids, as transformers' LlamaRotaryEmbedding computes them (float32).
  const rs = '/model/rotary_emb';
  const invFreq = new Float32Array(halfDim);
  for (let i = 0; i < halfDim; i++) invFreq[i] = Math.fround(1 / Math.pow(d.ropeTheta, (2 * i) / hd));
  const posF = cast(rs, g.op(rs, 'Unsqueeze', ['position_ids', g.ints(rs, [1])]), TO_F32);
  const freqs = g.op(
    rs,
    'Transpose',
    [g.op(rs, 'MatMul', [g.constant(rs, invFreq, [1, halfDim, 1]), posF])],
    [['perm', { kind: 'ints', value: [0, 2, 1] }]],
  );
  const emb = g.op(rs, 'Concat', [freqs, freqs], [['axis', { kind: 'int', value: -1 }]]);
  let cosT = g.op(rs, 'Cos', [emb]);
  let sinT = g.op(rs, 'Sin', [emb]);
  if (T === 'float16') {
    cosT = cast(rs, cosT, TO_T);
    sinT = cast(rs, sinT, TO_T);
  }

  // Additive attention bias [batch, 1, seq, total] in float32: 0 where visible, MASK_VALUE elsewhere.
  const ms = '/model';
  const seqLen = g.op(
    ms,
    'Gather',
    [g.op(ms, 'Shape', ['input_ids']), g.constant(ms, BigInt64Array.of(1n), [])],
    [['axis', { kind: 'int', value: 0 }]],
  );
  const totalLen = g.op(
    ms,
    'Gather',
    [g.op(ms, 'Shape', ['attention_mask']), g.constant(ms, BigInt64Array.of(1n), [])],
    [['axis', { kind: 'int', value: 0 }]],
  );
  const zero = g.constant(ms, BigInt64Array.of(0n), []);
  const one = g.constant(ms, BigInt64Array.of(1n), []);
  const keyIndex = g.op(ms, 'Range', [zero, totalLen, one]);
  const queryIndex = g.op(ms, 'Unsqueeze', [
    g.op(ms, 'Range', [g.op(ms, 'Sub', [totalLen, seqLen]), totalLen, one]),
    g.ints(ms, [1]),
  ]);
  const causal = cast(ms, g.op(ms, 'LessOrEqual', [keyIndex, queryIndex]), TO_F32);
  const keyValid = g.op(ms, 'Unsqueeze', [cast(ms, 'attention_mask', TO_F32), g.ints(ms, [1, 2])]);
  const allowed = g.op(ms, 'Mul', [causal, keyValid]);
  const attnBias = g.op(ms, 'Mul', [
    g.op(ms, 'Sub', [allowed, g.scalar(ms, 1, 'float32')]),
    g.scalar(ms, -MASK_VALUE, 'float32'),
  ]);

  g.initializer({
    name: 'model.embed_tokens.weight',
    dims: [d.vocabSize, d.hiddenSize],
    elemType: T,
    data:
      T === 'float16'
        ? () => float16Array(source('model.embed_tokens.weight'))
        : () => source('model.embed_tokens.weight'),
  });
  let hidden = g.op('/model/embed_tokens', 'Gather', ['model.embed_tokens.weight', 'input_ids']);

  for (let i = 0; i < d.numLayers; i++) {
    const p = `/model/layers.${i}`;
    const pp = `model.layers.${i}`;
    const sa = `${p}/self_attn`;
    const x = rmsNorm(`${p}/input_layernorm`, hidden, `${pp}.input_layernorm.weight`);
    const cos = g.op(sa, 'Unsqueeze', [cosT, g.ints(sa, [1])]);
    const sin = g.op(sa, 'Unsqueeze', [sinT, g.ints(sa, [1])]);
    const heads = (y: string, n: number): string =>
      g.op(
        sa,
        'Transpose',
        [g.op(sa, 'Reshape', [y, g.ints(sa, [0, 0, n, hd])])],
        [['perm', { kind: 'ints', value: [0, 2, 1, 3] }]],
      );
    const rope = (y: string): string => {
      const axes = g.ints(sa, [3]);
      const y1 = g.op(sa, 'Slice', [y, g.ints(sa, [0]), g.ints(sa, [halfDim]), axes]);
      const y2 = g.op(sa, 'Slice', [y, g.ints(sa, [halfDim]), g.ints(sa, [hd]), axes]);
      const rotated = g.op(sa, 'Concat', [g.op(sa, 'Neg', [y2]), y1], [['axis', { kind: 'int', value: -1 }]]);
      return g.op(sa, 'Add', [g.op(sa, 'Mul', [y, cos]), g.op(sa, 'Mul', [rotated, sin])]);
    };
    const repeatKv = (y: string): string => {
      if (KV === H) return y;
      const expanded = g.op(sa, 'Expand', [
        g.op(sa, 'Unsqueeze', [y, g.ints(sa, [2])]),
        g.ints(sa, [1, 1, H / KV, 1, 1]),
      ]);
      return g.op(sa, 'Reshape', [expanded, g.ints(sa, [0, H, -1, hd])]);
    };
    const q = rope(heads(linear(`${sa}/q_proj`, x, `${pp}.self_attn.q_proj.weight`), H));
    const k = rope(heads(linear(`${sa}/k_proj`, x, `${pp}.self_attn.k_proj.weight`), KV));
    const v = heads(linear(`${sa}/v_proj`, x, `${pp}.self_attn.v_proj.weight`), KV);
    const presentK = g.op(
      sa,
      'Concat',
      [`past_key_values.${i}.key`, k],
      [['axis', { kind: 'int', value: -2 }]],
      `present.${i}.key`,
    );
    const presentV = g.op(
      sa,
      'Concat',
      [`past_key_values.${i}.value`, v],
      [['axis', { kind: 'int', value: -2 }]],
      `present.${i}.value`,
    );
    const kT = g.op(sa, 'Transpose', [repeatKv(presentK)], [['perm', { kind: 'ints', value: [0, 1, 3, 2] }]]);
    let scores = g.op(sa, 'Mul', [g.op(sa, 'MatMul', [q, kT]), g.scalar(sa, 1 / Math.sqrt(hd), T)]);
    if (T === 'float16') scores = cast(sa, scores, TO_F32);
    let probs = g.op(
      sa,
      'Softmax',
      [g.op(sa, 'Add', [scores, attnBias])],
      [['axis', { kind: 'int', value: -1 }]],
    );
    if (T === 'float16') probs = cast(sa, probs, TO_T);
    const context = g.op(sa, 'MatMul', [probs, repeatKv(presentV)]);
    const merged = g.op(sa, 'Reshape', [
      g.op(sa, 'Transpose', [context], [['perm', { kind: 'ints', value: [0, 2, 1, 3] }]]),
      g.ints(sa, [0, 0, H * hd]),
    ]);
    hidden = g.op(p, 'Add', [hidden, linear(`${sa}/o_proj`, merged, `${pp}.self_attn.o_proj.weight`)]);

    const x2 = rmsNorm(`${p}/post_attention_layernorm`, hidden, `${pp}.post_attention_layernorm.weight`);
    const mlp = `${p}/mlp`;
    const gate = linear(`${mlp}/gate_proj`, x2, `${pp}.mlp.gate_proj.weight`);
    const up = linear(`${mlp}/up_proj`, x2, `${pp}.mlp.up_proj.weight`);
    const act = g.op(`${mlp}/act_fn`, 'Mul', [gate, g.op(`${mlp}/act_fn`, 'Sigmoid', [gate])]);
    const down = linear(`${mlp}/down_proj`, g.op(mlp, 'Mul', [act, up]), `${pp}.mlp.down_proj.weight`);
    hidden = g.op(p, 'Add', [hidden, down]);
  }
  const finalNorm = rmsNorm('/model/norm', hidden, 'model.norm.weight');
  linear('/lm_head', finalNorm, 'lm_head.weight', 'logits');

  return { name: 'main_graph', nodes: g.nodes, initializers: g.initializers, ...optimumGraphIo(d, dtype) };
}
