/**
 * The model zoo: tiny Llama models in the export layouts people load, written
 * as hub-layout folders in seconds (tests generate them into a cache folder;
 * nothing is committed). Each entry's weights are seeded, so a test can
 * rebuild exactly what a file's graph computes with (`zooReferenceWeights`)
 * and run the float64 reference forward on it.
 *
 *   optimum-llama        tied embeddings; model.onnx, model_fp16.onnx,
 *                        model_q4.onnx, model_q4f16.onnx (q4: transformers.js's
 *                        preset, block 32 symmetric, no zero points)
 *   optimum-llama-q4-zp  untied lm_head; model.onnx and model_q4.onnx
 *                        quantized asymmetrically with packed `_zero_points`
 *                        (MatMulNBitsQuantizer's own default, is_symmetric=False)
 */
import { join } from 'node:path';
import type { LlamaDims, LlamaWeights } from '../demoModelConfig.ts';
import { benchTokenizerFiles } from './benchTokenizer.ts';
import { writeLlamaHubFolder } from './hubFolder.ts';
import type { Q4Options } from './matMulNBits.ts';
import { TRANSFORMERS_JS_Q4 } from './matMulNBits.ts';
import { effectiveWeights, type ZooDtype } from './optimumLlama.ts';
import { seededLlamaWeights, type WeightSource } from './seededWeights.ts';

export const ZOO_DIMS: LlamaDims = {
  vocabSize: 1024,
  hiddenSize: 64,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  intermediateSize: 128,
  maxPositions: 2048,
  rmsNormEps: 1e-5,
  ropeTheta: 100_000,
};

export interface ZooEntry {
  name: string;
  seed: number;
  tied: boolean;
  dtypes: readonly ZooDtype[];
  q4: Q4Options;
}

export const ZOO: readonly ZooEntry[] = [
  {
    name: 'optimum-llama',
    seed: 11,
    tied: true,
    dtypes: ['fp32', 'fp16', 'q4', 'q4f16'],
    q4: TRANSFORMERS_JS_Q4,
  },
  {
    name: 'optimum-llama-q4-zp',
    seed: 12,
    tied: false,
    dtypes: ['fp32', 'q4'],
    q4: { blockSize: 32, symmetric: false },
  },
];

export const ZOO_VERSION = 'zoo/1';

export function zooEntry(name: string): ZooEntry {
  const e = ZOO.find((z) => z.name === name);
  if (!e) throw new Error(`zoo: no model named ${name}`);
  return e;
}

export function zooWeights(entry: ZooEntry): WeightSource {
  return seededLlamaWeights(ZOO_DIMS, entry.seed, { tied: entry.tied });
}

/** The weights the entry's `dtype` file computes with (rounded / dequantized), HF orientation. */
export function zooReferenceWeights(entry: ZooEntry, dtype: ZooDtype): LlamaWeights {
  return effectiveWeights(ZOO_DIMS, zooWeights(entry), { dtype, tied: entry.tied, q4: entry.q4 });
}

/** Writes every zoo folder under `outDir` (files already there with a matching stamp are kept). */
export async function buildZooModels(
  outDir: string,
): Promise<{ name: string; dir: string; bytes: number }[]> {
  const tokenizer = benchTokenizerFiles(ZOO_DIMS.vocabSize, ZOO_DIMS.maxPositions);
  const out: { name: string; dir: string; bytes: number }[] = [];
  for (const entry of ZOO) {
    const dir = join(outDir, entry.name);
    const { bytes } = await writeLlamaHubFolder({
      dir,
      dims: ZOO_DIMS,
      weights: zooWeights(entry),
      tied: entry.tied,
      dtypes: entry.dtypes,
      q4: entry.q4,
      tokenizer,
      docString: `deltascope zoo: ${entry.name}, seeded random weights in Optimum's export layout.`,
      version: `${ZOO_VERSION} ${entry.name} seed ${entry.seed}`,
    });
    out.push({ name: entry.name, dir, bytes });
  }
  return out;
}
