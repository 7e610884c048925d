import {
  AutoModelForCausalLM,
  AutoTokenizer,
  env,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import { CancelledError, promptHash, throwIfCancelled, type TraceEvent } from '../core/index.ts';
import { chooseDevice, type DeviceChoice, type DevicePreference } from './device.ts';
import { ModelLoadError } from './errors.ts';
import {
  checkDtype,
  checkSameTokenizer,
  notFound,
  validateModelFiles,
  type ModelDtype,
  type ModelFiles,
} from './modelFiles.ts';
import { DEFAULT_MAX_BATCH, PairBackend, type PairBackendOptions } from './pairBackend.ts';
import { TransformersRunner } from './transformersRunner.ts';

/** Where one model of the pair comes from. */
export interface ModelRef {
  files: ModelFiles;
  /** Set for hub models: loaded through transformers.js's own hub path, so its cache applies. */
  hub?: { id: string; revision: string; host: string };
  /** Node: a folder on disk, handed to onnxruntime-node by path. */
  localDir?: string;
}

export interface PairRef {
  /** Identity of the pair; a shared cache is cleared when it changes. */
  pairId: string;
  base: ModelRef;
  ft: ModelRef;
}

export interface LoadProgress {
  view: 'base' | 'ft';
  file: string;
  loaded: number;
  total: number;
}

export interface LoadOptions extends PairBackendOptions {
  device?: DevicePreference;
  dtype?: string;
  maxBatchSize?: number;
  onProgress?: (p: LoadProgress) => void;
  /** Run one forward per model after load (default true): WebGPU compiles its shaders on the first run. */
  warmup?: boolean;
  /** Browser: where the ORT `.wasm`/`.mjs` files are served (our own origin). */
  ortBaseUrl?: string;
  /** Node: where hub downloads are cached (transformers.js hands onnxruntime-node a file path). */
  cacheDir?: string;
  /** Most bytes of logits one session run may return; bigger batches run in slices (default 256 MiB). */
  logitsBudgetBytes?: number;
  /**
   * Cancels the load: downloads in flight are aborted, and the load stops at its next step (a session
   * being created finishes first, then is disposed) with a `CancelledError`.
   */
  signal?: AbortSignal;
  /**
   * Called once if the WebGPU device the pair runs on is lost; from then on every op of the pair
   * throws a `DeviceLostError` (ORT keeps its device for the worker's life: restart the worker).
   */
  onDeviceLost?: (message: string) => void;
  /**
   * Called when this load has to wait for an earlier one that has not stopped yet (a cancelled load
   * whose step cannot be interrupted): transformers.js's configuration is global, so loads queue.
   */
  onWaiting?: () => void;
}

const CANCELLED = 'Loading cancelled.';

const VIRTUAL_HOST = 'https://models.deltascope.invalid/';
const mounts = new Map<string, ModelFiles>();
let mountCounter = 0;
let fetchInstalled = false;
/** The signal of the load in progress (loads run one at a time): every fetch of that load carries it. */
let activeSignal: AbortSignal | undefined;

function withActiveSignal(init: RequestInit | undefined): RequestInit | undefined {
  if (activeSignal === undefined) return init;
  const signal = init?.signal ? AbortSignal.any([init.signal, activeSignal]) : activeSignal;
  return { ...init, signal };
}

/**
 * Routes transformers.js's requests for non-hub models (demo folder, picked files, local folders)
 * through their `ModelFiles`, under a virtual host. Each load gets a fresh mount name, so neither
 * transformers.js's memoised metadata nor any cache can serve one model's file for another.
 */
function installVirtualFetch(): void {
  if (fetchInstalled) return;
  fetchInstalled = true;
  const original = env.fetch;
  env.fetch = async (input: string | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input.href;
    init = withActiveSignal(init);
    if (!url.startsWith(VIRTUAL_HOST)) return original(input, init);
    const rest = url.slice(VIRTUAL_HOST.length);
    const slash = rest.indexOf('/');
    const files = mounts.get(rest.slice(0, slash));
    const path = decodeURIComponent(rest.slice(slash + 1).split('?')[0]!);
    if (files === undefined) return notFound(path);
    const range = new Headers(init?.headers).get('Range');
    if (range !== null) {
      // transformers.js probes file sizes with `Range: bytes=0-0`; answer from a HEAD, not the body.
      const head = await files.fetch(path, { method: 'HEAD', ...signalOf(init) });
      if (!head.ok) return head;
      const size = head.headers.get('Content-Length') ?? '*';
      return new Response(new Uint8Array(1), {
        status: 206,
        headers: { 'Content-Range': `bytes 0-0/${size}`, 'Content-Length': '1' },
      });
    }
    return files.fetch(path, { method: init?.method === 'HEAD' ? 'HEAD' : 'GET', ...signalOf(init) });
  };
}

function signalOf(init: RequestInit | undefined): { signal?: AbortSignal } {
  return init?.signal ? { signal: init.signal } : {};
}

// transformers.js configuration is one global object: loads run one at a time.
let loadChain: Promise<unknown> = Promise.resolve();
/** Loads started and not yet really stopped (a cancelled one counts until its step ends). */
let loadsInFlight = 0;

function configureRuntime(opts: LoadOptions): void {
  installVirtualFetch();
  env.allowLocalModels = false;
  env.allowRemoteModels = true;
  if (opts.cacheDir !== undefined) env.cacheDir = opts.cacheDir;
  const onnx = env.backends.onnx as unknown as { wasm?: { wasmPaths?: unknown } };
  if (opts.ortBaseUrl !== undefined && onnx.wasm !== undefined) {
    const root = opts.ortBaseUrl.endsWith('/') ? opts.ortBaseUrl : `${opts.ortBaseUrl}/`;
    onnx.wasm.wasmPaths = {
      mjs: `${root}ort-wasm-simd-threaded.asyncify.mjs`,
      wasm: `${root}ort-wasm-simd-threaded.asyncify.wasm`,
    };
  }
}

interface LoadedModel {
  model: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
}

async function loadOne(
  ref: ModelRef,
  view: 'base' | 'ft',
  device: DeviceChoice,
  dtype: ModelDtype,
  opts: LoadOptions,
): Promise<LoadedModel> {
  let id: string;
  let revision = 'main';
  const anyEnv = env as unknown as { useBrowserCache: boolean; useFSCache: boolean };
  // In Node, onnxruntime-node opens ONNX files by path: local folders load directly, hub files go
  // through transformers.js's file-system cache.
  anyEnv.useFSCache = ref.hub !== undefined;
  env.allowLocalModels = ref.localDir !== undefined;
  if (ref.localDir !== undefined) {
    id = ref.localDir;
  } else if (ref.hub !== undefined) {
    env.remoteHost = ref.hub.host.endsWith('/') ? ref.hub.host : `${ref.hub.host}/`;
    env.remotePathTemplate = '{model}/resolve/{revision}/';
    anyEnv.useBrowserCache = typeof caches !== 'undefined';
    id = ref.hub.id;
    revision = ref.hub.revision;
  } else {
    const mount = `m${++mountCounter}-${view}`;
    mounts.set(mount, ref.files);
    env.remoteHost = VIRTUAL_HOST;
    env.remotePathTemplate = '{model}/';
    anyEnv.useBrowserCache = false;
    id = mount;
  }
  const progress_callback = (p: { status?: string; file?: string; loaded?: number; total?: number }) => {
    if (p.status === 'progress' && opts.onProgress !== undefined) {
      opts.onProgress({ view, file: p.file ?? '', loaded: p.loaded ?? 0, total: p.total ?? 0 });
    }
  };
  try {
    const tokenizer = await AutoTokenizer.from_pretrained(id, { revision, progress_callback });
    const model = await AutoModelForCausalLM.from_pretrained(id, {
      revision,
      progress_callback,
      device: device.device === 'cpu' ? 'cpu' : device.device,
      dtype,
    } as Parameters<typeof AutoModelForCausalLM.from_pretrained>[1]);
    return { model, tokenizer };
  } catch (e) {
    throwIfCancelled(opts.signal, CANCELLED);
    throw new ModelLoadError(
      `${ref.files.label}: transformers.js could not open the model on ${device.device} (${(e as Error).message}).`,
    );
  }
}

/**
 * Opens a base/ft pair of full models on one device: validates both folders (naming any missing file),
 * refuses differing tokenizers, picks the device, loads, and warms each model up with one traced forward.
 */
export async function loadTransformersPair(pair: PairRef, opts: LoadOptions = {}): Promise<PairBackend> {
  if (loadsInFlight > 0) opts.onWaiting?.();
  loadsInFlight++;
  const run = loadChain.then(() => loadPairNow(pair, opts));
  // The next load waits until this one has really stopped (transformers.js's config is global)...
  loadChain = run.catch(() => undefined).finally(() => loadsInFlight--);
  const signal = opts.signal;
  if (signal === undefined) return run;
  // ...but a cancel answers at once: a step that cannot be interrupted (a held download, a session
  // being created) finishes in the background, and whatever it loaded is disposed.
  return new Promise<PairBackend>((resolve, reject) => {
    const onAbort = () => reject(new CancelledError(CANCELLED));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    run.then(
      (backend) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) void backend.dispose();
        else resolve(backend);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

async function loadPairNow(pair: PairRef, opts: LoadOptions): Promise<PairBackend> {
  throwIfCancelled(opts.signal, CANCELLED);
  activeSignal = opts.signal;
  try {
    return await loadPairSteps(opts.signal ? withSignal(pair, opts.signal) : pair, opts);
  } catch (e) {
    // A step that failed because its fetch was aborted reports the cancellation, not a broken model.
    throwIfCancelled(opts.signal, CANCELLED);
    throw e;
  } finally {
    activeSignal = undefined;
  }
}

/** The pair with every file read (validation included) tied to `signal`. */
function withSignal(pair: PairRef, signal: AbortSignal): PairRef {
  const wrap = (ref: ModelRef): ModelRef => ({
    ...ref,
    files: { label: ref.files.label, fetch: (path, init) => ref.files.fetch(path, { ...init, signal }) },
  });
  return { ...pair, base: wrap(pair.base), ft: wrap(pair.ft) };
}

async function loadPairSteps(pair: PairRef, opts: LoadOptions): Promise<PairBackend> {
  const signal = opts.signal;
  const dtype = checkDtype(opts.dtype ?? 'fp32');
  const [baseCfg, ftCfg] = await Promise.all([
    validateModelFiles(pair.base.files, dtype),
    validateModelFiles(pair.ft.files, dtype),
  ]);
  if (baseCfg.vocabSize !== ftCfg.vocabSize) {
    throw new ModelLoadError(
      `The base (${pair.base.files.label}, vocab ${baseCfg.vocabSize}) and fine-tuned (${pair.ft.files.label}, ` +
        `vocab ${ftCfg.vocabSize}) models have different vocabularies; they cannot be compared.`,
      'config.json',
    );
  }
  await checkSameTokenizer(pair.base.files, pair.ft.files);
  const device = await chooseDevice(opts.device ?? 'auto');
  if ((dtype === 'fp16' || dtype === 'q4f16') && device.device === 'webgpu' && !device.shaderF16) {
    throw new ModelLoadError(
      `dtype ${dtype} needs the WebGPU feature shader-f16, which this adapter (${device.detail}) lacks; use fp32 or q8.`,
    );
  }
  configureRuntime(opts);
  throwIfCancelled(signal, CANCELLED);
  // Whatever is open when a later step fails (or the load is cancelled) is disposed before the error
  // goes on: a failed ft load must not leave base's session and buffers behind.
  const opened: { dispose(): Promise<unknown> }[] = [];
  try {
    const base = await loadOne(pair.base, 'base', device, dtype, opts);
    opened.push(base.model);
    throwIfCancelled(signal, CANCELLED);
    const ft = await loadOne(pair.ft, 'ft', device, dtype, opts);
    opened.push(ft.model);
    throwIfCancelled(signal, CANCELLED);
    const baseRunner = new TransformersRunner(base.model, base.tokenizer, opts.logitsBudgetBytes);
    const ftRunner = new TransformersRunner(ft.model, ft.tokenizer, opts.logitsBudgetBytes);
    const backend = new PairBackend(
      baseRunner,
      ftRunner,
      {
        pairId: pair.pairId,
        baseModel: pair.base.files.label,
        ftModel: pair.ft.files.label,
        device: device.device,
        deviceDetail: device.detail,
        dtype,
        vocabSize: baseRunner.vocabSize,
        maxBatchSize: opts.maxBatchSize ?? DEFAULT_MAX_BATCH,
      },
      opts,
    );
    opened.splice(0, opened.length, backend);
    if (device.device === 'webgpu') await watchDeviceLoss([baseRunner, ftRunner], opts.onDeviceLost);
    if (opts.warmup ?? true) {
      for (const [view, runner] of [
        ['base', baseRunner],
        ['ft', ftRunner],
      ] as const) {
        throwIfCancelled(signal, CANCELLED);
        await warmUp(backend, view, runner, device.device);
      }
    }
    throwIfCancelled(signal, CANCELLED);
    return backend;
  } catch (e) {
    await Promise.all(opened.map((o) => o.dispose().catch(() => {})));
    throw e;
  }
}

interface GpuDeviceLike {
  lost: Promise<{ reason?: string; message?: string }>;
}

/**
 * Watches the GPUDevice ORT's WebGPU sessions share (created with the first session). It is also
 * published as `self.deltascopeGpuDevice` for inspection from the worker's DevTools console.
 */
async function watchDeviceLoss(
  runners: TransformersRunner[],
  onLost: ((message: string) => void) | undefined,
): Promise<void> {
  const webgpu = (env.backends.onnx as unknown as { webgpu?: { device?: Promise<GpuDeviceLike> } }).webgpu;
  const gpu = await webgpu?.device;
  if (gpu === undefined) return;
  (globalThis as { deltascopeGpuDevice?: GpuDeviceLike }).deltascopeGpuDevice = gpu;
  // Weak: the watch must not keep a disposed pair (its tokenizers) alive until the device goes.
  const refs = runners.map((r) => new WeakRef(r));
  void gpu.lost.then((info) => {
    // ORT destroys its device itself once the last session is released (a pair disposed on reload):
    // that is not a loss for a pair that is gone.
    const live = refs.map((r) => r.deref()).filter((r) => r !== undefined && !r.isDisposed);
    if (live.length === 0) return;
    const why =
      [info.reason, info.message?.replace(/\.+$/, '')].filter((s) => !!s).join(': ') || 'unknown reason';
    const message =
      `The WebGPU device was lost (${why}). Nothing more can run on this pair: restart the engine ` +
      '(on WebGPU, or on WASM, which needs no GPU). Trace events recorded so far are kept.';
    for (const r of live) r!.markDeviceLost(message);
    onLost?.(message);
  });
}

const WARMUP_PROMPT = 'hello';

/**
 * One forward per model outside the cache, traced as its own `warmup` event (not counted in the
 * stats): on WebGPU the first run compiles shaders and would otherwise inflate the first real pass.
 */
async function warmUp(
  backend: PairBackend,
  view: string,
  runner: TransformersRunner,
  device: string,
): Promise<void> {
  const t0 = performance.now();
  await runner.forward([runner.encode(WARMUP_PROMPT, true)], 'last');
  const wallMs = performance.now() - t0;
  const trace = backend.instrumentation.trace;
  const event: TraceEvent & { device: string } = {
    ts: (performance.timeOrigin + performance.now()) / 1000,
    probe: null,
    view_id: view,
    prompt_hash: promptHash(WARMUP_PROMPT),
    top_k: 0,
    op: 'warmup',
    wall_ms: wallMs,
    hit: false,
    device,
  };
  trace.write(event);
}
