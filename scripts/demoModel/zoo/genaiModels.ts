/**
 * Model folders in the onnx-community / ORT GenAI builder layout (see
 * `genaiGraph.ts`): a base and a fine-tune per attention layout, each the
 * hub's file set (config.json, generation_config.json, the demo's tokenizer,
 * onnx/model.onnx), generated from seeded weights in well under a second.
 *
 *   npx tsx scripts/demoModel/zoo/genaiModels.ts <outDir>
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  DEMO_DIMS,
  generationConfigJson,
  llamaConfigJson,
  llamaWeightShapes,
  type LlamaDims,
  type LlamaWeights,
} from '../demoModelConfig.ts';
import { createSeededRandom } from '../seededRandom.ts';
import { encodeGenaiOnnx, type GenaiAttentionLayout, type GenaiGraphOptions } from './genaiGraph.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The tokenizer files are the demo pair's: the zoo's dims share its 768-token vocabulary. */
const TOKENIZER_DIR = join(REPO_ROOT, 'public', 'models', 'deltascope-demo', 'base');
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];

/** The demo's dims: 2 layers, 4 query / 2 KV heads (grouped-query attention), vocabulary 768. */
export const GENAI_DIMS: LlamaDims = DEMO_DIMS;

export const GENAI_LAYOUTS = {
  /** q/k/v_proj MatMuls + RotaryEmbedding nodes + position_ids input. */
  'genai-unfused': { attention: 'unfused' },
  /** One qkv_proj MatMul as packed GQA input, rotary inside GQA, no position_ids. */
  'genai-qkv': { attention: 'packed' },
  /** qkv_proj MatMul then Split into Q, K, V; rotary inside GQA, no position_ids. */
  'genai-qkv-split': { attention: 'packedSplit' },
  /** The packed layout with the builder's newer symbolic KV-cache last dim (`kv_cache_dim`). */
  'genai-qkv-kvdim': { attention: 'packed', kvLastDim: 'kv_cache_dim' },
} as const satisfies Record<string, GenaiGraphOptions>;
export type GenaiLayoutName = keyof typeof GENAI_LAYOUTS;

/**
 * Seeded HF-orientation weights with next-token distributions that are peaked rather than
 * uniform (lm_head is scaled up). `ftSeed` perturbs every matrix a little: the fine-tune.
 */
export function genaiWeights(d: LlamaDims, seed: number, ftSeed?: number): LlamaWeights {
  const rnd = createSeededRandom(seed);
  const ft = ftSeed === undefined ? null : createSeededRandom(ftSeed);
  const w: LlamaWeights = new Map();
  for (const [name, shape] of llamaWeightShapes(d)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNorm = shape.length === 1;
    const fanIn = shape[1] ?? 1;
    const std = isNorm
      ? 0.1
      : name === 'lm_head.weight'
        ? 4 / Math.sqrt(fanIn)
        : name.includes('embed')
          ? 1
          : 1 / Math.sqrt(fanIn);
    for (let i = 0; i < n; i++) {
      const base = (isNorm ? 1 : 0) + std * rnd.normal();
      data[i] = ft ? base + 0.15 * std * ft.normal() : base;
    }
    w.set(name, data);
  }
  return w;
}

export const GENAI_SEEDS = { base: 1101, ft: 2202 } as const;

export interface GenaiPairDirs {
  base: string;
  ft: string;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * int4 accuracy level of `onnx/model_q4.onnx`: 4, as in the builder's CPU int4 models on the hub
 * (`cpu-int4-rtn-block-32-acc-level-4`): MatMulNBits quantizes the activations to int8 on CPU.
 */
export const GENAI_Q4_ACCURACY_LEVEL = 4;

/**
 * Writes one model folder in the hub layout transformers.js reads: `onnx/model.onnx` (fp32),
 * `onnx/model_q4.onnx` (the same graph with MatMulNBits weights, what `dtype: 'q4'` opens),
 * `onnx/model_fp16.onnx` and `onnx/model_q4f16.onnx` (the builder's fp16 io dtype: float16
 * weights, KV cache and logits).
 */
export function writeGenaiModel(
  dir: string,
  d: LlamaDims,
  w: LlamaWeights,
  opts: GenaiGraphOptions,
  note: string,
): void {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), json(llamaConfigJson(d)));
  writeFileSync(join(dir, 'generation_config.json'), json(generationConfigJson()));
  for (const f of TOKENIZER_FILES) copyFileSync(join(TOKENIZER_DIR, f), join(dir, f));
  writeFileSync(join(dir, 'onnx', 'model.onnx'), encodeGenaiOnnx(d, w, opts, note));
  const q4 = { ...opts, q4: { accuracyLevel: GENAI_Q4_ACCURACY_LEVEL } };
  writeFileSync(join(dir, 'onnx', 'model_q4.onnx'), encodeGenaiOnnx(d, w, q4, `${note}, int4 block 32`));
  writeFileSync(
    join(dir, 'onnx', 'model_fp16.onnx'),
    encodeGenaiOnnx(d, w, { ...opts, float16: true }, `${note}, fp16`),
  );
  writeFileSync(
    join(dir, 'onnx', 'model_q4f16.onnx'),
    encodeGenaiOnnx(d, w, { ...q4, float16: true }, `${note}, int4 block 32, fp16`),
  );
}

/**
 * Writes `<outDir>/<layout>/{base,ft}` for each layout asked for (all by default) and returns the
 * folders: what the zoo's browser tests serve and what the Node tests open with `openPair`.
 */
export function writeGenaiZoo(
  outDir: string,
  layouts: readonly GenaiLayoutName[] = Object.keys(GENAI_LAYOUTS) as GenaiLayoutName[],
): Record<GenaiLayoutName, GenaiPairDirs> {
  const base = genaiWeights(GENAI_DIMS, GENAI_SEEDS.base);
  const ft = genaiWeights(GENAI_DIMS, GENAI_SEEDS.base, GENAI_SEEDS.ft);
  const out = {} as Record<GenaiLayoutName, GenaiPairDirs>;
  for (const name of layouts) {
    const opts: GenaiGraphOptions = GENAI_LAYOUTS[name];
    const dirs = { base: join(outDir, name, 'base'), ft: join(outDir, name, 'ft') };
    const attention: GenaiAttentionLayout = opts.attention;
    writeGenaiModel(
      dirs.base,
      GENAI_DIMS,
      base,
      opts,
      `deltascope zoo ${name} base (ORT GenAI builder layout, ${attention})`,
    );
    writeGenaiModel(
      dirs.ft,
      GENAI_DIMS,
      ft,
      opts,
      `deltascope zoo ${name} fine-tune (ORT GenAI builder layout, ${attention})`,
    );
    out[name] = dirs;
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = resolve(process.argv[2] ?? 'genai-zoo');
  const dirs = writeGenaiZoo(outDir);
  for (const [name, d] of Object.entries(dirs)) console.log(`${name}: ${d.base} ${d.ft}`);
}
