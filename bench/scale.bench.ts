// Node: the 135M-scale benchmark of one device (onnxruntime-node on the CPU, or onnxruntime-web's
// WebGPU EP on Dawn). Self-contained on purpose: `bench:gpu` bundles this file with esbuild and runs
// it on a machine with no repo, so every path comes in through the options.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { openPair } from '../src/backend/index.ts';
import type { ScaleDeviceResults, ScaleModelInfo } from './lib/results.ts';
import { measureScale, scalePlan, type MemorySample } from './lib/scaleWorkload.ts';

export { renderScaleMarkdown } from './lib/scaleReport.ts';
export type { ScaleDeviceResults } from './lib/results.ts';

export const NODE_CPU_LABEL = 'Node · onnxruntime-node (CPU)';

export interface ScaleBenchOptions {
  device: 'cpu' | 'webgpu';
  /** A hub-layout folder (config.json, tokenizer files, onnx/model.onnx, onnx/model_q4.onnx). */
  modelDir: string;
  /** The ft view's folder; default the same as base (the same weights: speed figures only). */
  ftDir?: string;
  dtype: 'fp32' | 'q4';
  quick: boolean;
  log?: (line: string) => void;
  /** Overrides the row label (e.g. to name the GPU). */
  deviceLabel?: string;
}

/** The model's shape and file size, read from its folder, for the report. */
export function scaleModelInfo(modelDir: string, dtype: 'fp32' | 'q4', ftDir?: string): ScaleModelInfo {
  const cfg = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, number>;
  const file = join(modelDir, 'onnx', dtype === 'fp32' ? 'model.onnx' : `model_${dtype}.onnx`);
  if (!existsSync(file)) throw new Error(`scale bench: ${file} is missing; build the bench models first.`);
  const data = `${file}_data`;
  const onnxBytes = statSync(file).size + (existsSync(data) ? statSync(data).size : 0);
  return {
    name: basename(resolve(modelDir)),
    dtype,
    onnxBytes,
    vocabSize: cfg.vocab_size ?? 0,
    layers: cfg.num_hidden_layers ?? 0,
    hidden: cfg.hidden_size ?? 0,
    heads: `${cfg.num_attention_heads ?? '?'} / ${cfg.num_key_value_heads ?? '?'} KV`,
    sameFolderForBoth: ftDir === undefined || resolve(ftDir) === resolve(modelDir),
  };
}

function nodeMemory(): MemorySample {
  const m = process.memoryUsage();
  return {
    rssMb: m.rss / 2 ** 20,
    // maxRSS is in KiB on every platform Node supports.
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    heapUsedMb: m.heapUsed / 2 ** 20,
    uaMemoryMb: null,
  };
}

/** WebGPU in Node: Dawn's `navigator.gpu`, installed by the backend's helper (SwiftShader where no GPU). */
async function nodeGpu(): Promise<{ adapter: string; cpuEmulated: boolean }> {
  const { installNodeWebGpu, explainNoAdapter } = await import('../src/backend/nodeWebgpu.ts');
  const gpu = await installNodeWebGpu();
  if (gpu === null) throw new Error(`scale bench: no WebGPU adapter in Node. ${explainNoAdapter()}`);
  return gpu;
}

/**
 * Measures the 135M-class pair on one device: suite vs a naive transformers.js loop, deltascope's own
 * work against ORT's `session.run` time, batch scaling, load / first / warm pass, and memory.
 */
export async function scaleBench(opts: ScaleBenchOptions): Promise<ScaleDeviceResults> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const model = scaleModelInfo(opts.modelDir, opts.dtype, opts.ftDir);
  const notes: string[] = [];
  let label = opts.deviceLabel ?? NODE_CPU_LABEL;
  let cpuEmulated = false;
  if (opts.device === 'webgpu') {
    const gpu = await nodeGpu();
    cpuEmulated = gpu.cpuEmulated;
    label =
      opts.deviceLabel ?? `Node · WebGPU via Dawn (${gpu.adapter}${cpuEmulated ? ', CPU-emulated GPU' : ''})`;
    // ORT-web's wasm (the CPU side of the WebGPU EP) is large: V8's optimizing tier compiles it for
    // minutes on two cores, which lands in the load and first-pass figures unless Liftoff alone runs it.
    notes.push(
      process.execArgv.includes('--liftoff-only')
        ? 'Node ran with --liftoff-only: ORT-web’s wasm is compiled by the baseline tier only (no minutes of optimizing compilation inside the load and first pass).'
        : 'Node ran without --liftoff-only: the load and first pass include V8’s optimizing compilation of ORT-web’s wasm (minutes on two cores).',
    );
    if (cpuEmulated)
      notes.push(
        'SwiftShader emulates the GPU on the CPU: these WebGPU figures say the path works at this size, not how fast a GPU is; the workload is cut to a minimum.',
      );
  }
  if (model.sameFolderForBoth)
    notes.push(
      'base and ft are the same folder (two sessions of the same weights): right for speed, the divergences are 0.',
    );
  return measureScale(
    {
      label,
      device: opts.device,
      quick: opts.quick,
      model,
      plan: scalePlan(opts.device, opts.quick, cpuEmulated),
      notes,
    },
    {
      open: () =>
        openPair(
          {
            kind: 'pair',
            base: { kind: 'dir', path: opts.modelDir },
            ft: { kind: 'dir', path: opts.ftDir ?? opts.modelDir },
          },
          { device: opts.device, dtype: opts.dtype, warmup: false },
        ),
      memory: async () => nodeMemory(),
      cpuMs: () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      },
      log,
    },
  );
}
