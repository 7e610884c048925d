// WebGPU outside the browser: onnxruntime-web's WebGPU provider on Dawn (`webgpu` package) in Node,
// through whatever Vulkan driver the loader finds; here and in CI that is Chromium's SwiftShader
// (CPU-emulated). The demo pair is opened once on each device (SwiftShader compiles every pipeline
// on first use: the WebGPU first pass takes seconds, a minute on a loaded machine) and the two must
// agree: same top-5 tokens, every log-probability of the full 768-token vocabulary within 1e-4 nats
// (observed 3e-6: both run fp32, the GPU kernels sum in another order).
// Skipped only where no Vulkan driver is installed and CI is unset; in CI (Chromium and libvulkan1
// installed by .ci/run) it always runs.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPair, type DifferentialBackend } from '../../src/backend/index.ts';
import {
  SWIFTSHADER_ICD,
  describeNodeAdapter,
  explainNoAdapter,
  installNodeWebGpu,
  isCpuEmulated,
  prepareVulkanEnv,
} from '../../src/backend/nodeWebgpu.ts';

const HAVE_DRIVER =
  existsSync(SWIFTSHADER_ICD) || !!process.env.VK_ICD_FILENAMES || !!process.env.VK_DRIVER_FILES;
const RUN = HAVE_DRIVER || process.env.CI === 'true';
/** Chromium's SwiftShader is the driver unless the caller named another. */
const SWIFTSHADER = !process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES;

const LOGPROB_TOLERANCE = 1e-4;
/** SwiftShader compiles a pipeline for each new shape on first use: minutes on a loaded machine. */
const GPU_TEST_TIMEOUT = 300_000;
const PROMPTS = ['The keeper of the old lighthouse', 'It was a sunny day and', 'hello'];

describe('Vulkan setup and adapter naming (no GPU needed)', () => {
  it('an explicit manifest wins; a caller’s driver variable is kept; else SwiftShader is added once', () => {
    const explicit: NodeJS.ProcessEnv = { VK_ICD_FILENAMES: '/gpu/nvidia_icd.json' };
    prepareVulkanEnv('/x/icd.json', explicit);
    expect(explicit).toEqual({ VK_ICD_FILENAMES: '/x/icd.json', VK_DRIVER_FILES: '/x/icd.json' });

    const callers: NodeJS.ProcessEnv = { VK_DRIVER_FILES: '/gpu/nvidia_icd.json' };
    prepareVulkanEnv(undefined, callers);
    expect(callers).toEqual({ VK_DRIVER_FILES: '/gpu/nvidia_icd.json' });

    const bare: NodeJS.ProcessEnv = { VK_ADD_DRIVER_FILES: '/other/icd.json' };
    prepareVulkanEnv(undefined, bare);
    prepareVulkanEnv(undefined, bare);
    const expected = existsSync(SWIFTSHADER_ICD) ? `/other/icd.json:${SWIFTSHADER_ICD}` : '/other/icd.json';
    expect(bare.VK_ADD_DRIVER_FILES).toBe(expected);
  });

  it('says why there is no adapter: a driver variable naming a missing file', () => {
    const why = explainNoAdapter({ VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    // On a machine without the loader, that is named first.
    expect(why).toMatch(/VK_ICD_FILENAMES names \/nonexistent\/icd\.json, which does not exist|libvulkan/);
  });

  it('labels software adapters as CPU-emulated and names adapters by their own words', () => {
    const swiftshader = {
      info: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' },
    };
    expect(isCpuEmulated(swiftshader)).toBe(true);
    expect(describeNodeAdapter(swiftshader)).toBe('SwiftShader driver 5.0.0 · google · swiftshader');
    expect(isCpuEmulated({ info: { vendor: 'x', isFallbackAdapter: true } })).toBe(true);
    const nvidia = {
      info: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' },
    };
    expect(isCpuEmulated(nvidia)).toBe(false);
    expect(describeNodeAdapter({})).toBe('WebGPU adapter');
  });
});

describe.skipIf(!RUN)('device: webgpu in Node (onnxruntime-web on Dawn)', () => {
  let cpu: DifferentialBackend;
  let gpu: DifferentialBackend;

  beforeAll(async () => {
    cpu = await openPair({ kind: 'demo' }, { device: 'cpu', warmup: false });
    // The warm-up pass (one per view) compiles most pipelines here, inside this hook's timeout.
    gpu = await openPair({ kind: 'demo' }, { device: 'webgpu' });
  }, 600_000);

  afterAll(async () => {
    await Promise.all([cpu?.dispose(), gpu?.dispose()]);
  });

  it('finds an adapter, once, and the pair names it', async () => {
    const info = await installNodeWebGpu();
    expect(info).not.toBeNull();
    expect(await installNodeWebGpu({ icdPath: '/ignored/after/the/first/call.json' })).toBe(info);
    expect(gpu.info.device).toBe('webgpu');
    expect(gpu.info.deviceDetail).toContain(info!.adapter);
    if (SWIFTSHADER) {
      expect(info!.cpuEmulated).toBe(true);
      expect(gpu.info.deviceDetail).toMatch(/SwiftShader.*\(CPU-emulated\)/);
    }
    expect(cpu.info.device).toBe('cpu');
  });

  it(
    'next-token distributions agree with onnxruntime-node over the full vocabulary',
    async () => {
      const vocab = cpu.info.vocabSize;
      for (const view of ['base', 'ft'] as const) {
        const [a, b] = await Promise.all([
          cpu.view(view).nextTokenDistBatch(PROMPTS, { topK: vocab }),
          gpu.view(view).nextTokenDistBatch(PROMPTS, { topK: vocab }),
        ]);
        for (let i = 0; i < PROMPTS.length; i++) {
          const [c, g] = [a[i]!, b[i]!];
          expect([...g.tokenIds.slice(0, 5)], `${view} top-5 of ${PROMPTS[i]}`).toEqual([
            ...c.tokenIds.slice(0, 5),
          ]);
          const byId = new Map<number, number>();
          g.tokenIds.forEach((id, k) => byId.set(id, g.logprobs[k]!));
          expect(byId.size).toBe(vocab);
          let worst = 0;
          c.tokenIds.forEach((id, k) => (worst = Math.max(worst, Math.abs(c.logprobs[k]! - byId.get(id)!))));
          expect(worst, `${view}: max |Δ logprob| for ${PROMPTS[i]}`).toBeLessThanOrEqual(LOGPROB_TOLERANCE);
        }
      }
    },
    GPU_TEST_TIMEOUT,
  );

  it(
    'scores continuations and whole texts as onnxruntime-node does (every position’s logits)',
    async () => {
      const pairs = [['The keeper of the old lighthouse', ' watched the sea']] as const;
      const [c, g] = await Promise.all([cpu.ft.logprobOfBatch(pairs), gpu.ft.logprobOfBatch(pairs)]);
      expect(Math.abs(c[0]! - g[0]!)).toBeLessThanOrEqual(1e-3);
      const text = 'It was a sunny day and the keeper walked to the shore.';
      const [rc, rg] = await Promise.all([cpu.base.rollingLogprob(text), gpu.base.rollingLogprob(text)]);
      expect(rg.logprobs.length).toBe(rc.logprobs.length);
      rc.logprobs.forEach((lp, i) => expect(Math.abs(lp - rg.logprobs[i]!)).toBeLessThanOrEqual(1e-3));
    },
    GPU_TEST_TIMEOUT,
  );

  it(
    'feeds its KV cache back on the GPU: a row sliced to 4 positions per run scores as one run on CPU',
    async () => {
      // 4 positions of logits per run: the text runs in chunks, each fed the previous chunk's
      // present.* outputs, which stay GPU buffers (re-wrapped as onnxruntime-node Tensors).
      const sliced = await openPair(
        { kind: 'demo' },
        { device: 'webgpu', warmup: false, logitsBudgetBytes: 768 * 4 * 4 },
      );
      try {
        const text = 'It was a sunny day and the keeper walked to the shore, where the boats lay.';
        const [c, g] = [await cpu.base.rollingLogprob(text), await sliced.base.rollingLogprob(text)];
        expect(g.numTokens).toBeGreaterThan(8);
        expect(g.logprobs.length).toBe(c.logprobs.length);
        c.logprobs.forEach((lp, i) => expect(Math.abs(lp - g.logprobs[i]!)).toBeLessThanOrEqual(1e-3));
        const prompt = 'It was a sunny day and the';
        expect(await sliced.ft.generate(prompt, { maxNewTokens: 6 })).toBe(
          await cpu.ft.generate(prompt, { maxNewTokens: 6 }),
        );
      } finally {
        await sliced.dispose();
      }
    },
    GPU_TEST_TIMEOUT,
  );

  it('uploads from shared memory: writeBuffer takes a view of a SharedArrayBuffer (dawn.node alone refuses it)', async () => {
    const gpuApi = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
    const device = await (await gpuApi.requestAdapter())!.requestDevice();
    try {
      const shared = new Float32Array(new SharedArrayBuffer(64));
      shared.forEach((_, i) => (shared[i] = i * 1.5));
      const target = device.createBuffer({
        size: 32,
        usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      });
      const read = device.createBuffer({
        size: 32,
        usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
      });
      // Elements 4..11 of the shared view: offset and size count elements for a typed array.
      device.queue.writeBuffer(target, 0, shared, 4, 8);
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(target, 0, read, 0, 32);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      expect([...new Float32Array(read.getMappedRange().slice(0))]).toEqual([...shared.slice(4, 12)]);
      read.unmap();
    } finally {
      device.destroy();
    }
  });
});
