// swapAdapter on WebGPU in Node (onnxruntime-web on Dawn; here and in CI Chromium's SwiftShader):
// the new adapter's feeds reach the GPU session — after a swap, ft and scaled_0.50 on WebGPU agree
// with onnxruntime-node's fresh load of the new adapter (top-5 tokens, logprobs within 1e-3), and
// no longer with the old one's. Gated as adapterWebgpu.test.ts.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterPairBackend } from '../../src/backend/adapterPair.ts';
import { openPair, type ScoringView } from '../../src/backend/index.ts';
import { resolveAdapterPair, type ModelSource } from '../../src/backend/modelSource.ts';
import { nodeResolveContext } from '../../src/backend/nodeModelFiles.ts';
import { SWIFTSHADER_ICD } from '../../src/backend/nodeWebgpu.ts';
import { writeScaledDemoAdapter } from './adapterSwapFixtures.ts';

const HAVE_DRIVER =
  existsSync(SWIFTSHADER_ICD) || !!process.env.VK_ICD_FILENAMES || !!process.env.VK_DRIVER_FILES;
const RUN = HAVE_DRIVER || process.env.CI === 'true';
const BASE = join(import.meta.dirname, '..', '..', 'public', 'models', 'deltascope-demo', 'base');
const PROMPTS = ['The keeper of the old lighthouse', 'hello'];
const scratch = mkdtempSync(join(tmpdir(), 'deltascope-swap-webgpu-'));

const source = (adapter: string): Extract<ModelSource, { kind: 'pair' }> => ({
  kind: 'pair',
  base: { kind: 'dir', path: BASE },
  ft: { kind: 'adapter', base: { kind: 'dir', path: BASE }, adapter: { kind: 'dir', path: adapter } },
});

async function open(adapter: string, device: 'cpu' | 'webgpu'): Promise<AdapterPairBackend> {
  const b = await openPair(source(adapter), { device, warmup: device === 'webgpu' });
  if (!(b instanceof AdapterPairBackend)) throw new Error('expected runtime LoRA');
  return b;
}

describe.skipIf(!RUN)('swapAdapter on webgpu in Node', () => {
  const before = writeScaledDemoAdapter(join(scratch, 'before'), 0.5);
  const after = writeScaledDemoAdapter(join(scratch, 'after'), 1.5);
  let gpu: AdapterPairBackend;
  let cpuAfter: AdapterPairBackend;

  beforeAll(async () => {
    cpuAfter = await open(after, 'cpu');
    gpu = await open(before, 'webgpu');
  }, 600_000);

  afterAll(async () => {
    await Promise.all([gpu?.dispose(), cpuAfter?.dispose()]);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('after a swap, ft and scaled_0.50 on WebGPU are the new adapter’s', async () => {
    expect(gpu.info.device).toBe('webgpu');
    const vocab = cpuAfter.info.vocabSize;
    const full = async (v: ScoringView) => v.nextTokenDistBatch(PROMPTS, { topK: vocab });
    const oldFt = await full(gpu.ft);
    const ref = resolveAdapterPair(source(after), nodeResolveContext());
    await gpu.swapAdapter(ref.adapter, { pairId: ref.pairId });
    for (const [name, pick] of [
      ['ft', (b: AdapterPairBackend) => b.ft],
      ['scaled_0.50', (b: AdapterPairBackend) => b.scaledView(0.5)],
    ] as const) {
      const c = await full(pick(cpuAfter));
      const g = await full(pick(gpu));
      PROMPTS.forEach((p, i) => {
        expect([...g[i]!.tokenIds.slice(0, 5)], `${name} top-5 of ${p}`).toEqual([
          ...c[i]!.tokenIds.slice(0, 5),
        ]);
        const byId = new Map([...c[i]!.tokenIds].map((id, k) => [id, c[i]!.logprobs[k]!]));
        let worst = 0;
        g[i]!.tokenIds.forEach(
          (id, k) => (worst = Math.max(worst, Math.abs(g[i]!.logprobs[k]! - byId.get(id)!))),
        );
        expect(worst, `${name} of ${p}`).toBeLessThan(1e-3);
      });
    }
    const moved = Math.abs(oldFt[0]!.logprobs[0]! - (await full(gpu.ft))[0]!.logprobs[0]!);
    expect(moved).toBeGreaterThan(1e-3);
  }, 600_000);
});
