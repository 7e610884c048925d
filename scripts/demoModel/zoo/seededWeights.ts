/**
 * Seeded random Llama weights for the zoo and the bench model, produced one
 * tensor at a time (each tensor has its own seed derived from its name), so a
 * 135M-parameter model can be streamed to disk and regenerated later for the
 * reference forward without ever holding more than the tensor being written.
 *
 * The scales are chosen so the model behaves like a trained one in the ways
 * the benchmarks and tests care about: next-token distributions are peaked
 * (the top token typically holds tens of percent), attention is not uniform,
 * and no residual branch dominates the token's own embedding so much that the
 * model only repeats its input.
 */
import { seededRng } from '../../../src/core/statistics.ts';
import { llamaWeightShapes, type LlamaDims } from '../demoModelConfig.ts';

/** HF-orientation ([out, in] for linears) weights by parameter name, made on request. */
export type WeightSource = (name: string) => Float32Array;

export interface WeightScales {
  /** Standard deviation of the token embedding entries. */
  embedStd: number;
  /** Each residual branch (attention, MLP) adds about this many embedding-stds of output. */
  branchGain: number;
  /** Target standard deviation of the logits across the vocabulary (sets the final norm weight). */
  logitStd: number;
}

export const DEFAULT_WEIGHT_SCALES: WeightScales = { embedStd: 0.05, branchGain: 2, logitStd: 4.5 };

/** FNV-1a of the text, for per-tensor seeds. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Uniform in [-a, a) with a = std·√3 (same variance as a normal of that std, one draw per value). */
function uniformTensor(size: number, std: number, seed: number): Float32Array {
  const next = seededRng(seed);
  const a = std * Math.sqrt(3);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (2 * next() - 1) * a;
  return out;
}

/**
 * The weights of a Llama of these dims, seeded. `lm_head.weight` is the
 * embedding when `tied` (SmolLM2 ties them). Shapes are HF's.
 */
export function seededLlamaWeights(
  d: LlamaDims,
  seed: number,
  opts: { tied: boolean; scales?: WeightScales },
): WeightSource {
  const s = opts.scales ?? DEFAULT_WEIGHT_SCALES;
  const shapes = new Map(llamaWeightShapes(d));
  const mlpActStd = 0.6; // std of silu(g)·u for g, u ~ N(0, 1)
  const branchStd = s.branchGain * s.embedStd;
  const finalNorm = s.logitStd / (s.embedStd * Math.sqrt(d.hiddenSize));
  const stdOf = (name: string): number => {
    if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') return s.embedStd;
    if (/(q_proj|k_proj|v_proj|gate_proj|up_proj)\.weight$/.test(name)) return 1 / Math.sqrt(d.hiddenSize);
    if (name.endsWith('o_proj.weight')) return branchStd / Math.sqrt(d.numHeads * d.headDim);
    if (name.endsWith('down_proj.weight')) return branchStd / (Math.sqrt(d.intermediateSize) * mlpActStd);
    throw new Error(`seededLlamaWeights: no scale for ${name}`);
  };
  return (requested: string): Float32Array => {
    const name = opts.tied && requested === 'lm_head.weight' ? 'model.embed_tokens.weight' : requested;
    const shape = shapes.get(name);
    if (!shape) throw new Error(`seededLlamaWeights: unknown weight ${requested}`);
    const size = shape.reduce((a, b) => a * b, 1);
    const tensorSeed = hash32(`${seed}:${name}`);
    if (name.endsWith('layernorm.weight') || name === 'model.norm.weight') {
      // Around 1 (the final norm around the gain that sets the logit scale), ±10%.
      const centre = name === 'model.norm.weight' ? finalNorm : 1;
      const jitter = uniformTensor(size, 0.1 / Math.sqrt(3), tensorSeed);
      return jitter.map((j) => centre * (1 + j));
    }
    return uniformTensor(size, stdOf(name), tensorSeed);
  };
}

/** Every weight in a Map (the reference forward wants them all; small models and tests only). */
export function materializeWeights(
  d: LlamaDims,
  source: WeightSource,
  tied: boolean,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name] of llamaWeightShapes(d)) {
    if (tied && name === 'lm_head.weight') continue;
    out.set(name, source(name));
  }
  if (tied) out.set('lm_head.weight', out.get('model.embed_tokens.weight') as Float32Array);
  return out;
}
