// Runtime LoRA through openPair on the zoo's Optimum-layout model (Node CPU): a PEFT adapter folder
// (adapter_config.json + adapter_model.safetensors) on every projection (q, k, v, o, gate, up, down)
// and lm_head, opened on the fp32, q4 (MatMulNBits), fp16 and q4f16 exports. Views go through
// transformers.js with lora_scale and the adapter tensors fed per run (float16 tensors on the fp16
// files): the ft view's top-5 against the float64 reference forward of W + s·B·A, the base view's
// against the plain base's reference, scaled_2.00 against W + 2·s·B·A. Measured (top-5 logprobs, 2 prompts):
// fp32 4.1e-6, q4 5.2e-6, fp16 3.5e-3, q4f16 5.2e-3 (ft; base alone 3.1e-6 / 4.3e-6 / 5.1e-3 / 4.1e-3).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAdapterConfig } from '../../src/adapter/adapterConfig.ts';
import { loraModules, PEFT_PREFIX, type LoraModule } from '../../src/adapter/adapterWeights.ts';
import { decodeSafetensors } from '../../src/adapter/safetensors.ts';
import { isScalable, openPair, type DifferentialBackend, type ScoringView } from '../../src/backend/index.ts';
import type { LlamaDims, LlamaWeights } from '../../scripts/demoModel/demoModelConfig.ts';
import { logSoftmax, referenceForward } from '../../scripts/demoModel/referenceForward.ts';
import { createSeededRandom } from '../../scripts/demoModel/seededRandom.ts';
import { benchTokenizerFiles } from '../../scripts/demoModel/zoo/benchTokenizer.ts';
import type { ZooDtype } from '../../scripts/demoModel/zoo/optimumLlama.ts';
import { ZOO_DIMS, zooEntry, zooReferenceWeights } from '../../scripts/demoModel/zoo/zooModels.ts';
import { encodeSafetensors } from '../adapter/safetensorsEncode.ts';
import { compareTopK, ensureZoo, topKOf, zooDir, type TopK } from '../zoo/zooReference.ts';

const PROJECTIONS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const PROMPTS = ['hello world', 'the keeper of'];
/** As optimumZoo.test.ts: each file against its own reference. */
const TOL: Record<ZooDtype, number> = { fp32: 1e-4, q4: 1e-4, fp16: 3e-2, q4f16: 3e-2 };
const CONFIG = {
  peft_type: 'LORA',
  r: 4,
  lora_alpha: 8,
  rank_pattern: { v_proj: 2 },
  alpha_pattern: { lm_head: 3 },
  target_modules: [...PROJECTIONS, 'lm_head'],
  bias: 'none',
};

const scratch = mkdtempSync(join(tmpdir(), 'deltascope-adapter-zoo-'));
let adapterDir: string;
let modules: LoraModule[];

/** HF [out, in] shape of each adapted module. */
function moduleShapes(d: LlamaDims): Map<string, [number, number]> {
  const q = d.numHeads * d.headDim;
  const kv = d.numKvHeads * d.headDim;
  const shape: Record<string, [number, number]> = {
    q_proj: [q, d.hiddenSize],
    k_proj: [kv, d.hiddenSize],
    v_proj: [kv, d.hiddenSize],
    o_proj: [d.hiddenSize, q],
    gate_proj: [d.intermediateSize, d.hiddenSize],
    up_proj: [d.intermediateSize, d.hiddenSize],
    down_proj: [d.hiddenSize, d.intermediateSize],
  };
  const out = new Map<string, [number, number]>();
  for (let i = 0; i < d.numLayers; i++)
    for (const p of PROJECTIONS)
      out.set(
        `model.layers.${i}.${p.startsWith('gate') || p.startsWith('up') || p.startsWith('down') ? 'mlp' : 'self_attn'}.${p}`,
        shape[p]!,
      );
  out.set('lm_head', [d.vocabSize, d.hiddenSize]);
  return out;
}

/** A seeded, trained-looking adapter (B not zero) written as a PEFT folder; returns its modules. */
function writeAdapter(dir: string, d: LlamaDims): LoraModule[] {
  const rnd = createSeededRandom(11);
  const tensors: Parameters<typeof encodeSafetensors>[0] = [];
  for (const [key, [out, inp]] of moduleShapes(d)) {
    const r = key.endsWith('v_proj') ? 2 : 4;
    const a = Array.from({ length: r * inp }, () => rnd.normal() / Math.sqrt(inp));
    const b = Array.from({ length: out * r }, () => 0.005 * rnd.normal());
    tensors.push([`${PEFT_PREFIX}${key}.lora_A.weight`, { dtype: 'F32', shape: [r, inp], values: a }]);
    tensors.push([`${PEFT_PREFIX}${key}.lora_B.weight`, { dtype: 'F32', shape: [out, r], values: b }]);
  }
  const bytes = encodeSafetensors(tensors);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(CONFIG));
  writeFileSync(join(dir, 'adapter_model.safetensors'), bytes);
  return loraModules(parseAdapterConfig(CONFIG), decodeSafetensors(bytes).tensors);
}

/** `w` with every module's W replaced by W + λ·s·B·A (float64 sums). */
function merged(w: LlamaWeights, lambda: number): LlamaWeights {
  const out: LlamaWeights = new Map(w);
  for (const m of modules) {
    const W = w.get(`${m.key}.weight`)!;
    const next = new Float32Array(W.length);
    for (let o = 0; o < m.outFeatures; o++)
      for (let i = 0; i < m.inFeatures; i++) {
        let delta = 0;
        for (let k = 0; k < m.rank; k++) delta += m.b[o * m.rank + k]! * m.a[k * m.inFeatures + i]!;
        next[o * m.inFeatures + i] = W[o * m.inFeatures + i]! + lambda * m.scale * delta;
      }
    out.set(`${m.key}.weight`, next);
  }
  return out;
}

const tokenizer = (() => {
  const files = benchTokenizerFiles(ZOO_DIMS.vocabSize, ZOO_DIMS.maxPositions);
  return new PreTrainedTokenizer(files.tokenizer, files.config);
})();

function referenceTop5(w: LlamaWeights, prompt: string): TopK {
  const ids = tokenizer.encode(prompt, { add_special_tokens: true });
  const out = referenceForward(ZOO_DIMS, w, { inputIds: [ids], attentionMask: [ids.map(() => 1)] });
  const row = logSoftmax(out.logits[0]!.at(-1)!);
  const order = [...row.keys()].sort((a, b) => row[b]! - row[a]!).slice(0, 5);
  return { ids: order, logprobs: order.map((i) => row[i]!) };
}

beforeAll(async () => {
  await ensureZoo();
  adapterDir = join(scratch, 'adapter');
  modules = writeAdapter(adapterDir, ZOO_DIMS);
}, 120_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('runtime LoRA on every projection of the Optimum zoo model, through openPair', () => {
  for (const dtype of ['fp32', 'q4', 'fp16', 'q4f16'] as const) {
    it(`${dtype}: base, ft and scaled_2.00 views against the float64 reference`, async () => {
      const base = { kind: 'dir' as const, path: zooDir('optimum-llama') };
      const pair: DifferentialBackend = await openPair(
        { kind: 'pair', base, ft: { kind: 'adapter', base, adapter: { kind: 'dir', path: adapterDir } } },
        { dtype, warmup: false },
      );
      try {
        if (!isScalable(pair)) throw new Error('expected scaled views');
        const w = zooReferenceWeights(zooEntry('optimum-llama'), dtype);
        const cases: [string, ScoringView, LlamaWeights][] = [
          ['base', pair.base, w],
          ['ft', pair.ft, merged(w, 1)],
          ['scaled_2.00', pair.scaledView(2), merged(w, 2)],
        ];
        let moved = 0;
        for (const prompt of PROMPTS) {
          const baseRef = referenceTop5(w, prompt);
          for (const [name, view, weights] of cases) {
            const ref = referenceTop5(weights, prompt);
            const cmp = compareTopK(
              topKOf(await view.nextTokenDist(prompt, { topK: 50 }), 5),
              ref,
              TOL[dtype],
            );
            expect(cmp.maxDiff, `${dtype} ${name}: ${prompt}`).toBeLessThan(TOL[dtype]);
            expect(cmp.orderOk, `${dtype} ${name}: ${prompt}`).toBe(true);
            if (name !== 'base')
              moved = Math.max(moved, ...ref.logprobs.map((lp, k) => Math.abs(lp - baseRef.logprobs[k]!)));
          }
        }
        // The adapter moves the distribution far more than the tolerance: the check has teeth.
        expect(moved).toBeGreaterThan(5 * TOL[dtype]);
      } finally {
        await pair.dispose();
      }
    }, 120_000);
  }
});
