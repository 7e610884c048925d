import {
  DeviceLostError,
  type DifferentialBackend,
  type ModelSource,
  type OpenOptions,
} from '../backend/index.ts';
import { StateError, type BackendInstrumentation } from '../core/index.ts';
import type { LoadProgressMessage, LoadRequest, Unsubscribe } from './workbenchApi.ts';

/** How the host opens a pair: `openPair`, or a stand-in in tests. */
export type PairOpener = (source: ModelSource, opts: OpenOptions) => Promise<DifferentialBackend>;

export interface PairHostHooks {
  /** Stops work on the current pair (batch, suite) and resolves once it has stopped. */
  stopWork(): Promise<void>;
  /** Called once when the WebGPU device is lost. */
  onDeviceLost(message: string): void;
}

/** What a load needs from the session around it. */
export interface LoadContext {
  appBaseUrl: string;
  instrumentation: BackendInstrumentation;
  onProgress: (p: LoadProgressMessage) => void;
  /** Runs once the old pair's work has stopped, before anything opens (the session starts a trace run). */
  beforeOpen?: () => Promise<void>;
}

/**
 * The pair lifecycle in the worker: at most one loaded pair; a load stops the work on the previous
 * pair and disposes it; a newer load or `cancelLoad` cancels the one in progress; a lost WebGPU
 * device refuses every later load and op (ORT keeps its lost device for the worker's life).
 */
export class PairHost {
  private backend: DifferentialBackend | null = null;
  private loadController: AbortController | null = null;
  private lost: string | null = null;
  private readonly deviceListeners = new Set<(message: string) => void>();

  constructor(
    private readonly open: PairOpener,
    private readonly hooks: PairHostHooks,
  ) {}

  get current(): DifferentialBackend | null {
    return this.backend;
  }

  get deviceLost(): string | null {
    return this.lost;
  }

  /** The loaded pair, or the reason there is none to work on. */
  need(): DifferentialBackend {
    if (this.lost !== null) throw new DeviceLostError(this.lost);
    if (this.backend === null)
      throw new StateError('No model pair is loaded yet: load the demo pair or your own first.');
    return this.backend;
  }

  watchDevice(listener: (message: string) => void): Unsubscribe {
    this.deviceListeners.add(listener);
    if (this.lost !== null) listener(this.lost);
    return () => void this.deviceListeners.delete(listener);
  }

  private deviceWasLost(message: string): void {
    if (this.lost !== null) return;
    this.lost = message;
    this.hooks.onDeviceLost(message);
    for (const l of this.deviceListeners) l(message);
  }

  /**
   * Opens `req.source`, replacing the current pair. `beforeOpen` runs once the old pair's work has
   * stopped (the session starts the trace run there); progress sums the bytes of every file seen.
   */
  async load(req: LoadRequest, ctx: LoadContext): Promise<DifferentialBackend> {
    // The controller exists before the first await, so a cancel that arrives at any point applies.
    this.loadController?.abort();
    const controller = new AbortController();
    this.loadController = controller;
    try {
      return await this.loadNow(req, controller.signal, ctx);
    } finally {
      if (this.loadController === controller) this.loadController = null;
    }
  }

  private async loadNow(
    req: LoadRequest,
    signal: AbortSignal,
    ctx: LoadContext,
  ): Promise<DifferentialBackend> {
    if (this.lost !== null) throw new DeviceLostError(this.lost);
    const previous = this.backend;
    this.backend = null;
    // Work on the previous pair stops (a batch after its chunk in flight, a suite after its probe)
    // before that pair is disposed under it.
    await this.hooks.stopWork();
    await ctx.beforeOpen?.();
    ctx.onProgress({ phase: 'validating', loaded: 0, total: 0 });
    await previous?.dispose();
    const sizes = new Map<string, { loaded: number; total: number }>();
    const backend = await this.open(req.source, {
      signal,
      demoRoot: { url: ctx.appBaseUrl },
      onDeviceLost: (message) => this.deviceWasLost(message),
      onWaiting: () =>
        ctx.onProgress({ phase: 'waiting for the cancelled load to stop', loaded: 0, total: 0 }),
      device: req.device,
      dtype: req.dtype,
      ...(req.maxBatchSize !== undefined ? { maxBatchSize: req.maxBatchSize } : {}),
      instrumentation: ctx.instrumentation,
      ortBaseUrl: new URL('ort/', ctx.appBaseUrl).href,
      onProgress: (p) => {
        sizes.set(`${p.view}/${p.file}`, { loaded: p.loaded, total: p.total });
        let loaded = 0;
        let total = 0;
        for (const s of sizes.values()) {
          loaded += s.loaded;
          total += s.total;
        }
        ctx.onProgress({
          phase: 'downloading',
          view: p.view,
          file: p.file,
          loaded,
          total,
          ...(p.retry !== undefined ? { retry: p.retry } : {}),
        });
      },
    });
    this.backend = backend;
    ctx.onProgress({ phase: 'ready', loaded: 1, total: 1 });
    return backend;
  }

  cancelLoad(): void {
    this.loadController?.abort();
  }
}
