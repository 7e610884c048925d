/**
 * An independent plain-TypeScript forward pass of the demo Llama model (no
 * onnxruntime), in float64 arithmetic over the float32 weights. It is the
 * yardstick the ONNX graph is tested against, and the builder uses it to read
 * the hidden states it fits the output layers to.
 */
import { ropeTables, type LlamaDims, type LlamaWeights } from './demoModelConfig.ts';
import { MASK_VALUE } from './llamaOnnxGraph.ts';

export interface ReferenceBatch {
  inputIds: number[][];
  attentionMask: number[][];
  /** Defaults to what transformers.js derives: cumulative sum of the mask, padded slots get 1. */
  positionIds?: number[][];
}

export interface ReferenceOutput {
  /** [batch][seq] → Float64Array(vocab). */
  logits: Float64Array[][];
  /** [batch][seq] → final RMSNorm output (the lm_head input), Float64Array(hidden). */
  finalHidden: Float64Array[][];
}

export function defaultPositionIds(mask: number[]): number[] {
  let sum = 0;
  return mask.map((m) => {
    if (m === 0) return 1;
    return sum++;
  });
}

function tensor(w: LlamaWeights, name: string): Float32Array {
  const t = w.get(name);
  if (!t) throw new Error(`referenceForward: weight ${name} is missing`);
  return t;
}

/** y = W x for an HF-orientation [out, in] matrix. */
export function linear(W: Float32Array, x: Float64Array, outDim: number): Float64Array {
  const inDim = x.length;
  const y = new Float64Array(outDim);
  for (let o = 0; o < outDim; o++) {
    let s = 0;
    const base = o * inDim;
    for (let i = 0; i < inDim; i++) s += (W[base + i] as number) * (x[i] as number);
    y[o] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, weight: Float32Array, eps: number): Float64Array {
  let ms = 0;
  for (const v of x) ms += v * v;
  const inv = 1 / Math.sqrt(ms / x.length + eps);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = (x[i] as number) * inv * (weight[i] as number);
  return y;
}

function applyRope(
  x: Float64Array,
  heads: number,
  hd: number,
  cos: Float32Array,
  sin: Float32Array,
  pos: number,
): void {
  const half = hd / 2;
  for (let h = 0; h < heads; h++) {
    const o = h * hd;
    const rotated = new Float64Array(hd);
    for (let i = 0; i < half; i++) {
      rotated[i] = -(x[o + half + i] as number);
      rotated[half + i] = x[o + i] as number;
    }
    for (let i = 0; i < hd; i++) {
      const t = pos * hd + i;
      x[o + i] = (x[o + i] as number) * (cos[t] as number) + (rotated[i] as number) * (sin[t] as number);
    }
  }
}

export function referenceForward(d: LlamaDims, w: LlamaWeights, batch: ReferenceBatch): ReferenceOutput {
  const { cos, sin } = ropeTables(d);
  const H = d.numHeads;
  const KV = d.numKvHeads;
  const hd = d.headDim;
  const rep = H / KV;
  const scale = 1 / Math.sqrt(hd);
  const logits: Float64Array[][] = [];
  const finalHidden: Float64Array[][] = [];

  batch.inputIds.forEach((ids, b) => {
    const mask = batch.attentionMask[b] ?? [];
    const pos = batch.positionIds?.[b] ?? defaultPositionIds(mask);
    const S = ids.length;
    const embed = tensor(w, 'model.embed_tokens.weight');
    let hidden = ids.map((id) =>
      Float64Array.from(embed.subarray(id * d.hiddenSize, (id + 1) * d.hiddenSize)),
    );

    for (let l = 0; l < d.numLayers; l++) {
      const p = `model.layers.${l}`;
      const xs = hidden.map((h) => rmsNorm(h, tensor(w, `${p}.input_layernorm.weight`), d.rmsNormEps));
      const qs = xs.map((x, s) => {
        const q = linear(tensor(w, `${p}.self_attn.q_proj.weight`), x, H * hd);
        applyRope(q, H, hd, cos, sin, pos[s] ?? 0);
        return q;
      });
      const ks = xs.map((x, s) => {
        const k = linear(tensor(w, `${p}.self_attn.k_proj.weight`), x, KV * hd);
        applyRope(k, KV, hd, cos, sin, pos[s] ?? 0);
        return k;
      });
      const vs = xs.map((x) => linear(tensor(w, `${p}.self_attn.v_proj.weight`), x, KV * hd));
      const oProj = tensor(w, `${p}.self_attn.o_proj.weight`);
      hidden = hidden.map((h, s) => {
        const merged = new Float64Array(H * hd);
        const q = qs[s] as Float64Array;
        for (let head = 0; head < H; head++) {
          const kvHead = Math.floor(head / rep);
          const scores = new Float64Array(S);
          for (let t = 0; t < S; t++) {
            const k = ks[t] as Float64Array;
            let dot = 0;
            for (let i = 0; i < hd; i++) dot += (q[head * hd + i] as number) * (k[kvHead * hd + i] as number);
            const score = Math.fround(dot * scale);
            const allowed = t <= s && mask[t] === 1;
            // The ONNX graph adds MASK_VALUE in float32; mimic the rounding so fully
            // masked rows (padding queries) come out uniform there as well.
            scores[t] = allowed ? score : Math.fround(score + MASK_VALUE);
          }
          let max = -Infinity;
          for (const v of scores) max = Math.max(max, v);
          let sum = 0;
          for (let t = 0; t < S; t++) {
            const e = Math.exp((scores[t] as number) - max);
            scores[t] = e;
            sum += e;
          }
          for (let t = 0; t < S; t++) {
            const pr = (scores[t] as number) / sum;
            const v = vs[t] as Float64Array;
            for (let i = 0; i < hd; i++)
              merged[head * hd + i] = (merged[head * hd + i] as number) + pr * (v[kvHead * hd + i] as number);
          }
        }
        const attnOut = linear(oProj, merged, d.hiddenSize);
        return h.map((v, i) => v + (attnOut[i] as number));
      });

      hidden = hidden.map((h) => {
        const x = rmsNorm(h, tensor(w, `${p}.post_attention_layernorm.weight`), d.rmsNormEps);
        const gate = linear(tensor(w, `${p}.mlp.gate_proj.weight`), x, d.intermediateSize);
        const up = linear(tensor(w, `${p}.mlp.up_proj.weight`), x, d.intermediateSize);
        const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * (up[i] as number));
        const down = linear(tensor(w, `${p}.mlp.down_proj.weight`), act, d.hiddenSize);
        return h.map((v, i) => v + (down[i] as number));
      });
    }
    const normed = hidden.map((h) => rmsNorm(h, tensor(w, 'model.norm.weight'), d.rmsNormEps));
    finalHidden.push(normed);
    logits.push(normed.map((x) => linear(tensor(w, 'lm_head.weight'), x, d.vocabSize)));
  });
  return { logits, finalHidden };
}

/** log-softmax of one logit row. */
export function logSoftmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i] as number);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp((row[i] as number) - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(row.length);
  for (let i = 0; i < row.length; i++) out[i] = (row[i] as number) - lse;
  return out;
}
