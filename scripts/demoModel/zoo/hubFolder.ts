/**
 * Writes a model folder in the hub layout transformers.js loads (config.json,
 * generation_config.json, tokenizer files, onnx/model*.onnx), streaming each
 * ONNX file to disk tensor by tensor. Idempotent: a stamp written last records
 * the generator version and every file's size, and files that the stamp
 * already vouches for are not written again.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { encodeOnnxModelStream } from '../onnxModelEncoder.ts';
import { generationConfigJson, llamaConfigJson, type LlamaDims } from '../demoModelConfig.ts';
import {
  buildOptimumLlamaGraph,
  optimumMeta,
  ZOO_ONNX_FILE,
  type OptimumLlamaOptions,
  type ZooDtype,
} from './optimumLlama.ts';
import type { WeightSource } from './seededWeights.ts';

export const STAMP_FILE = 'deltascope-zoo.json';

export interface HubFolderSpec {
  dir: string;
  dims: LlamaDims;
  weights: WeightSource;
  tied: boolean;
  dtypes: readonly ZooDtype[];
  q4?: OptimumLlamaOptions['q4'];
  tokenizer: { tokenizer: Record<string, unknown>; config: Record<string, unknown> };
  docString: string;
  /** Changes whenever the bytes would: generator version, seed, dims. */
  version: string;
  /** Bytes of ONNX written so far and in all, after each chunk. */
  onBytes?: (written: number, total: number, file: string) => void;
}

interface Stamp {
  version: string;
  files: Record<string, number>;
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** config.json as an Optimum export of a Llama checkpoint carries it (SmolLM2's fields). */
export function hubLlamaConfig(d: LlamaDims, tied: boolean): Record<string, unknown> {
  return {
    ...llamaConfigJson(d),
    tie_word_embeddings: tied,
    // As SmolLM2's hub config: transformers.js makes fp16 KV caches for these dtypes.
    'transformers.js_config': { kv_cache_dtype: { q4f16: 'float16', fp16: 'float16' } },
  };
}

function readStamp(dir: string, version: string): Stamp['files'] {
  try {
    const stamp = JSON.parse(readFileSync(join(dir, STAMP_FILE), 'utf8')) as Stamp;
    if (stamp.version !== version) return {};
    const ok: Stamp['files'] = {};
    for (const [rel, size] of Object.entries(stamp.files)) {
      if (existsSync(join(dir, rel)) && statSync(join(dir, rel)).size === size) ok[rel] = size;
    }
    return ok;
  } catch {
    return {};
  }
}

/** Writes the folder (or the files it lacks); returns its size in bytes and whether anything was written. */
export async function writeLlamaHubFolder(spec: HubFolderSpec): Promise<{ bytes: number; wrote: string[] }> {
  const { dir, dims } = spec;
  const have = readStamp(dir, spec.version);
  const small = new Map<string, string>([
    ['config.json', json(hubLlamaConfig(dims, spec.tied))],
    ['generation_config.json', json(generationConfigJson())],
    ['tokenizer.json', json(spec.tokenizer.tokenizer)],
    ['tokenizer_config.json', json(spec.tokenizer.config)],
  ]);
  const files: Stamp['files'] = {};
  const wrote: string[] = [];
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  // The stamp goes first: an interrupted run must not leave a stamp vouching for a partial file.
  rmSync(join(dir, STAMP_FILE), { force: true });
  for (const [rel, text] of small) {
    const size = Buffer.byteLength(text);
    if (have[rel] !== size) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeStringAtomic(join(dir, rel), text);
      wrote.push(rel);
    }
    files[rel] = size;
  }
  const pending = spec.dtypes
    .map((dtype) => {
      const rel = ZOO_ONNX_FILE[dtype];
      const opts: OptimumLlamaOptions = { dtype, tied: spec.tied, ...(spec.q4 ? { q4: spec.q4 } : {}) };
      const stream = encodeOnnxModelStream(
        buildOptimumLlamaGraph(dims, spec.weights, opts),
        optimumMeta(dtype, spec.docString),
      );
      return { rel, stream };
    })
    .filter(({ rel, stream }) => {
      if (have[rel] === stream.byteLength) {
        files[rel] = stream.byteLength;
        return false;
      }
      return true;
    });
  const total = pending.reduce((n, p) => n + p.stream.byteLength, 0);
  let written = 0;
  for (const { rel, stream } of pending) {
    const full = join(dir, rel);
    const tmp = `${full}.partial`;
    const fd = openSync(tmp, 'w');
    try {
      let sinceYield = 0;
      for (const chunk of stream.chunks()) {
        writeSync(fd, chunk);
        written += chunk.byteLength;
        sinceYield += chunk.byteLength;
        if (sinceYield > 8 << 20) {
          sinceYield = 0;
          spec.onBytes?.(written, total, rel);
          // Let timers and signals run between large tensors.
          await new Promise((r) => setImmediate(r));
        }
      }
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, full);
    files[rel] = stream.byteLength;
    wrote.push(rel);
    spec.onBytes?.(written, total, rel);
  }
  writeStringAtomic(join(dir, STAMP_FILE), json({ version: spec.version, files } satisfies Stamp));
  const bytes = Object.values(files).reduce((a, b) => a + b, 0);
  return { bytes, wrote };
}

function writeStringAtomic(path: string, text: string): void {
  const tmp = `${path}.partial`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
