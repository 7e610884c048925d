import * as Comlink from 'comlink';
import {
  describeLocation,
  isNullCalibrated,
  isScalable,
  openPair,
  type DifferentialBackend,
  type ModelSource,
} from '../backend/index.ts';
import {
  BackendInstrumentation,
  StateError,
  TeeTraceSink,
  type BackendStatsDict,
  type TraceSink,
} from '../core/index.ts';
import type { SuiteResult } from '../suite/types.ts';
import { BatchService } from './batchService.ts';
import * as ops from './interactiveOps.ts';
import { LiveFeedSink } from './liveFeedSink.ts';
import { PairHost, type PairOpener } from './pairHost.ts';
import { SuiteService } from './suiteService.ts';
import { openTraceService, type TraceService } from './traceService.ts';
import type {
  BreakerStatus,
  BatchProgress,
  BatchRunResult,
  CompareResult,
  ContinuationResult,
  FeedUpdate,
  GenerateResult,
  HeatmapResult,
  ImportResult,
  LoadProgressMessage,
  LoadRequest,
  PairInfo,
  ReportFormat,
  RunMetricsResult,
  RunRecord,
  StorageUsage,
  SuiteEvent,
  SuiteValidation,
  TraceAnalysis,
  TraceStatus,
  Unsubscribe,
  WorkbenchApi,
} from './workbenchApi.ts';

/** The run label for a source: "demo model base vs demo model ft", "org/base@main vs org/ft@main". */
function sourceLabel(source: ModelSource): string {
  if (source.kind === 'demo')
    return source.adapter === true
      ? 'demo model base vs demo model base + demo adapter'
      : 'demo model base vs demo model ft';
  if (source.kind === 'fake') return 'fake-base vs fake-ft';
  return `${describeLocation(source.base)} vs ${describeLocation(source.ft)}`;
}

/** The backend's description plus the views beyond base and ft it serves (capabilities, checked at run time). */
export function pairInfo(backend: DifferentialBackend): PairInfo {
  return {
    ...backend.info,
    views: { scalable: isScalable(backend), nullCalibrated: isNullCalibrated(backend) },
  };
}

/**
 * The worker's whole surface, composed of one piece per concern: the pair lifecycle (`PairHost`),
 * the Probe panel's ops (`interactiveOps`), the 200-prompt batch (`BatchService`), suites
 * (`SuiteService`) and persistent traces (`TraceService`), around one instrumentation whose events
 * go to the live feed and the trace store. Written against `openPair`, so Node tests drive it with
 * the fake source.
 */
export class WorkbenchSession implements WorkbenchApi {
  private appBaseUrl: string;
  private readonly listeners = new Set<(u: FeedUpdate) => void>();
  private readonly feed: LiveFeedSink;
  private readonly extraSinks: TraceSink[] = [];
  /** IndexedDB persistence, opened by `init`; rejects where storage is unavailable. */
  private traceService: Promise<TraceService> | null = null;
  readonly instrumentation: BackendInstrumentation;
  private readonly suites: SuiteService;
  private readonly batches = new BatchService();
  private readonly pairs: PairHost;
  /** Batches and suites in flight: a new load stops them and waits before disposing their pair. */
  private readonly running = new Set<Promise<unknown>>();

  /**
   * @param open how pairs are opened (`openPair`; tests may stand in)
   * @param appBaseUrl where the app is served (demo models and the ORT runtime live under it); the
   *   worker learns it in `init`, Node tests pass one here.
   */
  constructor(open: PairOpener = openPair, appBaseUrl = '/') {
    this.appBaseUrl = appBaseUrl;
    this.suites = new SuiteService(() => this.appBaseUrl);
    this.feed = new LiveFeedSink((events) => this.notify(events));
    this.instrumentation = new BackendInstrumentation({ trace: this.feed });
    this.pairs = new PairHost(open, {
      stopWork: async () => {
        this.batches.cancel();
        this.suites.cancel();
        await Promise.allSettled([...this.running]);
      },
      onDeviceLost: () => {
        this.batches.cancel();
        this.suites.cancel();
        this.feed.flush();
        // Commit what was recorded: the page restarts this worker next.
        void this.traceService?.then((t) => t.flush()).catch(() => {});
      },
      // The breaker's half-open trial replaces this worker: only once no batch or suite runs.
      idle: async () => {
        while (this.running.size > 0) await Promise.allSettled([...this.running]);
      },
    });
  }

  private notify(events: FeedUpdate['events']): void {
    const update: FeedUpdate = { events, stats: this.instrumentation.stats.toDict() };
    for (const l of this.listeners) l(update);
  }

  async watchDevice(listener: (message: string) => void): Promise<Unsubscribe> {
    return Comlink.proxy(this.pairs.watchDevice(listener));
  }

  /** Adds a sink (e.g. the IndexedDB writer) next to the live feed. */
  addSink(sink: TraceSink): void {
    this.extraSinks.push(sink);
    this.instrumentation.trace = new TeeTraceSink([this.feed, ...this.extraSinks]);
  }

  async init(appBaseUrl: string): Promise<void> {
    this.appBaseUrl = appBaseUrl;
    if (this.traceService === null) {
      this.traceService = openTraceService(() => this.pageHeap).then((service) => {
        this.addSink(service.sink);
        return service;
      });
      // Without storage the workbench still works; trace methods report the reason when called.
      this.traceService.catch(() => {});
    }
  }

  async load(req: LoadRequest, onProgress: (p: LoadProgressMessage) => void): Promise<PairInfo> {
    let runId: string | null = null;
    let loadStartedAt = performance.now();
    try {
      const backend = await this.pairs.load(req, {
        appBaseUrl: this.appBaseUrl,
        instrumentation: this.instrumentation,
        onProgress,
        // Each load is a new run, started before loading so the warm-up events belong to it.
        beforeOpen: async () => {
          runId = await this.startTraceRun(sourceLabel(req.source), null);
          loadStartedAt = performance.now();
        },
      });
      this.feed.flush();
      const id = runId;
      if (id !== null) {
        void this.traceService?.then((t) =>
          t.updateRun(id, { device: backend.info.device, dtype: backend.info.dtype }),
        );
        // The run's metrics note how long the pair took to open (download, sessions, warm-up).
        const loadMs = performance.now() - loadStartedAt;
        void this.traceService?.then((t) => t.noteRun(id, { loadMs })).catch(() => {});
      }
      return pairInfo(backend);
    } catch (e) {
      // A load that failed or was cancelled leaves no empty run behind in Traces.
      const id = runId;
      if (id !== null) void this.traceService?.then((t) => t.dropIfEmpty(id)).catch(() => {});
      throw e;
    }
  }

  async cancelLoad(): Promise<void> {
    this.pairs.cancelLoad();
  }

  async info(): Promise<PairInfo | null> {
    const backend = this.pairs.current;
    return backend === null ? null : pairInfo(backend);
  }

  async compare(prompt: string, topK: number, view = 'ft'): Promise<CompareResult> {
    return ops.compare(this.pairs.need(), prompt, topK, view);
  }

  async scoreContinuation(prompt: string, completion: string, view?: string): Promise<ContinuationResult> {
    return ops.scoreContinuation(this.pairs.need(), prompt, completion, view);
  }

  async heatmap(text: string, view?: string): Promise<HeatmapResult> {
    return ops.heatmap(this.pairs.need(), text, view);
  }

  async generate(prompt: string, maxNewTokens: number, view?: string): Promise<GenerateResult> {
    return ops.generate(this.pairs.need(), prompt, maxNewTokens, view);
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
    const backend = this.pairs.need();
    return this.track(
      this.batches
        .run(backend, prompts, topK, {
          ...(onProgress !== undefined ? { onProgress } : {}),
          stoppedBy: () => (this.pairs.deviceLost !== null ? 'device lost' : 'cancel'),
        })
        .finally(() => this.feed.flush()),
    );
  }

  async cancelBatch(): Promise<void> {
    this.batches.cancel();
  }

  async validateSuite(yamlText: string): Promise<SuiteValidation> {
    return this.suites.validate(yamlText);
  }

  async runSuite(yamlText: string, onEvent: (e: SuiteEvent) => void): Promise<SuiteResult> {
    return this.track(this.runSuiteNow(yamlText, onEvent));
  }

  private async runSuiteNow(yamlText: string, onEvent: (e: SuiteEvent) => void): Promise<SuiteResult> {
    const backend = this.pairs.need();
    const pairLabel = `${backend.info.baseModel} vs ${backend.info.ftModel}`;
    const service = await this.traceService?.catch(() => null);
    service?.startRun({ label: `suite on ${pairLabel}`, pairId: backend.info.pairId });
    const suiteRunId = service?.status().currentRunId ?? null;
    const previousResult = this.suites.lastResult;
    try {
      const result = await this.suites.run(yamlText, backend, onEvent);
      this.lastSuiteRunId = suiteRunId;
      return result;
    } finally {
      this.feed.flush();
      this.attachSuiteMetrics(service ?? null, suiteRunId, previousResult);
      // Interactive work after the suite belongs to a run of its own, not to the suite's trace.
      service?.startRun({ label: pairLabel, pairId: backend.info.pairId });
    }
  }

  async cancelSuite(): Promise<void> {
    this.suites.cancel();
  }

  async suiteReport(format: ReportFormat): Promise<string> {
    return this.suites.report(format);
  }

  async subscribe(listener: (update: FeedUpdate) => void): Promise<Unsubscribe> {
    this.listeners.add(listener);
    listener({ events: [], stats: this.instrumentation.stats.toDict() });
    return Comlink.proxy(() => void this.listeners.delete(listener));
  }

  async stats(): Promise<BackendStatsDict> {
    return this.instrumentation.stats.toDict();
  }

  private async startTraceRun(label: string, pairId: string | null): Promise<string | null> {
    const service = await this.traceService?.catch(() => null);
    if (service === null || service === undefined) return null;
    return service.startRun({ label, pairId });
  }

  private async traces(): Promise<TraceService> {
    if (this.traceService === null)
      throw new StateError('The worker was not initialised: call init() first.');
    return this.traceService;
  }

  async listRuns(): Promise<RunRecord[]> {
    return (await this.traces()).listRuns();
  }

  async runAnalysis(runId: string): Promise<TraceAnalysis> {
    return (await this.traces()).analysis(runId);
  }

  /** The trace run of the last suite that finished here (null: none, or traces are off). */
  private lastSuiteRunId: string | null = null;

  async suiteTraceAnalysis(): Promise<TraceAnalysis | null> {
    if (this.lastSuiteRunId === null) return null;
    return this.runAnalysis(this.lastSuiteRunId).catch(() => null);
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

  async watchBreaker(listener: (status: BreakerStatus) => void): Promise<Unsubscribe> {
    return Comlink.proxy(this.pairs.watchBreaker(listener));
  }

  async lastSuiteResult(): Promise<SuiteResult | null> {
    return this.suites.lastResult;
  }

  async adoptSuiteResult(result: SuiteResult): Promise<void> {
    this.suites.adopt(result);
  }

  /** The page's latest measurement of this worker's heap (kept as a peak in the runs' metrics). */
  private pageHeap: { bytes: number; source: string } | null = null;

  async noteHeap(bytes: number, source: string): Promise<void> {
    if (Number.isFinite(bytes) && bytes >= 0) this.pageHeap = { bytes, source };
  }

  /**
   * The suite's run metrics (its trace run's tracker: every event it traced, as stored) go into its
   * result, so the JSON report carries them. The result is the object the suite service keeps for its
   * reports and the one returned to the page; a failed suite (no new result) is left alone.
   */
  private attachSuiteMetrics(
    service: TraceService | null,
    runId: string | null,
    previous: SuiteResult | null,
  ): void {
    const result = this.suites.lastResult;
    if (service === null || runId === null || result === null || result === previous) return;
    const metrics = service.sink.runMetrics(runId);
    if (metrics !== null) result.metrics = metrics;
  }

  async runMetrics(runId: string): Promise<RunMetricsResult> {
    return (await this.traces()).runMetrics(runId);
  }

  async exportMetricsHistory(): Promise<Blob> {
    return (await this.traces()).exportMetricsHistory();
  }
}
