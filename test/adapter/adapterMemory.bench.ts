/**
 * Memory of runtime LoRA on the 135M-class bench model, through `openPair` (onnxruntime-node, CPU):
 * the base + a PEFT adapter (r 8 on q, k, v, o, gate, up, down of every layer, written as a real
 * adapter folder) opened as one rewritten model, against the two-full-models pair (the base folder
 * opened as both base and ft, as a merged fine-tune would be). Each side runs in its own child
 * process; the figures are the process's resident set after the load and one forward per view (JS
 * garbage collected), and its peak (the load reads the base's ONNX bytes into JS to rewrite them).
 *
 *   npm run build:bench-models   # once: .cache/bench-models/smollm2-135m-shape (git-ignored)
 *   npx tsx test/adapter/adapterMemory.bench.ts [fp32|q4]
 *
 * Not a test: a measurement for the runtime-LoRA issue's memory benchmark. Measured on the shared
 * 2-core box (RSS varies ±10% between runs): fp32 two full models 1.75–2.08 GB, base + adapter
 * 1.27–1.31 GB (0.65–0.69×), peak 2.6 GB against 2.0 GB (1.3×: the load reads the base's ONNX into
 * JS to rewrite it); q4 1.01–1.06 GB against 0.78–0.82 GB (0.73–0.81×), peak equal.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { projectionDims } from '../../src/adapter/index.ts';
import { openPair, type ModelSource } from '../../src/backend/index.ts';
import { seededRng } from '../../src/core/statistics.ts';
import { encodeSafetensors } from './safetensorsEncode.ts';

const [dtype = 'fp32', mode] = process.argv.slice(2);
const root = resolve(import.meta.dirname, '..', '..', '.cache', 'bench-models');
const dir = join(root, readdirSync(root)[0] ?? '');
const RANK = 8;

/** A seeded r-8 adapter folder on every projection of every layer. */
function writeAdapter(out: string): void {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, number>;
  const d = projectionDims(config)!;
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
  const rnd = seededRng(3);
  const values = (n: number, std: number) =>
    Float32Array.from({ length: n }, () => (rnd() - 0.5) * 3.46 * std);
  const tensors: Parameters<typeof encodeSafetensors>[0] = [];
  for (let l = 0; l < config.num_hidden_layers!; l++)
    for (const [m, [o, i]] of Object.entries(shapes)) {
      const key = `base_model.model.model.layers.${l}.${m}`;
      tensors.push([
        `${key}.lora_A.weight`,
        { dtype: 'F32', shape: [RANK, i], values: values(RANK * i, 0.02) },
      ]);
      tensors.push([
        `${key}.lora_B.weight`,
        { dtype: 'F32', shape: [o, RANK], values: values(o * RANK, 0.02) },
      ]);
    }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'adapter_model.safetensors'), encodeSafetensors(tensors));
  const target_modules = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  writeFileSync(
    join(out, 'adapter_config.json'),
    JSON.stringify({ peft_type: 'LORA', r: RANK, lora_alpha: 16, target_modules, bias: 'none' }),
  );
}

async function child(which: string, adapterDir: string): Promise<void> {
  const base = { kind: 'dir' as const, path: dir };
  const source: ModelSource =
    which === 'pair'
      ? { kind: 'pair', base, ft: base }
      : { kind: 'pair', base, ft: { kind: 'adapter', base, adapter: { kind: 'dir', path: adapterDir } } };
  const t0 = performance.now();
  const pair = await openPair(source, { dtype, warmup: false });
  const loadS = (performance.now() - t0) / 1000;
  await pair.base.nextTokenDist('The keeper of the lighthouse');
  await pair.ft.nextTokenDist('The keeper of the lighthouse');
  // What stays: collect the load's garbage first (the ONNX bytes read and rewritten in JS).
  // (ArrayBuffers' memory is released a moment after the collection: collect, wait, twice.)
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 200));
  }
  const rssMB = process.memoryUsage().rss / 2 ** 20;
  const peakMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ which, dtype, loadS, rssMB, peakMB })}\n`);
  await pair.dispose();
}

if (mode === 'pair' || mode === 'adapter') {
  await child(mode, process.argv[4] ?? '');
} else {
  const scratch = mkdtempSync(join(tmpdir(), 'deltascope-adapter-mem-'));
  try {
    const adapterDir = join(scratch, 'adapter');
    writeAdapter(adapterDir);
    const run = (which: string) =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [...process.execArgv, import.meta.filename, dtype, which, adapterDir],
          {
            encoding: 'utf8',
            maxBuffer: 1 << 20,
          },
        )
          .trim()
          .split('\n')
          .at(-1)!,
      ) as { loadS: number; rssMB: number; peakMB: number };
    const pair = run('pair');
    const lora = run('adapter');
    console.log(
      `${dtype}: two full models ${pair.rssMB.toFixed(0)} MB RSS, peak ${pair.peakMB.toFixed(0)} (load ${pair.loadS.toFixed(1)} s); ` +
        `base + adapter ${lora.rssMB.toFixed(0)} MB, peak ${lora.peakMB.toFixed(0)} (load ${lora.loadS.toFixed(1)} s); ` +
        `ratio ${(lora.rssMB / pair.rssMB).toFixed(2)} (peak ${(lora.peakMB / pair.peakMB).toFixed(2)})`,
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
