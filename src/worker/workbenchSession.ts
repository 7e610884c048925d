import {
  DeviceLostError,
  demoPair,
  hubPair,
  indexPickedFiles,
  loadTransformersPair,
  pickedPair,
  type BackendInfo,
  type DifferentialBackend,
  type PairRef,
} from '../backend/index.ts';
import {
  BackendInstrumentation,
  BackendStats,
  TeeTraceSink,
  divergence,
  type BackendStatsDict,
  type TraceSink,
  type TokenDist,
} from '../core/index.ts';
import { LiveFeedSink } from './liveFeedSink.ts';
import { SuiteService } from './suiteService.ts';
import type { SuiteResult } from '../suite/types.ts';
import { openTraceService, type TraceService } from './traceService.ts';
import type {
  BatchProgress,
  ImportResult,
  RunRecord,
  StorageUsage,
  TraceAnalysis,
  TraceStatus,
  BatchRunResult,
  CompareResult,
  ContinuationResult,
  FeedUpdate,
  GenerateResult,
  HeatmapResult,
  LoadProgressMessage,
  LoadRequest,
  ReportFormat,
  SourceSpec,
  SuiteEvent,
  SuiteValidation,
  TokenRow,
  WorkbenchApi,
} from './workbenchApi.ts';

export type BackendLoader = (
  pair: PairRef,
  opts: Parameters<typeof loadTransformersPair>[1],
) => Promise<DifferentialBackend>;

/**
 * Everything the workbench does with models, hosted in the worker: one loaded pair, one
 * instrumentation, and the sink chain (live feed, plus whatever sinks are added, e.g. storage).
 * Written against `DifferentialBackend`, so Node tests drive it with the fake backend.
 */
export class WorkbenchSession implements WorkbenchApi {
  private backend: DifferentialBackend | null = null;
  private appBaseUrl = '/';
  private listeners: ((u: FeedUpdate) => void)[] = [];
  private readonly feed: LiveFeedSink;
  private readonly extraSinks: TraceSink[] = [];
  /** IndexedDB persistence, opened by `init`; rejects where storage is unavailable. */
  private traceService: Promise<TraceService> | null = null;
  readonly instrumentation: BackendInstrumentation;
  private readonly suites = new SuiteService(() => this.appBaseUrl);
  private loadController: AbortController | null = null;
  /** The WebGPU device loss message, once it happened: the worker must be restarted. */
  private deviceLost: string | null = null;
  private readonly deviceListeners: ((message: string) => void)[] = [];
  private batchController: AbortController | null = null;
  /** Batches and suites in flight: a new load stops them and waits before disposing their pair. */
  private readonly running = new Set<Promise<unknown>>();

  /**
   * @param appBaseUrl where the app is served (demo models and the ORT runtime live under it); the
   *   worker learns it in `init`, Node tests pass one here.
   */
  constructor(
    private readonly loader: BackendLoader = loadTransformersPair,
    appBaseUrl = '/',
  ) {
    this.appBaseUrl = appBaseUrl;
    this.feed = new LiveFeedSink((events) => this.notify(events));
    this.instrumentation = new BackendInstrumentation({ trace: this.feed });
  }

  private notify(events: FeedUpdate['events']): void {
    const update: FeedUpdate = { events, stats: this.instrumentation.stats.toDict() };
    for (const l of this.listeners) l(update);
  }

  private onDeviceLost(message: string): void {
    if (this.deviceLost !== null) return;
    this.deviceLost = message;
    this.batchController?.abort();
    this.suites.cancel();
    this.feed.flush();
    // Commit what was recorded: the page restarts this worker next.
    void this.traceService?.then((t) => t.flush()).catch(() => {});
    for (const l of this.deviceListeners) l(message);
  }

  async watchDevice(listener: (message: string) => void): Promise<void> {
    this.deviceListeners.push(listener);
    if (this.deviceLost !== null) listener(this.deviceLost);
  }

  /** Adds a sink (e.g. the IndexedDB writer) next to the live feed. */
  addSink(sink: TraceSink): void {
    this.extraSinks.push(sink);
    this.instrumentation.trace = new TeeTraceSink([this.feed, ...this.extraSinks]);
  }

  async init(appBaseUrl: string): Promise<void> {
    this.appBaseUrl = appBaseUrl;
    if (this.traceService === null) {
      this.traceService = openTraceService().then((service) => {
        this.addSink(service.sink);
        return service;
      });
      // Without storage the workbench still works; trace methods report the reason when called.
      this.traceService.catch(() => {});
    }
  }

  resolveSource(source: SourceSpec): PairRef {
    switch (source.kind) {
      case 'demo':
        return demoPair(this.appBaseUrl);
      case 'hub':
        return hubPair(source);
      case 'files':
        return pickedPair(
          { label: source.base.label, files: indexPickedFiles(source.base.files) },
          { label: source.ft.label, files: indexPickedFiles(source.ft.files) },
        );
    }
  }

  async load(req: LoadRequest, onProgress: (p: LoadProgressMessage) => void): Promise<BackendInfo> {
    // The controller exists before the first await, so a cancel that arrives at any point applies.
    this.loadController?.abort();
    const controller = new AbortController();
    this.loadController = controller;
    try {
      return await this.loadNow(req, controller.signal, onProgress);
    } finally {
      if (this.loadController === controller) this.loadController = null;
    }
  }

  private async loadNow(
    req: LoadRequest,
    signal: AbortSignal,
    onProgress: (p: LoadProgressMessage) => void,
  ): Promise<BackendInfo> {
    // ORT keeps its (lost) device for the worker's life: only a fresh worker loads again.
    if (this.deviceLost !== null) throw new DeviceLostError(this.deviceLost);
    const pair = this.resolveSource(req.source);
    const previous = this.backend;
    this.backend = null;
    // Work on the previous pair stops (a batch after its chunk in flight, a suite after its probe)
    // before that pair is disposed under it.
    this.batchController?.abort();
    this.suites.cancel();
    await Promise.allSettled([...this.running]);
    const runId = await this.startTraceRun(pair);
    onProgress({ phase: 'validating', loaded: 0, total: 0 });
    await previous?.dispose();
    const sizes = new Map<string, { loaded: number; total: number }>();
    let backend: DifferentialBackend;
    try {
      backend = await this.loader(pair, {
        signal,
        onDeviceLost: (message) => this.onDeviceLost(message),
        onWaiting: () => onProgress({ phase: 'waiting for the cancelled load to stop', loaded: 0, total: 0 }),
        device: req.device,
        dtype: req.dtype,
        ...(req.maxBatchSize !== undefined ? { maxBatchSize: req.maxBatchSize } : {}),
        instrumentation: this.instrumentation,
        ortBaseUrl: new URL('ort/', this.appBaseUrl).href,
        onProgress: (p) => {
          sizes.set(`${p.view}/${p.file}`, { loaded: p.loaded, total: p.total });
          let loaded = 0;
          let total = 0;
          for (const s of sizes.values()) {
            loaded += s.loaded;
            total += s.total;
          }
          onProgress({ phase: 'downloading', view: p.view, file: p.file, loaded, total });
        },
      });
    } catch (e) {
      // A load that failed or was cancelled leaves no empty run behind in Traces.
      if (runId !== null) void this.traceService?.then((t) => t.dropIfEmpty(runId)).catch(() => {});
      throw e;
    }
    this.backend = backend;
    this.feed.flush();
    if (runId !== null) {
      void this.traceService?.then((t) =>
        t.updateRun(runId, { device: backend.info.device, dtype: backend.info.dtype }),
      );
    }
    onProgress({ phase: 'ready', loaded: 1, total: 1 });
    return backend.info;
  }

  async cancelLoad(): Promise<void> {
    this.loadController?.abort();
  }

  async info(): Promise<BackendInfo | null> {
    return this.backend?.info ?? null;
  }

  private need(): DifferentialBackend {
    if (this.deviceLost !== null) throw new DeviceLostError(this.deviceLost);
    if (this.backend === null)
      throw new Error('No model pair is loaded yet: load the demo pair or your own first.');
    return this.backend;
  }

  async rawDists(prompt: string, topK: number): Promise<{ base: TokenDist; ft: TokenDist }> {
    const b = this.need();
    const [base, ft] = await Promise.all([
      b.base.nextTokenDist(prompt, { topK }),
      b.ft.nextTokenDist(prompt, { topK }),
    ]);
    return { base, ft };
  }

  async compare(prompt: string, topK: number): Promise<CompareResult> {
    const b = this.need();
    const { base, ft } = await this.rawDists(prompt, topK);
    const [baseRows, ftRows] = await Promise.all([rows(b, base), rows(b, ft)]);
    return {
      prompt,
      base: baseRows,
      ft: ftRows,
      js: divergence(base, ft, 'js'),
      klFtBase: divergence(base, ft, 'kl'),
      baseTail: base.tailLogprob,
      ftTail: ft.tailLogprob,
    };
  }

  async scoreContinuation(prompt: string, completion: string): Promise<ContinuationResult> {
    const b = this.need();
    const [base, ft] = await Promise.all([
      b.base.logprobOf(prompt, completion),
      b.ft.logprobOf(prompt, completion),
    ]);
    const numTokens = (await b.base.tokenize(completion)).ids.length;
    return { base, ft, delta: ft - base, numTokens };
  }

  async heatmap(text: string): Promise<HeatmapResult> {
    const b = this.need();
    const [base, ft, tok] = await Promise.all([
      b.base.rollingLogprob(text),
      b.ft.rollingLogprob(text),
      b.base.tokenize(text),
    ]);
    return { tokens: tok.tokens, base, ft };
  }

  async generate(prompt: string, maxNewTokens: number): Promise<GenerateResult> {
    const b = this.need();
    // One after the other: both views share one inference lock in the browser anyway.
    const base = await b.base.generate(prompt, { maxNewTokens });
    const ft = await b.ft.generate(prompt, { maxNewTokens });
    return { base, ft };
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    const done = () => this.running.delete(work);
    work.then(done, done);
    return work;
  }

  async runBatch(
    prompts: string[],
    topK: number,
    onProgress?: (p: BatchProgress) => void,
  ): Promise<BatchRunResult> {
    return this.track(this.runBatchNow(prompts, topK, onProgress));
  }

  private async runBatchNow(
    prompts: string[],
    topK: number,
    onProgress?: (p: BatchProgress) => void,
  ): Promise<BatchRunResult> {
    const b = this.need();
    if (this.batchController !== null) throw new Error('A batch is already running; cancel it or wait.');
    const controller = new AbortController();
    this.batchController = controller;
    const t0 = performance.now();
    // Two physical batches per chunk and view: big enough to batch well, small enough to cancel fast.
    const chunk = Math.max(1, 2 * b.info.maxBatchSize);
    let done = 0;
    try {
      while (done < prompts.length && !controller.signal.aborted) {
        const part = prompts.slice(done, done + chunk);
        await Promise.all([
          b.base.nextTokenDistBatch(part, { topK }),
          b.ft.nextTokenDistBatch(part, { topK }),
        ]);
        done += part.length;
        onProgress?.({ done, total: prompts.length });
      }
    } finally {
      if (this.batchController === controller) this.batchController = null;
      this.feed.flush();
    }
    const cancelled = done < prompts.length;
    return {
      prompts: done,
      wallMs: performance.now() - t0,
      cancelled,
      ...(cancelled ? { stoppedBy: this.deviceLost !== null ? 'device lost' : 'cancel' } : {}),
    };
  }

  async cancelBatch(): Promise<void> {
    this.batchController?.abort();
  }

  async validateSuite(yamlText: string): Promise<SuiteValidation> {
    return this.suites.validate(yamlText);
  }

  async runSuite(yamlText: string, onEvent: (e: SuiteEvent) => void): Promise<SuiteResult> {
    return this.track(this.runSuiteNow(yamlText, onEvent));
  }

  private async runSuiteNow(yamlText: string, onEvent: (e: SuiteEvent) => void): Promise<SuiteResult> {
    const backend = this.need();
    const service = await this.traceService?.catch(() => null);
    if (service) {
      service.startRun({
        label: `suite on ${backend.info.baseModel} vs ${backend.info.ftModel}`,
        pairId: backend.info.pairId,
      });
    }
    try {
      return await this.suites.run(yamlText, backend, onEvent);
    } finally {
      this.feed.flush();
      // Interactive work after the suite belongs to a run of its own, not to the suite's trace.
      service?.startRun({
        label: `${backend.info.baseModel} vs ${backend.info.ftModel}`,
        pairId: backend.info.pairId,
      });
    }
  }

  async cancelSuite(): Promise<void> {
    this.suites.cancel();
  }

  async suiteReport(format: ReportFormat): Promise<string> {
    return this.suites.report(format);
  }

  async subscribe(listener: (update: FeedUpdate) => void): Promise<void> {
    this.listeners.push(listener);
    listener({ events: [], stats: this.instrumentation.stats.toDict() });
  }

  async stats(): Promise<BackendStatsDict> {
    return this.instrumentation.stats.toDict();
  }

  /** Each load is a new run, started before loading so the warm-up events belong to it. */
  private async startTraceRun(pair: PairRef): Promise<string | null> {
    const service = await this.traceService?.catch(() => null);
    if (service === null || service === undefined) return null;
    return service.startRun({
      label: `${pair.base.files.label} vs ${pair.ft.files.label}`,
      pairId: pair.pairId,
    });
  }

  private async traces(): Promise<TraceService> {
    if (this.traceService === null) throw new Error('The worker was not initialised: call init() first.');
    return this.traceService;
  }

  async listRuns(): Promise<RunRecord[]> {
    return (await this.traces()).listRuns();
  }

  async runAnalysis(runId: string): Promise<TraceAnalysis> {
    return (await this.traces()).analysis(runId);
  }

  async exportJsonl(runId: string): Promise<Blob> {
    return (await this.traces()).exportJsonl(runId);
  }

  async exportPerfetto(runId: string): Promise<Blob> {
    return (await this.traces()).exportPerfetto(runId);
  }

  async importJsonl(file: File): Promise<ImportResult> {
    return (await this.traces()).importJsonl(file);
  }

  async deleteRun(runId: string): Promise<number> {
    return (await this.traces()).deleteRun(runId);
  }

  async storageUsed(): Promise<StorageUsage> {
    return (await this.traces()).storageUsed();
  }

  async flushTraces(): Promise<void> {
    await (await this.traces()).flush();
  }

  async traceStatus(): Promise<TraceStatus> {
    return (await this.traces()).status();
  }
}

async function rows(b: DifferentialBackend, d: TokenDist): Promise<TokenRow[]> {
  const tokens = await b.base.tokenStrings(Array.from(d.tokenIds));
  return Array.from(d.tokenIds, (id, i) => ({ id, token: tokens[i] ?? String(id), logprob: d.logprobs[i]! }));
}

export const emptyStats = (): BackendStatsDict => new BackendStats().toDict();
