// Node only: a seeded PEFT LoRA adapter folder for a hub-layout model (the 135M-class bench model).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectionDims } from '../../src/adapter/index.ts';
import { seededRng } from '../../src/core/statistics.ts';
import { encodeSafetensors } from '../../test/adapter/safetensorsEncode.ts';

/** The PEFT modules the bench adapter targets: every projection of every layer. */
export const BENCH_ADAPTER_TARGETS = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
] as const;

export interface BenchAdapterOptions {
  /** LoRA rank (default 8). */
  rank?: number;
  /** Seed of the weights (default 3). */
  seed?: number;
}

/** What was written, for the report. */
export interface BenchAdapterInfo {
  rank: number;
  modules: number;
  layers: number;
  /** Bytes of `adapter_model.safetensors`. */
  bytes: number;
  /** One line: "r 8 on q, k, v, o, gate, up, down × 30 layers (210 modules, 9.2 MiB F32)". */
  describe: string;
}

/**
 * Writes `adapter_config.json` and `adapter_model.safetensors` into `outDir`: a seeded rank-`rank`
 * adapter (F32, lora_alpha = 2 × rank) on q, k, v, o, gate, up and down of every layer of the model in
 * `modelDir` (shapes from its config.json), uniform A and B of std 0.02 — a real adapter folder, read
 * through the same path as a PEFT save.
 */
export function writeBenchAdapter(
  modelDir: string,
  outDir: string,
  opts: BenchAdapterOptions = {},
): BenchAdapterInfo {
  const rank = opts.rank ?? 8;
  const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, number>;
  const d = projectionDims(config);
  if (d === null) throw new Error(`bench adapter: ${modelDir}/config.json has no projection shapes`);
  const H = config.hidden_size!;
  const q = d.numHeads * d.headDim;
  const kv = d.numKvHeads * d.headDim;
  const I = d.intermediateSize;
  const shapes: Record<string, [number, number]> = {
    'self_attn.q_proj': [q, H],
    'self_attn.k_proj': [kv, H],
    'self_attn.v_proj': [kv, H],
    'self_attn.o_proj': [H, q],
    'mlp.gate_proj': [I, H],
    'mlp.up_proj': [I, H],
    'mlp.down_proj': [H, I],
  };
  const rnd = seededRng(opts.seed ?? 3);
  // Uniform on ±√3·std: std `std`, bounded.
  const values = (n: number, std: number) =>
    Float32Array.from({ length: n }, () => (rnd() - 0.5) * 3.46 * std);
  const tensors: Parameters<typeof encodeSafetensors>[0] = [];
  const layers = config.num_hidden_layers!;
  for (let l = 0; l < layers; l++)
    for (const [m, [o, i]] of Object.entries(shapes)) {
      const key = `base_model.model.model.layers.${l}.${m}`;
      tensors.push([
        `${key}.lora_A.weight`,
        { dtype: 'F32', shape: [rank, i], values: values(rank * i, 0.02) },
      ]);
      tensors.push([
        `${key}.lora_B.weight`,
        { dtype: 'F32', shape: [o, rank], values: values(o * rank, 0.02) },
      ]);
    }
  mkdirSync(outDir, { recursive: true });
  const bytes = encodeSafetensors(tensors);
  writeFileSync(join(outDir, 'adapter_model.safetensors'), bytes);
  writeFileSync(
    join(outDir, 'adapter_config.json'),
    JSON.stringify({
      peft_type: 'LORA',
      r: rank,
      lora_alpha: 2 * rank,
      target_modules: [...BENCH_ADAPTER_TARGETS],
      bias: 'none',
    }),
  );
  const modules = layers * BENCH_ADAPTER_TARGETS.length;
  return {
    rank,
    modules,
    layers,
    bytes: bytes.byteLength,
    describe: `r ${rank} on ${BENCH_ADAPTER_TARGETS.map((t) => t.replace('_proj', '')).join(', ')} × ${layers} layers (${modules} modules, ${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB F32)`,
  };
}
