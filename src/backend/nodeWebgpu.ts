// Node only: WebGPU outside the browser. onnxruntime-web's WebGPU execution provider runs on a
// `navigator.gpu` from Dawn (the `webgpu` package's prebuilt `dawn.node`), beside onnxruntime-node,
// which keeps the CPU. Imported (dynamically) by `chooseDevice` in Node only; the browser build
// stubs it (vite.config.ts, `nodeOnlyModules`).
//
// How the two runtimes share one transformers.js: in Node, transformers.js picks onnxruntime-node at
// module load and lists "webgpu" among the devices it accepts there, mapping it to the execution
// provider "webgpu". It calls `InferenceSession.create` on the onnxruntime-node object it required,
// looking the method up at every call. `installNodeWebGpu` wraps that one method: a session asked for
// with the "webgpu" provider is created by onnxruntime-web instead (and its runs queued one at a time,
// as transformers.js does in the browser), every other session stays onnxruntime-node's. So the
// choice is per session, not per process, and does not depend on which module imported
// transformers.js first. The two runtimes do not share an `onnxruntime-common` (onnxruntime-node
// 1.30 has its own, onnxruntime-web's bundle inlines another), so the outputs of a web session are
// re-wrapped, without copying, as the Tensor class transformers.js checks with `instanceof`.
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';

/** What `installNodeWebGpu` found: the adapter, named for the device badge and the CLI. */
export interface NodeWebGpuInfo {
  /** The adapter's description, vendor and architecture, e.g. "SwiftShader driver 5.0.0 · google · swiftshader". */
  adapter: string;
  /** A software rasteriser (SwiftShader, lavapipe, llvmpipe): WebGPU emulated on the CPU. */
  cpuEmulated: boolean;
  /** Whether the adapter offers `shader-f16` (fp16 / q4f16 models need it). */
  shaderF16: boolean;
}

export interface NodeWebGpuOptions {
  /**
   * A Vulkan driver manifest (ICD JSON) to use instead of what the Vulkan loader finds. Without it,
   * the loader's own search and `VK_DRIVER_FILES` / `VK_ICD_FILENAMES` decide; when neither variable
   * is set, Chromium's SwiftShader driver is added to the search if it is installed, so a machine
   * with no GPU still gets a (CPU-emulated) adapter and one with a GPU still prefers the GPU.
   */
  icdPath?: string;
  /**
   * Compile onnxruntime-web's wasm with V8's baseline compiler only (`--liftoff-only`, set for this
   * process before the wasm is compiled). Default: on a CPU-emulated adapter. V8 otherwise recompiles
   * the hot part of the 27 MB asyncify wasm with TurboFan in the background for a minute or more of
   * CPU, and Node waits for that before it exits: the CLI's `probe --device webgpu` on the demo pair
   * took 114 s to exit (23 s to print), 8 s with this. On a real GPU the optimised code is kept
   * (ORT's own CPU work per run is faster), and exit waits for the compile.
   */
  liftoffOnly?: boolean;
}

/** SwiftShader's Vulkan driver, as Debian's `chromium` package installs it. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

/** The slice of an ORT `Tensor` (either runtime's) this module touches. */
interface OrtTensorLike {
  type: string;
  dims: readonly number[];
  location: string;
  data?: unknown;
  gpuBuffer?: unknown;
  getData?(releaseData?: boolean): Promise<unknown>;
  dispose?(): void;
}
type Feeds = Record<string, unknown>;
interface OrtSessionLike {
  run(feeds: Feeds, ...rest: unknown[]): Promise<Record<string, OrtTensorLike>>;
}
interface SessionOptionsLike {
  executionProviders?: readonly (string | { name: string })[];
  externalData?: readonly unknown[];
  [key: string]: unknown;
}
interface OrtModuleLike {
  InferenceSession: { create(...args: unknown[]): Promise<OrtSessionLike> };
  Tensor: {
    new (type: string, data: unknown, dims: readonly number[]): OrtTensorLike;
    fromGpuBuffer(buffer: unknown, opts: object): OrtTensorLike;
  };
  env: {
    logLevel?: string;
    wasm: { wasmBinary?: ArrayBufferLike | Uint8Array; numThreads?: number; proxy?: boolean };
    webgpu: { powerPreference?: string; adapter?: unknown; device?: unknown };
  };
}

const MARK = Symbol.for('deltascope.nodeWebgpu');

/** Dawn's answer: the adapter it would use, and the `navigator.gpu` that found it. */
interface Probe {
  gpu: GpuLike;
  adapter: GpuAdapterLike;
  info: NodeWebGpuInfo;
  /** `globals` of the `webgpu` package: GPUBufferUsage, GPUQueue, … */
  globals: Record<string, unknown>;
}

let probing: Promise<Probe | null> | null = null;
/** Why the `webgpu` package itself could not be used, when that was the problem. */
let dawnLoadFailure: string | null = null;
let installing: Promise<NodeWebGpuInfo | null> | null = null;

/**
 * Asks Dawn for an adapter (about 20 ms: loads `dawn.node`, creates a Vulkan instance), without
 * touching onnxruntime or any global: what `chooseDevice('auto')` needs to decide. Cached for the
 * process (the Vulkan loader reads its variables once per instance; a second answer would be the
 * same); the first call's options decide. Null when there is no adapter.
 */
export function probeNodeWebGpu(opts: NodeWebGpuOptions = {}): Promise<NodeWebGpuInfo | null> {
  return probe(opts).then((p) => p?.info ?? null);
}

function probe(opts: NodeWebGpuOptions): Promise<Probe | null> {
  probing ??= (async () => {
    prepareVulkanEnv(opts.icdPath);
    let gpu: GpuLike;
    let globals: Record<string, unknown>;
    let adapter: GpuAdapterLike | null;
    try {
      const dawn = (await import('webgpu')) as unknown as {
        create(flags: string[]): GpuLike;
        globals: Record<string, unknown>;
      };
      globals = dawn.globals;
      gpu = dawn.create([]);
      adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    } catch (e) {
      // No dawn.node for this platform, or it failed to load: as good as no adapter, for `auto`.
      dawnLoadFailure = e instanceof Error ? e.message : String(e);
      return null;
    }
    // Without an adapter the instance is dropped here, so nothing of Dawn's is kept.
    if (adapter === null) return null;
    const info: NodeWebGpuInfo = {
      adapter: describeNodeAdapter(adapter),
      cpuEmulated: isCpuEmulated(adapter),
      shaderF16: (adapter as { features?: { has(f: string): boolean } }).features?.has('shader-f16') ?? false,
    };
    return { gpu, adapter, info, globals };
  })();
  return probing;
}

/**
 * Makes `openPair(source, { device: 'webgpu' })` work in Node: finds a WebGPU adapter through Dawn,
 * publishes it as `navigator.gpu`, loads onnxruntime-web from this package's own files (never a
 * CDN), and routes transformers.js's "webgpu" sessions to it. Idempotent: the first call decides
 * (later calls get its answer, whatever their options). Resolves to null when Dawn finds no adapter
 * (no Vulkan loader, no driver it accepts); nothing is changed then.
 */
export function installNodeWebGpu(opts: NodeWebGpuOptions = {}): Promise<NodeWebGpuInfo | null> {
  installing ??= (async () => {
    const found = await probe(opts);
    if (found === null) return null;
    // ORT's WebGPU code names the usage flags through these globals (GPUBufferUsage, GPUMapMode, …).
    for (const [name, value] of Object.entries(found.globals)) {
      if (!(name in globalThis)) {
        Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
      }
    }
    patchWriteBuffer(found.globals.GPUQueue as { prototype: GpuQueueLike } | undefined);
    publishNavigatorGpu(found.gpu);
    const web = await loadOrtWeb(found.adapter, opts.liftoffOnly ?? found.info.cpuEmulated);
    routeWebGpuSessions(web);
    return found.info;
  })();
  return installing;
}

/**
 * The Vulkan loader reads these variables when Dawn creates its instance (after this, in the same
 * process). An explicit manifest wins; a caller's `VK_DRIVER_FILES` / `VK_ICD_FILENAMES` (a real GPU's
 * driver) is left alone; otherwise SwiftShader is *added* to the drivers the loader finds itself,
 * and Dawn's high-performance choice still prefers a real GPU over it.
 */
export function prepareVulkanEnv(icdPath: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  if (icdPath !== undefined) {
    env.VK_DRIVER_FILES = icdPath;
    env.VK_ICD_FILENAMES = icdPath;
    return;
  }
  if (env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES) return;
  if (process.platform !== 'linux' || !existsSync(SWIFTSHADER_ICD)) return;
  const added = (env.VK_ADD_DRIVER_FILES ?? '').split(':').filter((s) => s !== '');
  if (!added.includes(SWIFTSHADER_ICD)) env.VK_ADD_DRIVER_FILES = [...added, SWIFTSHADER_ICD].join(':');
}

/** Where a Linux Vulkan loader is looked for (LD_LIBRARY_PATH first, then the usual library folders). */
function vulkanLoaderDirs(env: NodeJS.ProcessEnv): string[] {
  const triplet = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  return [
    ...(env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== ''),
    `/lib/${triplet}`,
    `/usr/lib/${triplet}`,
    '/lib64',
    '/usr/lib64',
    '/lib',
    '/usr/lib',
    '/usr/local/lib',
  ];
}

/**
 * Why Dawn most likely found no adapter, and the fix, for the error `--device webgpu` gives: no
 * Vulkan loader, a driver variable naming a missing file, no driver at all, or drivers Dawn refused.
 */
export function explainNoAdapter(env: NodeJS.ProcessEnv = process.env): string {
  if (dawnLoadFailure !== null) return `the webgpu package (Dawn) could not be loaded: ${dawnLoadFailure}`;
  if (process.platform === 'linux') {
    if (!vulkanLoaderDirs(env).some((d) => existsSync(join(d, 'libvulkan.so.1')))) {
      return 'no Vulkan loader (libvulkan.so.1): install it (Debian: apt-get install libvulkan1) or put its folder on LD_LIBRARY_PATH.';
    }
    for (const name of ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES'] as const) {
      const missing = (env[name] ?? '').split(':').filter((f) => f !== '' && !existsSync(f));
      if (missing.length > 0) {
        return `no Vulkan driver: ${name} names ${missing.join(', ')}, which does not exist. Set it to a driver manifest (your GPU's, e.g. nvidia_icd.json, or SwiftShader's ${SWIFTSHADER_ICD} from Debian's chromium package).`;
      }
    }
    if (!env.VK_DRIVER_FILES && !env.VK_ICD_FILENAMES && !existsSync(SWIFTSHADER_ICD)) {
      return `no Vulkan driver: set VK_ICD_FILENAMES to a driver manifest (your GPU's, e.g. nvidia_icd.json, or SwiftShader's ${SWIFTSHADER_ICD}: apt-get install chromium).`;
    }
    return (
      "the Vulkan drivers found gave Dawn no adapter it accepts (Mesa's lavapipe is refused): point VK_ICD_FILENAMES at your GPU's driver manifest or at SwiftShader's (" +
      SWIFTSHADER_ICD +
      ').'
    );
  }
  return 'this system offers Dawn no GPU adapter.';
}

/** "SwiftShader driver 5.0.0 · google · swiftshader": the adapter's own words, de-duplicated. */
export function describeNodeAdapter(adapter: GpuAdapterLike): string {
  const info = adapter.info ?? {};
  const parts = [info.description, info.vendor, info.architecture].filter((s): s is string => !!s);
  return parts.length > 0 ? [...new Set(parts)].join(' · ') : 'WebGPU adapter';
}

/** A software adapter: Dawn marks it as the fallback adapter; the names catch older Dawns. */
export function isCpuEmulated(adapter: GpuAdapterLike): boolean {
  const info = adapter.info ?? {};
  if (info.isFallbackAdapter === true || adapter.isFallbackAdapter === true) return true;
  const words = [info.description, info.vendor, info.architecture, info.device].join(' ');
  return /swiftshader|lavapipe|llvmpipe|softpipe/i.test(words);
}

interface GpuQueueLike {
  writeBuffer(
    buffer: unknown,
    offset: number,
    data: ArrayBufferView | ArrayBufferLike,
    ...rest: number[]
  ): void;
}

/**
 * onnxruntime-web's wasm memory is a SharedArrayBuffer (threaded build), and it uploads straight from
 * views of it; Dawn's Node binding refuses a shared buffer ("Invalid argument"). Such a view is
 * copied into a plain buffer first (only the bytes that are written); anything else goes through as is.
 */
function patchWriteBuffer(queueClass: { prototype: GpuQueueLike } | undefined): void {
  if (queueClass === undefined) return;
  const proto = queueClass.prototype as GpuQueueLike & { [MARK]?: true };
  if (proto[MARK]) return;
  const original = proto.writeBuffer;
  proto.writeBuffer = function (this: GpuQueueLike, buffer, offset, data, ...rest) {
    if (typeof SharedArrayBuffer !== 'undefined') {
      if (data instanceof SharedArrayBuffer) {
        const [dataOffset = 0, size] = rest;
        const end = size === undefined ? data.byteLength : dataOffset + size;
        return original.call(this, buffer, offset, new Uint8Array(data.slice(dataOffset, end)));
      }
      if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
        // A typed array's `slice` copies into a fresh (unshared) buffer of the same element type, so
        // dataOffset/size (in elements) keep their meaning; a DataView counts bytes, as a Uint8Array.
        const copy =
          data instanceof DataView
            ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice()
            : (data as unknown as { slice(): ArrayBufferView }).slice();
        return original.call(this, buffer, offset, copy, ...rest);
      }
    }
    return original.call(this, buffer, offset, data, ...rest);
  };
  proto[MARK] = true;
}

/** onnxruntime-web asks `navigator.gpu` for its adapter; Node 20 has no `navigator`, Node 21+ no `gpu`. */
function publishNavigatorGpu(gpu: GpuLike): void {
  const g = globalThis as { navigator?: object };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  }
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
}

const require = createRequire(import.meta.url);

/**
 * onnxruntime-web's WebGPU build (`onnxruntime-web/webgpu`, the bundle whose factory is inlined),
 * with its asyncify `.wasm` read from this install's own `node_modules` and handed over as bytes, so
 * nothing is fetched. One thread: the GPU does the work, and worker threads would need the factory
 * as a separate file.
 */
async function loadOrtWeb(adapter: GpuAdapterLike, liftoffOnly: boolean): Promise<OrtModuleLike> {
  if (liftoffOnly) {
    try {
      (await import('node:v8')).setFlagsFromString('--liftoff-only');
    } catch {
      // A Node that froze its V8 flags: the optimising compile stays, only slower to start and exit.
    }
  }
  const web = (await import('onnxruntime-web/webgpu')) as unknown as OrtModuleLike;
  if (web.env.wasm.wasmBinary === undefined) {
    web.env.wasm.wasmBinary = await readFile(require.resolve(ORT_WEB_WASM));
  }
  web.env.wasm.numThreads = 1;
  web.env.wasm.proxy = false;
  web.env.logLevel = 'error';
  web.env.webgpu.powerPreference = 'high-performance';
  web.env.webgpu.adapter = adapter;
  return web;
}

/** The file the WebGPU execution provider's build loads in this onnxruntime-web version. */
export const ORT_WEB_WASM = 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm';

/** The onnxruntime-node object transformers.js uses: resolved from transformers.js's own folder. */
function transformersOrtNode(): OrtModuleLike {
  const transformersEntry = require.resolve('@huggingface/transformers');
  return createRequire(transformersEntry)('onnxruntime-node') as OrtModuleLike;
}

const wantsWebGpu = (options: unknown): boolean =>
  Array.isArray((options as SessionOptionsLike | undefined)?.executionProviders) &&
  (options as SessionOptionsLike).executionProviders!.some(
    (ep) => (typeof ep === 'string' ? ep : ep.name) === 'webgpu',
  );

/** Wraps onnxruntime-node's `InferenceSession.create` once: "webgpu" sessions go to onnxruntime-web. */
function routeWebGpuSessions(web: OrtModuleLike): void {
  const node = transformersOrtNode();
  const session = node.InferenceSession as OrtModuleLike['InferenceSession'] & { [MARK]?: true };
  if (session[MARK]) return;
  const createOnNode = session.create.bind(session);
  // Sessions on one ORT-web instance neither load nor run concurrently (one wasm heap, one device
  // queue): transformers.js chains them in the browser, and does not in Node, so this does.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work, work);
    chain = next.catch(() => {});
    return keepLoopBusy(next);
  };
  session.create = (...args: unknown[]) => {
    const [model, options] = args;
    if (args.length !== 2 || !wantsWebGpu(options)) return createOnNode(...args);
    return serial(async () => {
      const { bytes, externalData } = await modelBytes(model, options as SessionOptionsLike);
      const webSession = await web.InferenceSession.create(bytes, {
        ...(options as SessionOptionsLike),
        ...(externalData.length > 0 ? { externalData } : {}),
      });
      const run = webSession.run.bind(webSession);
      webSession.run = async (feeds: Feeds, ...rest: unknown[]) =>
        asNodeTensors(node, await serial(() => run(feeds, ...rest)));
      return webSession;
    });
  };
  session[MARK] = true;
  exposeWebGpuDevice(node, web);
}

let inFlight = 0;
let keepAlive: ReturnType<typeof setInterval> | null = null;

/**
 * Holds a timer while onnxruntime-web work is in flight. V8 compiles the 27 MB wasm's hot code
 * again, optimised, on background threads for a minute or more; whenever Node's event loop finds
 * nothing to wait for (as between two awaited steps of ORT or Dawn, whose completions come as
 * V8 tasks, not loop events), it blocks until all those background jobs are done. Measured: the
 * demo pair's load 70-140 s without this, 5-11 s with it, on two loaded cores. The timer does
 * nothing but keep the loop waiting, so promises keep resolving while V8 compiles.
 */
function keepLoopBusy<T>(work: Promise<T>): Promise<T> {
  if (inFlight++ === 0) keepAlive = setInterval(() => {}, 1000);
  const done = () => {
    if (--inFlight === 0 && keepAlive !== null) {
      clearInterval(keepAlive);
      keepAlive = null;
    }
  };
  work.then(done, done);
  return work;
}

/**
 * transformers.js hands onnxruntime-node a file path in Node; onnxruntime-web wants the bytes, and
 * the external-data files beside the model (`model.onnx_data`, `model.onnx_data_1`, …) named.
 */
async function modelBytes(
  model: unknown,
  options: SessionOptionsLike,
): Promise<{ bytes: Uint8Array; externalData: { path: string; data: Uint8Array }[] }> {
  if (typeof model !== 'string') return { bytes: model as Uint8Array, externalData: [] };
  const bytes = new Uint8Array(await readFile(model));
  if (options.externalData !== undefined) return { bytes, externalData: [] };
  const dir = dirname(model);
  const prefix = `${basename(model)}_data`;
  const names = readdirSync(dir).filter(
    (f) => f === prefix || (/^_\d+$/.test(f.slice(prefix.length)) && f.startsWith(prefix)),
  );
  const externalData = await Promise.all(
    names.map(async (name) => ({ path: name, data: new Uint8Array(await readFile(join(dir, name))) })),
  );
  return { bytes, externalData };
}

/**
 * A web session's outputs as onnxruntime-node's Tensor class, sharing their data: a CPU tensor wraps
 * the same typed array, a GPU tensor (transformers.js keeps the KV cache on the GPU) keeps its buffer,
 * download and dispose. onnxruntime-web reads its inputs by shape (type, dims, data or gpuBuffer), so
 * these go back in as they are.
 */
function asNodeTensors(
  node: OrtModuleLike,
  outputs: Record<string, OrtTensorLike>,
): Record<string, OrtTensorLike> {
  const converted: Record<string, OrtTensorLike> = {};
  for (const [name, t] of Object.entries(outputs)) {
    if (t.location === 'gpu-buffer') {
      converted[name] = node.Tensor.fromGpuBuffer(t.gpuBuffer, {
        dataType: t.type,
        dims: t.dims,
        download: () => t.getData!(),
        dispose: () => t.dispose!(),
      });
    } else {
      converted[name] = new node.Tensor(t.type, t.data, t.dims);
    }
  }
  return converted;
}

/**
 * `deviceLossWatch.ts` finds the GPUDevice at `env.backends.onnx.webgpu.device`, which in Node is
 * onnxruntime-node's env (transformers.js copied its fields at load; `webgpu` is the same object).
 * This points that field at onnxruntime-web's device, so the loss watch works in Node unchanged.
 */
function exposeWebGpuDevice(node: OrtModuleLike, web: OrtModuleLike): void {
  const target = node.env.webgpu as object | undefined;
  if (target === undefined) return;
  Object.defineProperty(target, 'device', {
    configurable: true,
    enumerable: true,
    get: () => web.env.webgpu.device,
  });
}
