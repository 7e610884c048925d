// The rewritten demo base on onnxruntime-web's WebGPU provider in Node (Dawn; here Chromium's
// SwiftShader, CPU-emulated), opened by transformers.js with device 'webgpu' as openPair does, against
// the same rewritten graph on onnxruntime-node's CPU: for λ = 0, 1 and a per-row [0, 1] batch, the
// same top-5 next tokens and last-position logits within 1e-3. Skipped only where no Vulkan driver is
// installed and CI is unset.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, env, Tensor } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import { writeRewrittenDemoFolder } from './demoLoraFolder.ts';
import { installNodeWebGpu, SWIFTSHADER_ICD } from '../../src/backend/nodeWebgpu.ts';

const RUN =
  existsSync(SWIFTSHADER_ICD) ||
  !!process.env.VK_ICD_FILENAMES ||
  !!process.env.VK_DRIVER_FILES ||
  process.env.CI === 'true';
const scratch = mkdtempSync(join(tmpdir(), 'deltascope-lora-gpu-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const top5 = (row: Float32Array): number[] =>
  [...row.keys()].sort((a, b) => (row[b] ?? 0) - (row[a] ?? 0)).slice(0, 5);

describe.runIf(RUN)('the rewritten base on WebGPU (Node, Dawn)', () => {
  it('serves base, ft and per-row views with the CPU run’s top-5 tokens', async () => {
    const info = await installNodeWebGpu();
    expect(info, 'no WebGPU adapter').not.toBeNull();
    writeRewrittenDemoFolder(scratch);
    env.allowRemoteModels = false;
    env.localModelPath = `${scratch}/`;
    const gpu = await AutoModelForCausalLM.from_pretrained('demo-lora', { device: 'webgpu', dtype: 'fp32' });
    const cpu = await AutoModelForCausalLM.from_pretrained('demo-lora', { device: 'cpu', dtype: 'fp32' });
    const ids = [
      [1n, 40n, 41n, 300n, 7n],
      [1n, 500n, 2n, 3n, 4n],
    ];
    const lastLogits = async (m: typeof gpu, lambda: number[]): Promise<Float32Array[]> => {
      const feeds = {
        input_ids: new Tensor('int64', BigInt64Array.from(ids.flat()), [2, 5]),
        attention_mask: new Tensor('int64', BigInt64Array.from(ids.flat().map(() => 1n)), [2, 5]),
        lora_scale: new Tensor('float32', Float32Array.from(lambda), [lambda.length]),
      };
      const logits = (await (m as unknown as (f: object) => Promise<{ logits: Tensor }>)(feeds)).logits;
      const data = logits.data as Float32Array;
      const v = logits.dims[2]!;
      return [0, 1].map((b) => data.slice((b * 5 + 4) * v, (b * 5 + 5) * v));
    };
    for (const lambda of [
      [0, 0],
      [1, 1],
      [0, 1],
    ]) {
      const g = await lastLogits(gpu, lambda);
      const c = await lastLogits(cpu, lambda);
      for (let b = 0; b < 2; b++) {
        expect(top5(g[b]!)).toEqual(top5(c[b]!));
        expect(g[b]!.reduce((m, x, i) => Math.max(m, Math.abs(x - (c[b]![i] ?? 0))), 0)).toBeLessThan(1e-3);
      }
    }
    await Promise.all([gpu.dispose(), cpu.dispose()]);
  }, 300_000);
});
