/**
 * What the LoRA branch costs on the 135M-class bench model (onnxruntime-node, CPU), measured side by
 * side in one process: the base view (λ = 0) of the rewritten graph against the unrewritten base, and
 * views as rows (base and ft rows of the same prompts in one batch) against base and ft in separate
 * batches. Runs are interleaved so load drift hits both sides alike; medians are reported.
 *
 *   npm run build:bench-models   # once: .cache/bench-models/smollm2-135m-shaped (git-ignored)
 *   npx tsx test/adapter/loraOverhead.bench.ts [fp32|q4] [rank] [rounds]
 *
 * Not a test (no timing assertions in tests): a measurement for the runtime-LoRA issue's benchmarks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { LoraModule } from '../../src/adapter/adapterWeights.ts';
import { loraScale } from '../../src/adapter/adapterConfig.ts';
import { rewriteWithLora, LORA_SCALE_INPUT } from '../../src/adapter/loraRewrite.ts';
import { mapModules } from '../../src/adapter/moduleMap.ts';
import { readOnnxModel } from '../../src/adapter/onnxGraph.ts';
import { projectionDims } from '../../src/adapter/index.ts';
import { seededRng } from '../../src/core/statistics.ts';
import { zooFeeds } from './ortFeeds.ts';

const [dtype = 'q4', rankArg = '8', roundsArg = '8'] = process.argv.slice(2);
const rank = Number(rankArg);
const rounds = Number(roundsArg);
const root = resolve(import.meta.dirname, '..', '..', '.cache', 'bench-models');
const dir = join(root, readdirSync(root)[0] ?? '');
const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, number>;
const file = join(dir, 'onnx', dtype === 'fp32' ? 'model.onnx' : `model_${dtype}.onnx`);
const bytes = new Uint8Array(readFileSync(file));
const dims = projectionDims(config)!;
const H = config.hidden_size!;
const q = dims.numHeads * dims.headDim;
const kv = dims.numKvHeads * dims.headDim;
const I = dims.intermediateSize;

const rnd = seededRng(5);
const gauss = (n: number, std: number): Float32Array =>
  Float32Array.from({ length: n }, () => (rnd() - 0.5) * 3.46 * std);
const modules: LoraModule[] = [];
const shapes: Record<string, [number, number]> = {
  'self_attn.q_proj': [q, H],
  'self_attn.k_proj': [kv, H],
  'self_attn.v_proj': [kv, H],
  'self_attn.o_proj': [H, q],
  'mlp.gate_proj': [I, H],
  'mlp.up_proj': [I, H],
  'mlp.down_proj': [H, I],
};
for (let i = 0; i < config.num_hidden_layers!; i++)
  for (const [name, [out, inp]] of Object.entries(shapes))
    modules.push({
      key: `model.layers.${i}.${name}`,
      rank,
      alpha: 2 * rank,
      scale: loraScale(2 * rank, rank, false),
      inFeatures: inp,
      outFeatures: out,
      a: gauss(rank * inp, 1 / Math.sqrt(inp)),
      b: gauss(out * rank, 0.01),
    });

const model = readOnnxModel(bytes);
const t0 = performance.now();
const targets = mapModules(model, modules, dims);
const rewritten = rewriteWithLora(model, targets, modules).model.finish();
const rewriteMs = performance.now() - t0;
const adapterBytes = modules.reduce((s, m) => s + 4 * (m.a.length + m.b.length), 0);

const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };
const base = await ort.InferenceSession.create(bytes, opts);
const lora = await ort.InferenceSession.create(rewritten, opts);

const batch = 4;
const seq = 32;
const rows = Array.from({ length: batch }, (_, b) =>
  Array.from({ length: seq }, (_, j) => 1 + ((b * 131 + j * 17) % 4000)),
);
const feeds = zooFeeds(model, rows);
const feeds2 = zooFeeds(model, [...rows, ...rows]);
const lambda = (v: number[]) => new ort.Tensor('float32', Float32Array.from(v), [v.length]);

const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const s = performance.now();
  await fn();
  return performance.now() - s;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

// Warm-up.
for (let i = 0; i < 2; i++) {
  await base.run(feeds);
  await lora.run({ ...feeds, [LORA_SCALE_INPUT]: lambda([0]) });
  await lora.run({ ...feeds2, [LORA_SCALE_INPUT]: lambda([...rows.map(() => 0), ...rows.map(() => 1)]) });
}
const tBase: number[] = [];
const tLora0: number[] = [];
const tSeparate: number[] = [];
const tRows: number[] = [];
for (let r = 0; r < rounds; r++) {
  tBase.push(await time(() => base.run(feeds)));
  tLora0.push(await time(() => lora.run({ ...feeds, [LORA_SCALE_INPUT]: lambda([0]) })));
  tSeparate.push(
    await time(async () => {
      await lora.run({ ...feeds, [LORA_SCALE_INPUT]: lambda([0]) });
      await lora.run({ ...feeds, [LORA_SCALE_INPUT]: lambda([1]) });
    }),
  );
  tRows.push(
    await time(() =>
      lora.run({ ...feeds2, [LORA_SCALE_INPUT]: lambda([...rows.map(() => 0), ...rows.map(() => 1)]) }),
    ),
  );
}
const f = (ms: number): string => `${ms.toFixed(1)} ms`;
console.log(
  JSON.stringify(
    {
      model: `${dir.split('/').at(-1)} ${dtype}`,
      adapter: `r=${rank} on q,k,v,o,gate,up,down × ${config.num_hidden_layers} layers (${modules.length} modules, ${(adapterBytes / 2 ** 20).toFixed(1)} MiB fp32)`,
      batch: `${batch} × ${seq} tokens, 1 thread, ${rounds} interleaved rounds (medians)`,
      rewrite: f(rewriteMs),
      baseModelMiB: +(bytes.byteLength / 2 ** 20).toFixed(1),
      rewrittenModelMiB: +(rewritten.byteLength / 2 ** 20).toFixed(1),
      memoryRatioVsTwoModels: +(rewritten.byteLength / (2 * bytes.byteLength)).toFixed(3),
      unrewrittenBase: f(median(tBase)),
      rewrittenAtLambda0: f(median(tLora0)),
      baseViewOverhead: `${((median(tLora0) / median(tBase) - 1) * 100).toFixed(1)}%`,
      baseAndFtSeparateBatches: f(median(tSeparate)),
      baseAndFtAsRows: f(median(tRows)),
      viewsAsRowsSpeedup: +(median(tSeparate) / median(tRows)).toFixed(2),
    },
    null,
    2,
  ),
);
await Promise.all([base.release(), lora.release()]);
