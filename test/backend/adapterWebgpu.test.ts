// Runtime LoRA on WebGPU in Node (onnxruntime-web on Dawn; here and in CI Chromium's SwiftShader):
// the demo base + adapter opened as one rewritten model on each device; every view (base, ft,
// scaled_0.50, a null adapter) gives onnxruntime-node's top-5 tokens and its full-vocabulary
// log-probabilities within 1e-3. Gated as nodeWebgpu.test.ts: skipped only where no Vulkan driver
// is installed and CI is unset.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isNullCalibrated,
  isScalable,
  openPair,
  type DifferentialBackend,
  type NullCalibratedBackend,
  type ScalableBackend,
  type ScoringView,
} from '../../src/backend/index.ts';
import { SWIFTSHADER_ICD } from '../../src/backend/nodeWebgpu.ts';

const HAVE_DRIVER =
  existsSync(SWIFTSHADER_ICD) || !!process.env.VK_ICD_FILENAMES || !!process.env.VK_DRIVER_FILES;
const RUN = HAVE_DRIVER || process.env.CI === 'true';
const PROMPTS = ['The keeper of the old lighthouse', 'hello'];
const GPU_TEST_TIMEOUT = 300_000;

type AdapterBackend = DifferentialBackend & ScalableBackend & NullCalibratedBackend;

function asAdapter(b: DifferentialBackend): AdapterBackend {
  if (!isScalable(b) || !isNullCalibrated(b)) throw new Error('expected adapter views');
  return b as AdapterBackend;
}

describe.skipIf(!RUN)('runtime LoRA on webgpu in Node', () => {
  let cpu: AdapterBackend;
  let gpu: AdapterBackend;

  beforeAll(async () => {
    cpu = asAdapter(await openPair({ kind: 'demo', adapter: true }, { device: 'cpu', warmup: false }));
    gpu = asAdapter(await openPair({ kind: 'demo', adapter: true }, { device: 'webgpu' }));
  }, 600_000);

  afterAll(async () => {
    await Promise.all([cpu?.dispose(), gpu?.dispose()]);
  });

  it(
    'every view agrees with onnxruntime-node: top-5 tokens, full-vocabulary logprobs within 1e-3',
    async () => {
      expect(gpu.info.device).toBe('webgpu');
      const vocab = cpu.info.vocabSize;
      const views: [string, (b: AdapterBackend) => ScoringView][] = [
        ['base', (b) => b.base],
        ['ft', (b) => b.ft],
        ['scaled_0.50', (b) => b.scaledView(0.5)],
        ['null_7', (b) => b.nullView(7, { initScale: 0.5 })],
      ];
      for (const [name, pick] of views) {
        const c = await pick(cpu).nextTokenDistBatch(PROMPTS, { topK: vocab });
        const g = await pick(gpu).nextTokenDistBatch(PROMPTS, { topK: vocab });
        PROMPTS.forEach((p, i) => {
          expect([...g[i]!.tokenIds.slice(0, 5)], `${name} top-5 of ${p}`).toEqual([
            ...c[i]!.tokenIds.slice(0, 5),
          ]);
          const byId = new Map<number, number>();
          g[i]!.tokenIds.forEach((id, k) => byId.set(id, g[i]!.logprobs[k]!));
          let worst = 0;
          c[i]!.tokenIds.forEach(
            (id, k) => (worst = Math.max(worst, Math.abs(c[i]!.logprobs[k]! - byId.get(id)!))),
          );
          expect(worst, `${name}: max |Δ logprob| for ${p}`).toBeLessThanOrEqual(1e-3);
        });
      }
      // generate() feeds lora_scale on the GPU too (transformers.js's KV cache stays on the device).
      const opts = { maxNewTokens: 4 };
      expect(await gpu.ft.generate('hello', opts)).toBe(await cpu.ft.generate('hello', opts));
    },
    GPU_TEST_TIMEOUT,
  );
});
