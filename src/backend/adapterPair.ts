/**
 * Runtime LoRA behind `openPair`: a base model plus a PEFT adapter opened as ONE session that serves
 * every view. The base graph is rewritten once at load (`rewriteBaseWithAdapter`, A and B as graph
 * inputs) and each view is a runner over the same transformers.js model that feeds its own
 * `lora_scale` (λ) and adapter tensors on every run:
 *
 *  - `base`: λ = 0; `ft`: λ = 1 (each module's PEFT scale is folded into B);
 *  - `scaledView(λ)`: `scaled_<λ>`, the adapter's delta times λ (adapter_ablation);
 *  - `nullView(seed)`: `null_<seed>`, λ = 1 with seeded Gaussian A, B of the adapter's shapes
 *    (null_adapter). Only these adapter-sized tensors are built, never a session; the last few sets
 *    are kept, and an evicted set is drawn again (deterministically) when its view runs next.
 *
 * Every view has its own id, so the forward cache keeps their results apart, and no view ever
 * creates a session. `generate` works on every view: `lora_scale` and the adapter inputs are
 * registered among the model's `forward_params` (transformers.js's `generate` keeps only those).
 */
import { Tensor, type PreTrainedModel } from '@huggingface/transformers';
import {
  ADAPTER_CONFIG_FILE,
  decodeSafetensors,
  loraBranchWeights,
  loraModules,
  nullAdapterModules,
  parseAdapterConfig,
  projectionDims,
  rewriteBaseWithAdapter,
  type BranchWeights,
  type LoraBaseModel,
  type LoraModule,
  type ModuleTarget,
} from '../adapter/index.ts';
import { DeltascopeError, StateError, throwIfCancelled } from '../core/index.ts';
import { float16Array } from '../core/float16.ts';
import { sha1Hex } from '../core/promptHash.ts';
import {
  nullViewId,
  scaledViewId,
  type NullAdapterOptions,
  type NullCalibratedBackend,
  type ScalableBackend,
} from './capabilities.ts';
import { chooseDevice, isNodeWithoutDom, type DeviceChoice } from './device.ts';
import { watchDeviceLoss } from './deviceLossWatch.ts';
import { ModelLoadError } from './errors.ts';
import { InstrumentedView } from './instrumentedView.ts';
import { adapterPairModels, hashFilesAtRest, hashingModelFiles, FileHashRecorder } from './loadProvenance.ts';
import {
  checkDtype,
  notFound,
  onnxFileFor,
  readTextFile,
  validateModelFiles,
  type ModelFiles,
} from './modelFiles.ts';
import type { AdapterPairRef } from './modelSource.ts';
import {
  bindInstrumentation,
  DEFAULT_MAX_BATCH,
  PairBackend,
  type PairBackendOptions,
} from './pairBackend.ts';
import {
  CANCELLED,
  configureRuntime,
  loadOne,
  runLoad,
  runtimeCaches,
  warmUp,
  type LoadedModel,
  type LoadOptions,
} from './transformersPair.ts';
import type { RewrittenFolder } from './adapterNodeDir.ts';
import { TransformersRunner } from './transformersRunner.ts';
import { MergedViewRunner, ViewRowMerger } from './viewRows.ts';
import type { BackendInfo, ScoringView } from './types.ts';

export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
/** sway's default null-adapter init scale (a null view with another one gets a longer id). */
const DEFAULT_INIT_SCALE = 0.02;
/** Null views whose adapter tensors stay built (each is adapter-sized; an evicted one is redrawn). */
const NULL_WEIGHT_SETS_KEPT = 4;

/** What the backend keeps of the rewrite: no model bytes. */
type AdapterModel = Pick<LoraBaseModel, 'scaleInput' | 'config' | 'modules' | 'targets' | 'branches'>;

/** Input name → tensor, for one adapter (real or null) in the rewritten graph's input layout. */
type WeightFeeds = Record<string, Tensor>;

/** The null-stats identity at load, and how to make it for another adapter on the same base. */
interface SwapIdentity {
  nullIdentity?: string;
  identityFor?: (pairId: string, adapter: { config: unknown; safetensors: Uint8Array }) => string;
}

/**
 * Opens a base + adapter (`resolveAdapterPair`'s answer) as one rewritten model on one device.
 * Loads queue with every other load (transformers.js's configuration is global).
 */
export function loadAdapterPair(ref: AdapterPairRef, opts: LoadOptions = {}): Promise<AdapterPairBackend> {
  return runLoad((hashes) => loadSteps(withHashes(ref, hashes), opts, hashes), opts);
}

/** `ref` with the base's ONNX files and the adapter's files hashed into `hashes` as they are read. */
function withHashes(ref: AdapterPairRef, hashes: FileHashRecorder): AdapterPairRef {
  hashes.watch(ref.base.files.label, 'base');
  hashes.watch(ref.adapter.label, 'adapter');
  return {
    ...ref,
    base: { ...ref.base, files: hashingModelFiles(ref.base.files, hashes) },
    adapter: hashingModelFiles(ref.adapter, hashes),
  };
}

/** A file's bytes, or a `model-load/missing-file` error naming the folder and the file. */
async function readBytes(
  files: ModelFiles,
  path: string,
  why: string,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const res = await files.fetch(path, signal ? { signal } : {});
  if (!res.ok)
    throw new ModelLoadError('model-load/missing-file', `${files.label}: ${path} is missing; ${why}.`, {
      input: path,
    });
  return new Uint8Array(await res.arrayBuffer());
}

/** `adapter_config.json` (parsed) and `adapter_model.safetensors`, each missing or malformed file named. */
async function readAdapter(
  files: ModelFiles,
  signal?: AbortSignal,
): Promise<{ config: unknown; safetensors: Uint8Array }> {
  const text = await readTextFile(files, ADAPTER_CONFIG_FILE);
  if (text === null)
    throw new ModelLoadError(
      'model-load/missing-file',
      `${files.label}: ${ADAPTER_CONFIG_FILE} is missing; a PEFT adapter folder holds ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}.`,
      { input: ADAPTER_CONFIG_FILE },
    );
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (e) {
    throw new ModelLoadError(
      'model-load/invalid-file',
      `${files.label}: ${ADAPTER_CONFIG_FILE} is not valid JSON (${(e as Error).message}).`,
      { input: ADAPTER_CONFIG_FILE },
    );
  }
  const safetensors = await readBytes(
    files,
    ADAPTER_WEIGHTS_FILE,
    'runtime LoRA reads safetensors only (re-save a .bin adapter with save_pretrained(safe_serialization=True))',
    signal,
  );
  return { config, safetensors };
}

/** `files` with `path` answered from `blob` (the rewritten ONNX) until `release()`. */
function overlayFiles(files: ModelFiles, path: string, blob: Blob): { files: ModelFiles; release(): void } {
  let held: Blob | null = blob;
  return {
    files: {
      label: files.label,
      async fetch(p, init) {
        if (p !== path) return files.fetch(p, init);
        if (held === null) return notFound(p);
        const headers = { 'Content-Length': String(held.size) };
        return new Response(init?.method === 'HEAD' ? null : held, { status: 200, headers });
      },
    },
    release: () => void (held = null),
  };
}

/** The device, refusing an fp16 dtype on a WebGPU adapter without shader-f16 (as the pair loader). */
async function pickDevice(dtype: string, opts: LoadOptions): Promise<DeviceChoice> {
  const device = await chooseDevice(opts.device ?? 'auto');
  if ((dtype === 'fp16' || dtype === 'q4f16') && device.device === 'webgpu' && !device.shaderF16) {
    throw new ModelLoadError(
      'model-load/unsupported',
      `dtype ${dtype} needs the WebGPU feature shader-f16, which this adapter (${device.detail}) lacks; use fp32 or q8.`,
      { input: 'dtype' },
    );
  }
  return device;
}

/**
 * Validates and rewrites the base with the adapter (every refusal before anything is loaded), and
 * puts the rewritten model where transformers.js will read it: a temporary folder in Node (ORT-node
 * opens files by path; written piece by piece, never whole in memory), a Blob in the browser.
 */
async function materialize(
  ref: AdapterPairRef,
  onnxPath: string,
  adapter: { config: unknown; safetensors: Uint8Array },
  configJson: unknown,
  opts: LoadOptions,
): Promise<{ kept: AdapterModel; folder: RewrittenFolder | null; blob: Blob | null; onnxBytes: number }> {
  const baseFiles = ref.base.files;
  const baseOnnx = await readBytes(baseFiles, onnxPath, 'the base model needs it', opts.signal);
  const onnxBytes = baseOnnx.byteLength;
  const rewritten = rewriteBaseWithAdapter(
    baseOnnx,
    {
      config: adapter.config,
      safetensors: adapter.safetensors,
      configLabel: `${ref.adapter.label}: ${ADAPTER_CONFIG_FILE}`,
      safetensorsLabel: `${ref.adapter.label}: ${ADAPTER_WEIGHTS_FILE}`,
    },
    projectionDims(configJson),
    { weights: 'inputs', baseLabel: `${baseFiles.label}: ${onnxPath}` },
  );
  // What the backend keeps: no model bytes, nor any slice of the base's buffer.
  const kept: AdapterModel = {
    scaleInput: rewritten.scaleInput,
    config: rewritten.config,
    modules: rewritten.modules,
    targets: leanTargets(rewritten.targets),
    branches: rewritten.branches,
  };
  throwIfCancelled(opts.signal, CANCELLED);
  if (!isNodeWithoutDom())
    return { kept, folder: null, blob: new Blob(rewritten.pieces as unknown as BlobPart[]), onnxBytes };
  const { writeRewrittenFolder } = await import('./adapterNodeDir.ts');
  const folder = await writeRewrittenFolder(ref.base, onnxPath, rewritten.pieces, opts.cacheDir);
  return { kept, folder, blob: null, onnxBytes };
}

async function loadSteps(
  ref: AdapterPairRef,
  opts: LoadOptions,
  hashes: FileHashRecorder,
): Promise<AdapterPairBackend> {
  const signal = opts.signal;
  const dtype = checkDtype(opts.dtype ?? 'fp32');
  const baseFiles = ref.base.files;
  await validateModelFiles(baseFiles, dtype);
  // Everything about the adapter is checked before any session exists: a refusal loads nothing.
  const adapter = await readAdapter(ref.adapter, signal);
  const configText = (await readTextFile(baseFiles, 'config.json')) ?? '{}';
  const configJson = JSON.parse(configText) as unknown;
  const onnxPath = onnxFileFor(dtype);
  throwIfCancelled(signal, CANCELLED);
  // Rewritten and written out (Node: a temporary folder; browser: a Blob) inside `materialize`, so
  // the base's bytes held in JS can go before the session reads its own copy (a model's worth).
  const { kept, folder, blob, onnxBytes } = await materialize(ref, onnxPath, adapter, configJson, opts);
  const device = await pickDevice(dtype, opts).catch((e: unknown) => {
    folder?.remove();
    throw e;
  });
  // The rewritten graph replaces the base's ONNX file; transformers.js reads every other file
  // (config, tokenizer, external data) from the base. In the browser it is served from memory; in
  // Node onnxruntime-node needs a path, so it is written to a temporary folder (removed with the model).
  configureRuntime(opts);
  let loaded: LoadedModel;
  if (folder !== null) {
    try {
      throwIfCancelled(signal, CANCELLED);
      loaded = await loadOne({ files: baseFiles, localDir: folder.dir }, 'base', device, dtype, opts);
    } catch (e) {
      folder.remove();
      throw e;
    }
  } else {
    const overlay = overlayFiles(baseFiles, onnxPath, blob!);
    loaded = await loadOne({ files: overlay.files }, 'base', device, dtype, opts);
    overlay.release();
  }
  let backend: AdapterPairBackend | null = null;
  try {
    throwIfCancelled(signal, CANCELLED);
    // The base's ONNX graph was hashed as `materialize` read it (the session reads the rewritten one);
    // its external data, which the session reads from the base's files, is hashed where it lies.
    const read = loaded.read.filter((p) => p !== onnxPath);
    await hashFilesAtRest(
      folder !== null ? { ...ref.base, localDir: folder.dir } : ref.base,
      'base',
      read,
      hashes,
      runtimeCaches(),
    );
    throwIfCancelled(signal, CANCELLED);
    const baseHash = baseWeightsHash(hashes);
    const nullIdentity = identityOf(ref, dtype, baseHash, onnxBytes, configText, adapter);
    backend = new AdapterPairBackend(
      loaded.model,
      loaded.tokenizer,
      kept,
      {
        ...opts,
        nullIdentity,
        identityFor: (pairId, a) => identityOf({ ...ref, pairId }, dtype, baseHash, onnxBytes, configText, a),
      },
      {
        pairId: ref.pairId,
        baseModel: baseFiles.label,
        ftModel: `${baseFiles.label} + ${ref.adapter.label}`,
        device: device.device,
        deviceDetail: device.detail,
        dtype,
        vocabSize: 0,
        maxBatchSize: opts.maxBatchSize ?? DEFAULT_MAX_BATCH,
        models: adapterPairModels(ref.base, ref.adapter, hashes),
        files: hashes.files(),
      },
    );
    backend.onDispose(() => loaded.mount?.unmount());
    if (folder !== null) backend.onDispose(folder.remove);
    if (device.device === 'webgpu') backend.onDispose(await watchDeviceLoss([backend], opts.onDeviceLost));
    // One session: one warm-up (the base view) compiles everything every view runs.
    if (opts.warmup ?? true) await warmUp(backend, 'base', backend.sessionRunner, device.device);
    throwIfCancelled(signal, CANCELLED);
    return backend;
  } catch (e) {
    if (backend !== null) await backend.dispose().catch(() => {});
    else {
      loaded.mount?.unmount();
      await loaded.model.dispose().catch(() => {});
      folder?.remove();
    }
    throw e;
  }
}

/**
 * The base's weights for the null-stats identity: a hash of the SHA-256 of each base file the load
 * hashed (its ONNX graph and external data, as the provenance lists them), so a base retrained in
 * place with the same architecture (the same size) is another identity; null where none was hashed.
 */
function baseWeightsHash(hashes: FileHashRecorder): string | null {
  const base = hashes.files().filter((f) => f.role === 'base');
  if (base.length === 0) return null;
  return sha1Hex(new TextEncoder().encode(base.map((f) => `${f.path}\0${f.sha256}`).join('\n')));
}

/**
 * The weights the null views are drawn over, for the null-stats cache: where the base comes from,
 * its weights (`baseWeightsHash`: the hashes of its files, where the load hashed them), dtype, ONNX
 * file size and config, and a hash of the adapter's own files (so an adapter retrained into the
 * same folder, or a base retrained in place, is a different identity).
 */
function identityOf(
  ref: AdapterPairRef,
  dtype: string,
  baseHash: string | null,
  onnxBytes: number,
  baseConfig: string,
  adapter: { config: unknown; safetensors: Uint8Array },
): string {
  const text = new TextEncoder();
  const adapterHash = sha1Hex(adapter.safetensors);
  const configHash = sha1Hex(text.encode(JSON.stringify(adapter.config) + baseConfig));
  const base = baseHash !== null ? `|base:${baseHash}` : '';
  return `${ref.pairId}${base}|${dtype}|onnx:${onnxBytes}|adapter:${adapterHash}|config:${configHash}`;
}

/**
 * The targets with each node's bytes copied out: `raw` is a slice of the base ONNX file's buffer,
 * which would otherwise stay alive (a full model's worth) for as long as the backend does.
 */
function leanTargets(targets: readonly ModuleTarget[]): ModuleTarget[] {
  return targets.map((t) => ({
    ...t,
    projection: { ...t.projection, node: { ...t.projection.node, raw: t.projection.node.raw.slice() } },
  }));
}

/** One adapter's branch tensors as the graph inputs' feeds, in each branch's own float type. */
function weightFeeds(
  weights: readonly BranchWeights[],
  dtypes: readonly ('float32' | 'float16')[],
): WeightFeeds {
  const feeds: WeightFeeds = {};
  weights.forEach((w, i) => {
    const dtype = dtypes[i] ?? 'float32';
    feeds[w.aName] = floatTensor(dtype, w.a, w.aDims);
    feeds[w.bName] = floatTensor(dtype, w.b, w.bDims);
  });
  return feeds;
}

function floatTensor(dtype: 'float32' | 'float16', data: Float32Array, dims: readonly number[]): Tensor {
  if (dtype === 'float32') return new Tensor('float32', data, [...dims]);
  const F16 = (globalThis as { Float16Array?: new (src: ArrayLike<number>) => ArrayLike<number> })
    .Float16Array;
  if (F16 !== undefined) return new Tensor('float16', new F16(data) as never, [...dims]);
  return new Tensor('float16', float16Array(data), [...dims]);
}

/**
 * base + adapter behind one instrumentation: every view (base, ft, scaled_λ, null_seed) is a runner
 * over the one rewritten model. Disposing the backend disposes the model once.
 */
export class AdapterPairBackend extends PairBackend implements ScalableBackend, NullCalibratedBackend {
  /** The base view's runner: the one warm-up and the device-loss watch go through it. */
  readonly sessionRunner: TransformersRunner;
  private readonly views = new Map<string, ScoringView>();
  private readonly runners: TransformersRunner[] = [];
  private readonly adapterFeeds: WeightFeeds;
  /** Built null adapters, least recently used first. */
  private readonly nullFeeds = new Map<string, WeightFeeds>();
  private readonly branchDtypes: ('float32' | 'float16')[];
  private lostMessage: string | null = null;
  private disposed = false;
  private identity: string | undefined;
  /** Merges the batches of base, ft and scaled views (null when views run on their own). */
  readonly merger: ViewRowMerger | null;

  constructor(
    private readonly model: PreTrainedModel,
    private readonly tokenizer: ConstructorParameters<typeof TransformersRunner>[1],
    private readonly lora: AdapterModel,
    private readonly loadOpts: LoadOptions & PairBackendOptions & SwapIdentity,
    info: BackendInfo,
  ) {
    const dtypes = lora.branches.map((b) => b.dtype);
    const adapterFeeds = weightFeeds(lora.branches, dtypes);
    const runner = (extraFeeds: (batch: number, firstRow: number) => WeightFeeds) =>
      new TransformersRunner(model, tokenizer, loadOpts.logitsBudgetBytes, { sharedModel: true, extraFeeds });
    const make = (lambda: number, feeds: () => WeightFeeds) =>
      runner((batch) => ({ ...feeds(), [lora.scaleInput]: scaleTensor(lambda, batch) }));
    const own = [make(0, () => adapterFeeds), make(1, () => adapterFeeds)] as const;
    // Views as rows: base, ft and every scaled view share one adapter, so their batches merge.
    const merger = (loadOpts.viewsAsRows ?? true) ? new ViewRowMerger(2 * info.maxBatchSize) : null;
    if (merger !== null)
      merger.runner = runner((batch, firstRow) => ({
        ...adapterFeeds,
        [lora.scaleInput]: new Tensor('float32', merger.scales(batch, firstRow), [batch]),
      }));
    const [base, ft] = merger === null ? own : [0, 1].map((s, i) => new MergedViewRunner(own[i]!, merger, s));
    super(base!, ft!, { ...info, vocabSize: own[0].vocabSize }, loadOpts);
    this.merger = merger;
    this.sessionRunner = own[0];
    this.identity = loadOpts.nullIdentity;
    this.runners.push(...own);
    if (merger !== null) this.runners.push(merger.runner as TransformersRunner);
    this.adapterFeeds = adapterFeeds;
    this.branchDtypes = dtypes;
    // generate() keeps only the model's forward_params: register the LoRA inputs there.
    const params = (model as unknown as { forward_params: string[] }).forward_params;
    for (const name of [lora.scaleInput, ...Object.keys(adapterFeeds)])
      if (!params.includes(name)) params.push(name);
  }

  /** What the null views are drawn over; it changes with `swapAdapter`. */
  get nullIdentity(): string | undefined {
    return this.identity;
  }

  /** The adapter modules, their ranks and the graph nodes they adapt (for reports). */
  get adapter(): Pick<LoraBaseModel, 'config' | 'modules' | 'targets' | 'branches'> {
    return this.lora;
  }

  /** A view's runner; `merge`: its batches go through the merger (a view of the adapter's own weights). */
  private viewFor(id: string, lambda: number, feeds: () => WeightFeeds, merge = false): ScoringView {
    let v = this.views.get(id);
    if (v === undefined) {
      const runner = new TransformersRunner(this.model, this.tokenizer, this.loadOpts.logitsBudgetBytes, {
        sharedModel: true,
        extraFeeds: (batch) => ({ ...feeds(), [this.lora.scaleInput]: scaleTensor(lambda, batch) }),
      });
      this.runners.push(runner);
      if (this.lostMessage !== null) runner.markDeviceLost(this.lostMessage);
      const merged =
        merge && this.merger !== null ? new MergedViewRunner(runner, this.merger, lambda) : runner;
      v = new InstrumentedView(id, merged, this.instrumentation, this.info.maxBatchSize);
      this.views.set(id, v);
    }
    return v;
  }

  scaledView(lambda: number): ScoringView {
    if (!Number.isFinite(lambda))
      throw new DeltascopeError('input/invalid', `a scaled view needs a finite λ (got ${lambda})`);
    // The id has two decimals (sway's); λ is rounded to it so the id always means one model.
    const rounded = Number(lambda.toFixed(2));
    return this.viewFor(scaledViewId(rounded), rounded, () => this.adapterFeeds, true);
  }

  nullView(seed: number, opts: NullAdapterOptions = {}): ScoringView {
    const initScale = opts.initScale ?? DEFAULT_INIT_SCALE;
    const rankScale = opts.rankScale ?? 1;
    const id = nullViewId(seed, rankScale) + (initScale === DEFAULT_INIT_SCALE ? '' : `_init${initScale}`);
    // Draw once now, so a bad seed or scale fails here rather than inside a forward pass.
    this.nullWeights(id, seed, initScale, rankScale);
    return this.viewFor(id, 1, () => this.nullWeights(id, seed, initScale, rankScale));
  }

  private nullWeights(id: string, seed: number, initScale: number, rankScale: number): WeightFeeds {
    let feeds = this.nullFeeds.get(id);
    if (feeds !== undefined) {
      this.nullFeeds.delete(id);
    } else {
      const modules = nullAdapterModules(this.lora.modules, seed, { initScale, rankScale });
      feeds = weightFeeds(loraBranchWeights(this.lora.targets, modules), this.branchDtypes);
    }
    this.nullFeeds.set(id, feeds);
    while (this.nullFeeds.size > NULL_WEIGHT_SETS_KEPT)
      this.nullFeeds.delete(this.nullFeeds.keys().next().value!);
    return feeds;
  }

  /**
   * Runs another adapter on the loaded base without a new session (a sweep over checkpoints): the
   * rewrite feeds A and B as graph inputs, so an adapter of the same structure (the same target
   * modules, each with the same rank and shapes; alpha may differ, it is folded into B) is new feeds.
   * Every view (ft, scaled_λ, null_<seed>) then computes with it; the forward cache is emptied, as
   * a cached result of the old adapter would be a wrong number for the new one, and the null-stats
   * identity, `pairId` and `ftModel` become the new adapter's. Files are read and checked before
   * anything changes: a refused swap leaves the backend as it was. No call may be in flight.
   *
   * Throws `model-load/mismatch` (details.reason) when the structure differs: open the adapter
   * with `openPair` instead; any other `model-load/*` error is the adapter's files.
   */
  async swapAdapter(adapter: ModelFiles, opts: { pairId: string; signal?: AbortSignal }): Promise<void> {
    this.refuseSwap(adapter.label, false);
    // Hashed as read, as a load hashes them: the reports' provenance names the adapter run.
    const hashes = new FileHashRecorder();
    hashes.watch(adapter.label, 'adapter');
    const files = await readAdapter(hashingModelFiles(adapter, hashes), opts.signal);
    const configLabel = `${adapter.label}: ${ADAPTER_CONFIG_FILE}`;
    const weightsLabel = `${adapter.label}: ${ADAPTER_WEIGHTS_FILE}`;
    const config = parseAdapterConfig(files.config, configLabel);
    const modules = loraModules(
      config,
      decodeSafetensors(files.safetensors, weightsLabel).tensors,
      weightsLabel,
    );
    const reason = structureMismatch(this.lora.modules, modules);
    if (reason !== null)
      throw new ModelLoadError(
        'model-load/mismatch',
        `${adapter.label} cannot be swapped onto the loaded model (${this.info.ftModel}): ${reason}. ` +
          'Swapping needs the same target modules, ranks and shapes; open it as a new pair instead.',
        { input: adapter.label, details: { reason } },
      );
    const weights = loraBranchWeights(this.lora.targets, modules);
    const feeds = weightFeeds(weights, this.branchDtypes);
    throwIfCancelled(opts.signal, CANCELLED);
    // Again after the reads: a forward pass started meanwhile would run on the old feeds and put
    // the old adapter's numbers into the cache the swap empties, under the new adapter's name.
    this.refuseSwap(adapter.label, true);
    // In place: every runner's feeds closure reads this one object at each run.
    for (const name of Object.keys(this.adapterFeeds)) this.adapterFeeds[name] = feeds[name]!;
    this.lora.config = config;
    this.lora.modules = modules;
    this.lora.branches = this.lora.branches.map((b, i) => ({ ...b, ...weights[i]! }));
    this.nullFeeds.clear();
    this.identity = this.loadOpts.identityFor?.(opts.pairId, files);
    const { models, files: read } = this.info;
    Object.assign(this.info, {
      pairId: opts.pairId,
      ftModel: `${this.info.baseModel} + ${adapter.label}`,
      ...(models !== undefined
        ? { models: { ...models, adapter: adapterPairModels({ files: adapter }, adapter, hashes).adapter } }
        : {}),
      ...(read !== undefined
        ? { files: [...read.filter((f) => f.role !== 'adapter'), ...hashes.files()] }
        : {}),
    });
    // A new pairId empties the cache through the binding; the same one (a folder retrained in
    // place) must be emptied as well.
    bindInstrumentation(this.instrumentation, `${opts.pairId}|${this.info.dtype}|${this.info.device}`);
    this.instrumentation.cache.clear();
  }

  /** A swap needs a live pair with nothing in flight; `afterRead`: checked again once files are read. */
  private refuseSwap(label: string, afterRead: boolean): void {
    if (this.disposed)
      throw new StateError(
        `cannot swap in ${label}: the pair is disposed${afterRead ? ' (disposed while its files were read)' : ''}`,
      );
    const n = this.instrumentation.inflightCount;
    if (n > 0)
      throw new StateError(
        `cannot swap in ${label} while ${n} forward pass${n === 1 ? ' is' : 'es are'} running` +
          `${afterRead ? ' (started while its files were read)' : ''}; wait for them`,
      );
  }

  /** For the device-loss watch: every view's runner, those created later too, fails from now on. */
  markDeviceLost(message: string): void {
    this.lostMessage = message;
    for (const r of this.runners) r.markDeviceLost(message);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  override async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await super.dispose();
    await Promise.all(this.runners.map((r) => r.dispose()));
    this.nullFeeds.clear();
    await this.model.dispose();
  }
}

/**
 * Why `next` cannot be fed to a graph rewritten for `loaded` (null when it can): the modules, their
 * ranks and shapes decide the rewritten graph's inputs; the PEFT scale is folded into B.
 */
export function structureMismatch(loaded: readonly LoraModule[], next: readonly LoraModule[]): string | null {
  const byKey = new Map(next.map((m) => [m.key, m]));
  const missing = loaded.filter((m) => !byKey.has(m.key)).map((m) => m.key);
  const extra = next.filter((m) => !loaded.some((l) => l.key === m.key)).map((m) => m.key);
  if (missing.length > 0 || extra.length > 0)
    return [
      missing.length > 0 ? `it does not adapt ${missing.join(', ')}` : '',
      extra.length > 0 ? `it adapts ${extra.join(', ')}, which the loaded adapter does not` : '',
    ]
      .filter((t) => t !== '')
      .join('; ');
  for (const m of loaded) {
    const n = byKey.get(m.key)!;
    if (n.rank !== m.rank) return `${m.key} has rank ${n.rank}, the loaded adapter's has ${m.rank}`;
    if (n.inFeatures !== m.inFeatures || n.outFeatures !== m.outFeatures)
      return `${m.key} is ${n.outFeatures}×${n.inFeatures}, the loaded adapter's is ${m.outFeatures}×${m.inFeatures}`;
  }
  return null;
}

function scaleTensor(lambda: number, batch: number): Tensor {
  return new Tensor('float32', new Float32Array(batch).fill(lambda), [batch]);
}
