/**
 * Every export layout and dtype of the model zoo as ONNX bytes, for the adapter tests: the Optimum
 * folders (built once into the zoo cache) and the GenAI-builder layouts (encoded in memory).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LlamaDims, LlamaWeights } from '../../scripts/demoModel/demoModelConfig.ts';
import { encodeGenaiOnnx, type GenaiGraphOptions } from '../../scripts/demoModel/zoo/genaiGraph.ts';
import {
  GENAI_DIMS,
  GENAI_LAYOUTS,
  GENAI_SEEDS,
  genaiWeights,
} from '../../scripts/demoModel/zoo/genaiModels.ts';
import { ZOO_ONNX_FILE, type ZooDtype } from '../../scripts/demoModel/zoo/optimumLlama.ts';
import { ZOO, ZOO_DIMS } from '../../scripts/demoModel/zoo/zooModels.ts';
import { ensureZoo, zooDir } from '../zoo/zooReference.ts';

export interface ZooLayout {
  /** e.g. `optimum-llama/q4`, `genai-qkv/fp16`. */
  label: string;
  family: 'optimum' | 'genai';
  /** The GenAI attention layout (`unfused`, `packed`, `packedSplit`); undefined for Optimum. */
  attention?: GenaiGraphOptions['attention'];
  dtype: ZooDtype;
  dims: LlamaDims;
  tied: boolean;
  bytes: () => Uint8Array;
}

let genaiBase: LlamaWeights | undefined;

function genaiBytes(opts: GenaiGraphOptions, dtype: ZooDtype): Uint8Array {
  genaiBase ??= genaiWeights(GENAI_DIMS, GENAI_SEEDS.base);
  const q4 = dtype === 'q4' || dtype === 'q4f16' ? { q4: { accuracyLevel: 0 } } : {};
  const f16 = dtype === 'fp16' || dtype === 'q4f16' ? { float16: true } : {};
  return encodeGenaiOnnx(GENAI_DIMS, genaiBase, { ...opts, ...q4, ...f16 }, `adapter test ${dtype}`);
}

/** All layouts; call `ensureZoo()` (in a beforeAll) before reading an Optimum one. */
export function zooLayouts(): ZooLayout[] {
  const out: ZooLayout[] = [];
  for (const entry of ZOO)
    for (const dtype of entry.dtypes)
      out.push({
        label: `${entry.name}/${dtype}`,
        family: 'optimum',
        dtype,
        dims: ZOO_DIMS,
        tied: entry.tied,
        bytes: () => new Uint8Array(readFileSync(join(zooDir(entry.name), ZOO_ONNX_FILE[dtype]))),
      });
  for (const [name, opts] of Object.entries(GENAI_LAYOUTS)) {
    if (name === 'genai-qkv-kvdim') continue; // same graph as genai-qkv but for a dim name
    for (const dtype of ['fp32', 'fp16', 'q4', 'q4f16'] as const)
      out.push({
        label: `${name}/${dtype}`,
        family: 'genai',
        attention: opts.attention,
        dtype,
        dims: GENAI_DIMS,
        tied: false,
        bytes: () => genaiBytes(opts, dtype),
      });
  }
  return out;
}

export { ensureZoo };
