/**
 * Sizes of the demo Llama model and the hub-style JSON files derived from them.
 * One place, so the builder, the ONNX graph and the reference forward agree.
 */
export interface LlamaDims {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  maxPositions: number;
  rmsNormEps: number;
  ropeTheta: number;
}

export const SPECIAL_TOKENS = { pad: '<pad>', bos: '<s>', eos: '</s>' } as const;
export const PAD_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;

export const DEMO_DIMS: LlamaDims = {
  vocabSize: 768,
  hiddenSize: 64,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  intermediateSize: 128,
  maxPositions: 512,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
};

/** HF parameter names with their HF ([out, in]) shapes, in a fixed order. */
export function llamaWeightShapes(d: LlamaDims): [string, number[]][] {
  const shapes: [string, number[]][] = [['model.embed_tokens.weight', [d.vocabSize, d.hiddenSize]]];
  const qDim = d.numHeads * d.headDim;
  const kvDim = d.numKvHeads * d.headDim;
  for (let i = 0; i < d.numLayers; i++) {
    const p = `model.layers.${i}`;
    shapes.push(
      [`${p}.input_layernorm.weight`, [d.hiddenSize]],
      [`${p}.self_attn.q_proj.weight`, [qDim, d.hiddenSize]],
      [`${p}.self_attn.k_proj.weight`, [kvDim, d.hiddenSize]],
      [`${p}.self_attn.v_proj.weight`, [kvDim, d.hiddenSize]],
      [`${p}.self_attn.o_proj.weight`, [d.hiddenSize, qDim]],
      [`${p}.post_attention_layernorm.weight`, [d.hiddenSize]],
      [`${p}.mlp.gate_proj.weight`, [d.intermediateSize, d.hiddenSize]],
      [`${p}.mlp.up_proj.weight`, [d.intermediateSize, d.hiddenSize]],
      [`${p}.mlp.down_proj.weight`, [d.hiddenSize, d.intermediateSize]],
    );
  }
  shapes.push(['model.norm.weight', [d.hiddenSize]], ['lm_head.weight', [d.vocabSize, d.hiddenSize]]);
  return shapes;
}

/** Linear layers are stored transposed ([in, out]) in the ONNX file so MatMul needs no Transpose. */
export function isLinearWeight(name: string): boolean {
  return name.endsWith('_proj.weight') || name === 'lm_head.weight';
}

/** HF-orientation weights by parameter name. */
export type LlamaWeights = Map<string, Float32Array>;

export function llamaConfigJson(d: LlamaDims): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: BOS_ID,
    eos_token_id: EOS_ID,
    head_dim: d.headDim,
    hidden_act: 'silu',
    hidden_size: d.hiddenSize,
    initializer_range: 0.02,
    intermediate_size: d.intermediateSize,
    max_position_embeddings: d.maxPositions,
    mlp_bias: false,
    model_type: 'llama',
    num_attention_heads: d.numHeads,
    num_hidden_layers: d.numLayers,
    num_key_value_heads: d.numKvHeads,
    pad_token_id: PAD_ID,
    pretraining_tp: 1,
    rms_norm_eps: d.rmsNormEps,
    rope_scaling: null,
    rope_theta: d.ropeTheta,
    tie_word_embeddings: false,
    torch_dtype: 'float32',
    // Only onnx/model.onnx (fp32) exists; this makes it transformers.js' default for every device.
    'transformers.js_config': { dtype: 'fp32' },
    transformers_version: '4.46.0',
    use_cache: true,
    vocab_size: d.vocabSize,
  };
}

export function generationConfigJson(): Record<string, unknown> {
  return {
    bos_token_id: BOS_ID,
    eos_token_id: EOS_ID,
    pad_token_id: PAD_ID,
    transformers_version: '4.46.0',
  };
}

/** Rotary tables exactly as HF Llama builds them: emb = cat(freqs, freqs). */
export function ropeTables(d: LlamaDims): { cos: Float32Array; sin: Float32Array } {
  const half = d.headDim / 2;
  const cos = new Float32Array(d.maxPositions * d.headDim);
  const sin = new Float32Array(d.maxPositions * d.headDim);
  for (let p = 0; p < d.maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      // HF computes inv_freq in float32; do the same so the tables match a torch export.
      const invFreq = Math.fround(1 / Math.pow(d.ropeTheta, (2 * i) / d.headDim));
      const angle = Math.fround(p * invFreq);
      for (const j of [i, i + half]) {
        cos[p * d.headDim + j] = Math.cos(angle);
        sin[p * d.headDim + j] = Math.sin(angle);
      }
    }
  }
  return { cos, sin };
}
