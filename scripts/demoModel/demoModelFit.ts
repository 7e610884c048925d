/**
 * Closed-form fit of the demo pair. The base model is a real Llama decoder
 * whose output layer is least-squares fit to smoothed bigram log-probabilities
 * of corpus.md, reading the hidden states the network actually computes; the
 * fine-tune is a rank-r LoRA on lm_head fit (reduced-rank regression) to the
 * shift from corpus-only to corpus+document statistics. Attention and MLP
 * weights are seeded random and small, so they really compute but leave the
 * token identity readable at the last layer.
 */
import {
  addBigramCounts,
  centredLogProbTable,
  emptyBigramCounts,
  type SmoothingOptions,
} from './bigramTables.ts';
import { llamaWeightShapes, type LlamaDims, type LlamaWeights } from './demoModelConfig.ts';
import {
  at,
  cholesky,
  invertLower,
  matMul,
  matrix,
  symmetricEigen,
  topRightSingularVectors,
  transpose,
  type Matrix,
} from './linearAlgebra.ts';
import { referenceForward } from './referenceForward.ts';
import { createSeededRandom, type SeededRandom } from './seededRandom.ts';

export interface FitOptions {
  seed: number;
  smoothing: SmoothingOptions;
  /** Dimensions of the embedding given to bigram (SVD) features; the rest are token-identity noise, a constant and an RMS filler. */
  svdDims: number;
  identityDims: number;
  /** Residual-stream scale of each attention and MLP block's output. */
  blockOutputScale: number;
  /** Weight of the single-token "no context" samples that pin down rarely seen tokens. */
  isolatedTokenWeight: number;
  ridge: number;
  loraRank: number;
  loraAlpha: number;
  /** Count multiplier of document.md in the fine-tune's target statistics. */
  documentCountWeight: number;
  /** Weight of corpus positions in the LoRA fit (keeps generic text unchanged). */
  corpusWeightInLora: number;
}

export const DEFAULT_FIT_OPTIONS: FitOptions = {
  seed: 20250101,
  smoothing: { backoff: 1.5, unigramPrior: 0.05 },
  svdDims: 44,
  identityDims: 16,
  blockOutputScale: 0.15,
  isolatedTokenWeight: 0.3,
  ridge: 1e-3,
  loraRank: 8,
  loraAlpha: 16,
  documentCountWeight: 4,
  corpusWeightInLora: 1,
};

export interface LoraFactors {
  rank: number;
  alpha: number;
  /** lora_A: [rank, hidden] row-major. */
  a: Float32Array;
  /** lora_B: [vocab, rank] row-major. */
  b: Float32Array;
}

export interface DemoFit {
  base: LlamaWeights;
  ft: LlamaWeights;
  lora: LoraFactors;
}

function randomWeights(d: LlamaDims, rng: SeededRandom, opts: FitOptions): LlamaWeights {
  const w: LlamaWeights = new Map();
  for (const [name, shape] of llamaWeightShapes(d)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const fanIn = shape[1] ?? 1;
    let std = 1 / Math.sqrt(fanIn);
    // Block outputs: std chosen so each block adds about blockOutputScale RMS to the residual.
    if (name.endsWith('o_proj.weight')) std = opts.blockOutputScale / Math.sqrt(fanIn * 0.5);
    if (name.endsWith('down_proj.weight')) std = opts.blockOutputScale / Math.sqrt(fanIn * 0.25);
    if (name.endsWith('norm.weight')) data.fill(1);
    else if (name !== 'model.embed_tokens.weight' && name !== 'lm_head.weight') {
      for (let i = 0; i < size; i++) data[i] = rng.normal() * std;
    }
    w.set(name, data);
  }
  return w;
}

/**
 * Embedding rows [svd features, identity noise, constant, filler] with RMS exactly 1,
 * so the first RMSNorm passes them through unchanged and the constant acts as a bias.
 */
function buildEmbedding(
  d: LlamaDims,
  table: Float64Array,
  rowWeight: Float64Array,
  rng: SeededRandom,
  opts: FitOptions,
): Float32Array {
  const V = d.vocabSize;
  const D = d.hiddenSize;
  const weighted = matrix(V, V);
  for (let x = 0; x < V; x++) {
    const s = Math.sqrt(rowWeight[x] as number);
    for (let y = 0; y < V; y++) weighted.data[x * V + y] = s * (table[x * V + y] as number);
  }
  const q = topRightSingularVectors(weighted, opts.svdDims, 6, rng);
  const features = matMul({ rows: V, cols: V, data: table }, q);
  let maxNorm = 0;
  for (let x = 0; x < V; x++) {
    let n = 0;
    for (let j = 0; j < opts.svdDims; j++) n += at(features, x, j) ** 2;
    maxNorm = Math.max(maxNorm, n);
  }
  const budget = D; // squared norm of a row with RMS 1
  const featureScale = Math.sqrt((0.55 * budget) / maxNorm);
  const identityStd = Math.sqrt((0.2 * budget) / opts.identityDims);
  const constant = Math.sqrt(0.1 * budget);
  const emb = new Float32Array(V * D);
  for (let x = 0; x < V; x++) {
    const row = new Float64Array(D);
    for (let j = 0; j < opts.svdDims; j++) row[j] = at(features, x, j) * featureScale;
    for (let j = 0; j < opts.identityDims; j++)
      row[opts.svdDims + j] = Math.max(-3, Math.min(3, rng.normal())) * identityStd;
    row[D - 2] = constant;
    let used = 0;
    for (let j = 0; j < D - 1; j++) used += (row[j] as number) ** 2;
    row[D - 1] = Math.sqrt(Math.max(0, budget - used));
    for (let j = 0; j < D; j++) emb[x * D + j] = row[j] as number;
  }
  return emb;
}

/** Weighted second moments of hidden states, grouped by the current token. */
interface HiddenMoments {
  /** Σ w z zᵀ, [hidden, hidden]. */
  gram: Matrix;
  /** Σ_{t: x_t = x} w z_t, [vocab, hidden]. */
  sumByToken: Matrix;
}

function hiddenMoments(
  d: LlamaDims,
  samples: { token: number; z: Float64Array; weight: number }[],
): HiddenMoments {
  const D = d.hiddenSize;
  const gram = matrix(D, D);
  const sumByToken = matrix(d.vocabSize, D);
  for (const { token, z, weight } of samples) {
    for (let i = 0; i < D; i++) {
      const zi = (z[i] as number) * weight;
      sumByToken.data[token * D + i] = (sumByToken.data[token * D + i] as number) + zi;
      for (let j = 0; j < D; j++)
        gram.data[i * D + j] = (gram.data[i * D + j] as number) + zi * (z[j] as number);
    }
  }
  return { gram, sumByToken };
}

function addRidge(gram: Matrix, ridge: number): Matrix {
  const out = { rows: gram.rows, cols: gram.cols, data: Float64Array.from(gram.data) };
  let trace = 0;
  for (let i = 0; i < gram.rows; i++) trace += at(gram, i, i);
  for (let i = 0; i < gram.rows; i++)
    out.data[i * gram.cols + i] = (out.data[i * gram.cols + i] as number) + (ridge * trace) / gram.rows;
  return out;
}

function hiddenSamples(
  d: LlamaDims,
  w: LlamaWeights,
  sequences: number[][],
  weight: number,
): { token: number; z: Float64Array; weight: number }[] {
  const out: { token: number; z: Float64Array; weight: number }[] = [];
  for (const seq of sequences) {
    const { finalHidden } = referenceForward(d, w, { inputIds: [seq], attentionMask: [seq.map(() => 1)] });
    const zs = finalHidden[0] ?? [];
    // The last token has no successor to predict.
    for (let t = 0; t + 1 < seq.length; t++)
      out.push({ token: seq[t] as number, z: zs[t] as Float64Array, weight });
  }
  return out;
}

function tableMatrix(V: number, table: Float64Array): Matrix {
  return { rows: V, cols: V, data: table };
}

export function fitDemoModels(
  d: LlamaDims,
  corpus: number[][],
  document: number[][],
  opts: FitOptions = DEFAULT_FIT_OPTIONS,
): DemoFit {
  const V = d.vocabSize;
  const D = d.hiddenSize;
  const rng = createSeededRandom(opts.seed);

  const baseCounts = emptyBigramCounts(V);
  addBigramCounts(baseCounts, corpus, 1);
  const baseTable = centredLogProbTable(baseCounts, opts.smoothing);
  const rowWeight = baseCounts.from.map((c) => c + 1);

  const base = randomWeights(d, rng, opts);
  base.set('model.embed_tokens.weight', buildEmbedding(d, baseTable, rowWeight, rng, opts));
  base.set('lm_head.weight', new Float32Array(V * D));

  // [x, x] yields one sample: token x alone at position 0 (the second x is only its successor slot).
  const isolated = hiddenSamples(
    d,
    base,
    Array.from({ length: V }, (_, x) => [x, x]),
    opts.isolatedTokenWeight,
  );
  const corpusSamples = hiddenSamples(d, base, corpus, 1);

  // lm_head = argmin Σ w ‖W z − T[x]‖² + ridge: W = (Σ w T[x] zᵀ)(Σ w z zᵀ + λI)⁻¹.
  const baseMoments = hiddenMoments(d, [...corpusSamples, ...isolated]);
  const baseGram = addRidge(baseMoments.gram, opts.ridge);
  const baseL = cholesky(baseGram);
  const baseLinv = invertLower(baseL);
  const gramInv = matMul(baseLinv, baseLinv, true);
  const rhs = matMul(tableMatrix(V, baseTable), baseMoments.sumByToken, true);
  const lmHead = matMul(rhs, gramInv);
  const lmHead32 = Float32Array.from(lmHead.data);
  base.set('lm_head.weight', lmHead32);

  // Fine-tune target: corpus plus up-weighted document counts.
  const ftCounts = emptyBigramCounts(V);
  addBigramCounts(ftCounts, corpus, 1);
  addBigramCounts(ftCounts, document, opts.documentCountWeight);
  const ftTable = centredLogProbTable(ftCounts, opts.smoothing);

  const documentSamples = hiddenSamples(d, base, document, 1);
  const loraSamples = [
    ...documentSamples,
    ...corpusSamples.map((s) => ({ ...s, weight: opts.corpusWeightInLora })),
    ...isolated,
  ];
  const m = hiddenMoments(d, loraSamples);
  // Base logits centred over the vocabulary, matching the centred target rows.
  const centred = matrix(V, D);
  for (let j = 0; j < D; j++) {
    let mean = 0;
    for (let y = 0; y < V; y++) mean += lmHead32[y * D + j] as number;
    mean /= V;
    for (let y = 0; y < V; y++) centred.data[y * D + j] = (lmHead32[y * D + j] as number) - mean;
  }
  // Σ w (T_ft[x] − W_c z) zᵀ = T_ftᵀ·sumByToken − W_c·gram (T indexed [x][y], so transpose).
  const target = matMul(tableMatrix(V, ftTable), m.sumByToken, true);
  const explained = matMul(centred, m.gram);
  for (let i = 0; i < target.data.length; i++)
    target.data[i] = (target.data[i] as number) - (explained.data[i] as number);

  // Reduced-rank regression: with G = L Lᵀ, the best rank-r M minimises ‖(M − M_full) L‖,
  // so truncate the SVD of M_full·L = target·L⁻ᵀ.
  const gram = addRidge(m.gram, opts.ridge);
  const L = cholesky(gram);
  const Linv = invertLower(L);
  const whitened = matMul(target, transpose(Linv));
  const { vectors } = symmetricEigen(matMul(whitened, whitened, true));
  const r = opts.loraRank;
  const Qr = matrix(D, r);
  for (let i = 0; i < D; i++) for (let j = 0; j < r; j++) Qr.data[i * r + j] = at(vectors, i, j);
  const bFull = matMul(whitened, Qr); // [V, r]
  const aFull = matMul(Qr, Linv, true); // [r, D]

  const scaling = opts.loraAlpha / r;
  let normA = 0;
  let normB = 0;
  for (const v of aFull.data) normA += v * v;
  for (const v of bFull.data) normB += v * v;
  // Split the product so lora_A and lora_B have equal Frobenius norms.
  const c = Math.sqrt(Math.sqrt(normB) / (scaling * Math.sqrt(normA)));
  const a = Float32Array.from(aFull.data, (v) => v * c);
  const b = Float32Array.from(bFull.data, (v) => v / (scaling * c));

  const ft: LlamaWeights = new Map(base);
  ft.set('lm_head.weight', mergeLora(lmHead32, { rank: r, alpha: opts.loraAlpha, a, b }, V, D));
  return { base, ft, lora: { rank: r, alpha: opts.loraAlpha, a, b } };
}

/** W + (alpha / r)·B·A for a [out, in] weight, in float64 then rounded once. */
export function mergeLora(
  weight: Float32Array,
  lora: LoraFactors,
  outDim: number,
  inDim: number,
): Float32Array {
  const scaling = lora.alpha / lora.rank;
  const out = new Float32Array(weight.length);
  for (let o = 0; o < outDim; o++) {
    for (let i = 0; i < inDim; i++) {
      let s = 0;
      for (let k = 0; k < lora.rank; k++)
        s += (lora.b[o * lora.rank + k] as number) * (lora.a[k * inDim + i] as number);
      out[o * inDim + i] = (weight[o * inDim + i] as number) + scaling * s;
    }
  }
  return out;
}
