import {
  AutoModelForCausalLM,
  AutoTokenizer,
  env,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import { DeltascopeError, throwIfCancelled } from '../core/index.ts';
import { chooseDevice, type DeviceChoice, type DevicePreference } from './device.ts';
import { watchDeviceLoss } from './deviceLossWatch.ts';
import { bindDownloads, downloadPolicyFromEnv, type DownloadPolicy, type DownloadRetry } from './download.ts';
import { ModelLoadError } from './errors.ts';
import {
  FileHashRecorder,
  fullPairModels,
  hashFilesAtRest,
  hashingModelFiles,
  normalizeModelPath,
  type RuntimeCaches,
} from './loadProvenance.ts';
import { queueLoad } from './loadQueue.ts';
import { checkDtype, checkSameTokenizer, validateModelFiles, type ModelDtype } from './modelFiles.ts';
import { hubRoot, type ModelRef, type PairRef } from './modelSource.ts';
import { DEFAULT_MAX_BATCH, PairBackend, type PairBackendOptions } from './pairBackend.ts';
import { TransformersRunner } from './transformersRunner.ts';
import { VIRTUAL_HOST, bindFetchSignal, mountModelFiles, watchRemote, type Mount } from './virtualFetch.ts';

export interface LoadProgress {
  view: 'base' | 'ft';
  file: string;
  loaded: number;
  total: number;
  /**
   * Set when a download of `file` failed and is about to be tried again (`describeRetry` words it:
   * "retrying config.json in 2 s (attempt 2 of 5)"); `loaded` is what of the file is kept.
   */
  retry?: DownloadRetry;
}

export interface LoadOptions extends PairBackendOptions {
  device?: DevicePreference;
  dtype?: string;
  maxBatchSize?: number;
  onProgress?: (p: LoadProgress) => void;
  /**
   * How model-file downloads are retried (`DEFAULT_DOWNLOAD_POLICY`: 5 attempts, 0.5 s base delay ×2 up
   * to 30 s, full jitter, 30 s stall timeout). In Node the `DELTASCOPE_DOWNLOAD_*` environment
   * variables (`DOWNLOAD_POLICY_ENV`) set it too; these fields win over them.
   */
  retry?: Partial<DownloadPolicy>;
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
  /**
   * Runtime LoRA only: base, ft and scaled views asking for forward passes at the same time run as
   * rows of one batch with a scale per row (default true); false gives each view its own runs.
   */
  viewsAsRows?: boolean;
}

export const CANCELLED = 'Loading cancelled.';

export function configureRuntime(opts: LoadOptions): void {
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
    // transformers.js would otherwise re-serve the runtime's .mjs from a blob: URL (to keep it in
    // Cache Storage), which the page's CSP refuses as a script source; our origin serves it anyway.
    (env as { useWasmCache?: boolean }).useWasmCache = false;
  }
}

export interface LoadedModel {
  model: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
  mount: Mount | null;
  /** The files transformers.js read for it (`onnx/model.onnx`, `config.json`, …), cache hits included. */
  read: string[];
}

/** Where transformers.js caches downloads now (for hashing a file it read from a cache). */
export function runtimeCaches(): RuntimeCaches {
  return { cacheDir: env.cacheDir ?? null, cacheKey: env.cacheKey };
}

/** Points transformers.js at one model (hub, folder on disk, or a virtual mount) and opens it. */
export async function loadOne(
  ref: ModelRef,
  view: 'base' | 'ft',
  device: DeviceChoice,
  dtype: ModelDtype,
  opts: LoadOptions,
): Promise<LoadedModel> {
  let id: string;
  let revision = 'main';
  let mount: Mount | null = null;
  const anyEnv = env as unknown as { useBrowserCache: boolean; useFSCache: boolean };
  // In Node, onnxruntime-node opens ONNX files by path: local folders load directly, hub files go
  // through transformers.js's file-system cache.
  anyEnv.useFSCache = ref.hub !== undefined;
  env.allowLocalModels = ref.localDir !== undefined;
  let unwatch = () => {};
  if (ref.localDir !== undefined) {
    id = ref.localDir;
  } else if (ref.hub !== undefined) {
    env.remoteHost = ref.hub.host.endsWith('/') ? ref.hub.host : `${ref.hub.host}/`;
    env.remotePathTemplate = '{model}/resolve/{revision}/';
    anyEnv.useBrowserCache = typeof caches !== 'undefined';
    id = ref.hub.id;
    revision = ref.hub.revision;
    unwatch = watchRemote(hubRoot(ref.hub), ref.files.label);
  } else {
    mount = mountModelFiles(ref.files, view);
    env.remoteHost = VIRTUAL_HOST;
    env.remotePathTemplate = '{model}/';
    anyEnv.useBrowserCache = false;
    id = mount.id;
  }
  const read: string[] = [];
  const progress_callback = (p: { status?: string; file?: string; loaded?: number; total?: number }) => {
    if (p.status === 'done' && p.file !== undefined) read.push(normalizeModelPath(p.file));
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
    return { model, tokenizer, mount, read };
  } catch (e) {
    mount?.unmount();
    throwIfCancelled(opts.signal, CANCELLED);
    // A download that failed says so itself (file, repo, revision): not "could not open the model".
    const own = projectError(e);
    if (own !== undefined) throw own;
    throw new ModelLoadError(
      'model-load/failed',
      `${ref.files.label}: transformers.js could not open the model on ${device.device} (${(e as Error).message}).`,
      { input: ref.files.label, cause: e },
    );
  } finally {
    unwatch();
  }
}

/** The project error `e` is or was caused by (transformers.js may wrap what a fetch threw). */
function projectError(e: unknown): DeltascopeError | undefined {
  for (let cur = e, depth = 0; cur instanceof Error && depth < 5; cur = cur.cause, depth++) {
    if (cur instanceof DeltascopeError) return cur;
  }
  return undefined;
}

/**
 * Opens a resolved base/ft pair of full models on one device: validates both folders (naming any
 * missing file), refuses differing tokenizers, picks the device, loads, and warms each model up with
 * one traced forward. Loads queue (transformers.js's configuration is global); see `queueLoad`.
 */
export function loadTransformersPair(pair: PairRef, opts: LoadOptions = {}): Promise<PairBackend> {
  const ftLabel = pair.ft.files.label;
  const viewOf = (model: string) => (model === ftLabel && model !== pair.base.files.label ? 'ft' : 'base');
  return runLoad(
    (hashes) =>
      loadPairSteps(withHashes(opts.signal ? withSignal(pair, opts.signal) : pair, hashes), opts, hashes),
    opts,
    viewOf,
  );
}

/**
 * Runs a load's steps in the load queue, with transformers.js's fetches tied to `opts.signal`: the
 * one way every loader (full pair, base + adapter) starts, cancels and reports a cancellation. Every
 * model-file download of the load retries by `opts.retry` and reports each retry through
 * `opts.onProgress` (`viewOf` tells a model's label to its view; by default every file is `base`'s).
 * `steps` gets the load's `FileHashRecorder`, which every download of the load feeds.
 */
export function runLoad<T extends { dispose(): Promise<unknown> }>(
  steps: (hashes: FileHashRecorder) => Promise<T>,
  opts: LoadOptions,
  viewOf: (model: string) => 'base' | 'ft' = () => 'base',
): Promise<T> {
  const hashes = new FileHashRecorder();
  const bind = () =>
    bindDownloads({
      hashes,
      policy: { ...downloadPolicyFromEnv(processEnv()), ...opts.retry },
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      cancelledMessage: CANCELLED,
      onRetry: (r) =>
        opts.onProgress?.({
          view: viewOf(r.model),
          file: r.file,
          loaded: r.received,
          total: r.total,
          retry: r,
        }),
    });
  return queueLoad(() => loadNow(() => steps(hashes), opts.signal, bind), {
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    ...(opts.onWaiting !== undefined ? { onWaiting: opts.onWaiting } : {}),
    cancelledMessage: CANCELLED,
  });
}

async function loadNow<T>(
  steps: () => Promise<T>,
  signal: AbortSignal | undefined,
  bind: () => () => void,
): Promise<T> {
  throwIfCancelled(signal, CANCELLED);
  const unbindDownloads = bind();
  const unbind = bindFetchSignal(signal);
  try {
    return await steps();
  } catch (e) {
    // A step that failed because its fetch was aborted reports the cancellation, not a broken model.
    throwIfCancelled(signal, CANCELLED);
    throw e;
  } finally {
    unbindDownloads();
    unbind();
  }
}

/** Node's environment (the CLI's `DELTASCOPE_DOWNLOAD_*`); nothing in the browser. */
function processEnv(): Readonly<Record<string, string | undefined>> | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
}

/** The pair with every file read (validation included) tied to `signal`. */
function withSignal(pair: PairRef, signal: AbortSignal): PairRef {
  const wrap = (ref: ModelRef): ModelRef => ({
    ...ref,
    files: { label: ref.files.label, fetch: (path, init) => ref.files.fetch(path, { ...init, signal }) },
  });
  return { ...pair, base: wrap(pair.base), ft: wrap(pair.ft) };
}

/** The pair with the ONNX files it streams hashed into `hashes`, as base's and ft's. */
function withHashes(pair: PairRef, hashes: FileHashRecorder): PairRef {
  hashes.watch(pair.base.files.label, 'base');
  hashes.watch(pair.ft.files.label, 'ft');
  const wrap = (ref: ModelRef): ModelRef => ({ ...ref, files: hashingModelFiles(ref.files, hashes) });
  return { ...pair, base: wrap(pair.base), ft: wrap(pair.ft) };
}

async function loadPairSteps(
  pair: PairRef,
  opts: LoadOptions,
  hashes: FileHashRecorder,
): Promise<PairBackend> {
  const signal = opts.signal;
  const dtype = checkDtype(opts.dtype ?? 'fp32');
  const [baseCfg, ftCfg] = await Promise.all([
    validateModelFiles(pair.base.files, dtype),
    validateModelFiles(pair.ft.files, dtype),
  ]);
  if (baseCfg.vocabSize !== ftCfg.vocabSize) {
    throw new ModelLoadError(
      'model-load/mismatch',
      `The base (${pair.base.files.label}, vocab ${baseCfg.vocabSize}) and fine-tuned (${pair.ft.files.label}, ` +
        `vocab ${ftCfg.vocabSize}) models have different vocabularies; they cannot be compared.`,
      { input: 'config.json' },
    );
  }
  await checkSameTokenizer(pair.base.files, pair.ft.files);
  const device = await chooseDevice(opts.device ?? 'auto');
  if ((dtype === 'fp16' || dtype === 'q4f16') && device.device === 'webgpu' && !device.shaderF16) {
    throw new ModelLoadError(
      'model-load/unsupported',
      `dtype ${dtype} needs the WebGPU feature shader-f16, which this adapter (${device.detail}) lacks; use fp32 or q8.`,
      { input: 'dtype' },
    );
  }
  configureRuntime(opts);
  throwIfCancelled(signal, CANCELLED);
  // Whatever is open when a later step fails (or the load is cancelled) is disposed before the error
  // goes on: a failed ft load must not leave base's session, buffers and mount behind.
  const opened: { dispose(): Promise<unknown> }[] = [];
  const release = (m: LoadedModel) => ({
    dispose: async () => {
      m.mount?.unmount();
      await m.model.dispose();
    },
  });
  try {
    const base = await loadOne(pair.base, 'base', device, dtype, opts);
    opened.push(release(base));
    throwIfCancelled(signal, CANCELLED);
    const ft = await loadOne(pair.ft, 'ft', device, dtype, opts);
    opened.push(release(ft));
    throwIfCancelled(signal, CANCELLED);
    // ONNX files no stream passed (opened by path in Node, read from a cache) are hashed where they lie.
    await hashFilesAtRest(pair.base, 'base', base.read, hashes, runtimeCaches());
    await hashFilesAtRest(pair.ft, 'ft', ft.read, hashes, runtimeCaches());
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
        models: fullPairModels(pair.base, pair.ft, hashes),
        files: hashes.files(),
      },
      opts,
    );
    backend.onDispose(() => {
      base.mount?.unmount();
      ft.mount?.unmount();
    });
    opened.splice(0, opened.length, backend);
    if (device.device === 'webgpu') {
      backend.onDispose(await watchDeviceLoss([baseRunner, ftRunner], opts.onDeviceLost));
    }
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

const WARMUP_PROMPT = 'hello';

/**
 * One forward per model outside the cache and the stats, traced through the instrumentation as a
 * `warmup` event: on WebGPU the first run compiles shaders and would otherwise inflate the first
 * real pass.
 */
export async function warmUp(
  backend: PairBackend,
  view: string,
  runner: TransformersRunner,
  device: string,
): Promise<void> {
  try {
    await backend.instrumentation.uncached(
      'warmup',
      view,
      WARMUP_PROMPT,
      () => runner.forward([runner.encode(WARMUP_PROMPT, true)], 'last'),
      { device },
    );
  } catch (e) {
    throw warmUpError(e, view, device);
  }
}

/**
 * A failed first forward pass as a `model-load/failed` error naming the model and the device: the
 * files parsed and the sessions were created, but the graph does not run here (an op the execution
 * provider lacks, a cache shape transformers.js cannot size). Errors that already carry a code
 * (device lost, cancelled) pass through.
 */
export function warmUpError(e: unknown, view: string, device: string): unknown {
  if (e instanceof DeltascopeError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  // transformers.js sizes the empty first-step KV cache from the export's dims, turning every
  // symbolic one except batch_size into 0: GroupQueryAttention then refuses a head size of 0.
  const hint = /past_key.*got 0/i.test(msg)
    ? " The export declares its KV cache's head size symbolically (as newer ORT GenAI builder exports do " +
      'with kv_cache_dim); transformers.js sizes that dimension as 0. Re-export with a fixed head size ' +
      '(e.g. Optimum, or the builder without kv_cache_dim).'
    : '';
  return new ModelLoadError(
    'model-load/failed',
    `The ${view} model opened, but its first forward pass on ${device} failed: ${msg}.${hint}`,
    { input: view, cause: e },
  );
}
