import {
  DeviceLostError,
  isNullCalibrated,
  isScalable,
  type DifferentialBackend,
  type ModelSource,
  type OpenOptions,
} from '../backend/index.ts';
import {
  CircuitBreaker,
  classifyGpuFailure,
  describeGpuFailure,
  type BreakerChange,
  type GpuFailure,
} from '../core/circuitBreaker.ts';
import { errorCode, StateError, type BackendInstrumentation } from '../core/index.ts';
import { FailoverBackend } from './gpuFailover.ts';
import type { BreakerStatus, LoadProgressMessage, LoadRequest, Unsubscribe } from './workbenchApi.ts';

/** How long the fallback waits for the GPU pair's runs in flight, and for its disposal. */
const FALLBACK_WAIT_MS = 10_000;

/** How the host opens a pair: `openPair`, or a stand-in in tests. */
export type PairOpener = (source: ModelSource, opts: OpenOptions) => Promise<DifferentialBackend>;

export interface PairHostHooks {
  /** Stops work on the current pair (batch, suite) and resolves once it has stopped. */
  stopWork(): Promise<void>;
  /**
   * Called once when the WebGPU device is lost and the session cannot go on by itself (the breaker
   * is off, or the fallback to WASM failed).
   */
  onDeviceLost(message: string): void;
  /**
   * Resolves once no batch or suite is in flight: the safe point for the half-open trial, which
   * replaces this worker (the page restarts it on WebGPU). Without it the trial waits for nothing.
   */
  idle?(): Promise<void>;
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
 * pair and disposes it; a newer load or `cancelLoad` cancels the one in progress.
 *
 * The GPU path is behind a circuit breaker (`LoadRequest.breaker`, on by default): a pair on WebGPU
 * is served through a `FailoverBackend`, and when the breaker opens (a lost device at once, N
 * consecutive out-of-memory or pipeline failures) the same source is loaded again on WASM with the
 * same instrumentation, and the work in flight goes on there. ORT keeps a lost device (and its
 * WebGPU backend) for the worker's life, so this worker never uses WebGPU again: after the recovery
 * timeout the breaker is half-open, and once no batch or suite runs the host reports a trial, on
 * which the page starts a fresh worker on WebGPU whose load is the trial (it starts half-open). With
 * the breaker off, or when the fallback fails, a lost device refuses every later load and op as
 * before, and the page offers Restart.
 */
export class PairHost {
  private backend: DifferentialBackend | null = null;
  private loadController: AbortController | null = null;
  private lost: string | null = null;
  private readonly deviceListeners = new Set<(message: string) => void>();
  private readonly breakerListeners = new Set<(status: BreakerStatus) => void>();
  private breaker: CircuitBreaker | null = null;
  private lastStatus: BreakerStatus | null = null;
  private failover: FailoverBackend | null = null;
  /** Why this worker's WebGPU is unusable (set once the breaker has opened here). */
  private gpuDead: string | null = null;
  private lastFailure: GpuFailure | null = null;
  private fallingBack: Promise<DifferentialBackend> | null = null;
  private recoveryTimer: ReturnType<typeof setTimeout> | null = null;
  /** What the current pair was opened from and how (the fallback opens it again). */
  private opened: { req: LoadRequest; ctx: LoadContext } | null = null;

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

  /**
   * The loaded pair, or the reason there is none to work on. Behind the breaker, the failover view
   * of it: stable across a fallback, so work in flight goes on on the reloaded pair.
   */
  need(): DifferentialBackend {
    if (this.lost !== null) throw new DeviceLostError(this.lost);
    if (this.backend === null && this.fallingBack === null)
      throw new StateError('No model pair is loaded yet: load the demo pair or your own first.');
    if (this.failover !== null) return this.failover;
    if (this.backend === null)
      throw new StateError('No model pair is loaded yet: load the demo pair or your own first.');
    return this.backend;
  }

  /** The breaker's state and what the session did, at once (if any) and on every change. */
  watchBreaker(listener: (status: BreakerStatus) => void): Unsubscribe {
    this.breakerListeners.add(listener);
    if (this.lastStatus !== null) listener(this.lastStatus);
    return () => void this.breakerListeners.delete(listener);
  }

  watchDevice(listener: (message: string) => void): Unsubscribe {
    this.deviceListeners.add(listener);
    if (this.lost !== null) listener(this.lost);
    return () => void this.deviceListeners.delete(listener);
  }

  /** The device-loss watch fired: behind the breaker, a fatal GPU failure; otherwise the end. */
  private onGpuLost(message: string): void {
    const backend = this.backend;
    if (this.breaker !== null) {
      // On the GPU pair: a fatal failure, and the fallback. Already on WASM after a fallback (the
      // failing op opened the breaker first): nothing more to stop.
      if (backend !== null && backend.info.device === 'webgpu') {
        void this.gpuFailed(backend, { kind: 'device-lost', fatal: true, message }).catch(() => {});
        return;
      }
      if (this.gpuDead !== null) return;
    }
    this.deviceWasLost(message);
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
    this.failover = null;
    // Work on the previous pair stops (a batch after its chunk in flight, a suite after its probe)
    // before that pair is disposed under it.
    await this.hooks.stopWork();
    await this.fallingBack?.catch(() => {});
    await ctx.beforeOpen?.();
    ctx.onProgress({ phase: 'validating', loaded: 0, total: 0 });
    await previous?.dispose();
    const breaker = this.breakerFor(req, ctx);
    // This worker's WebGPU is gone once the breaker has opened here: later loads go to WASM.
    const device = this.gpuDead !== null ? 'wasm' : req.device;
    let backend: DifferentialBackend;
    try {
      backend = await this.openWith(req, device, signal, ctx);
    } catch (e) {
      // The half-open trial is this load: WebGPU failing it opens the breaker again, and the pair
      // is opened on WASM instead.
      if (
        breaker === null ||
        breaker.state !== 'half-open' ||
        device === 'wasm' ||
        errorCode(e) === 'cancelled'
      )
        throw e;
      const failure = classifyGpuFailure(e) ?? {
        kind: 'pipeline' as const,
        fatal: false,
        message: e instanceof Error ? e.message : String(e),
      };
      this.lastFailure = failure;
      breaker.recordFailure({ ...failure, fatal: true });
      this.gpuDead = failure.message;
      backend = await this.openWith(req, 'wasm', signal, ctx);
    }
    this.backend = backend;
    this.opened = { req, ctx };
    if (breaker !== null && backend.info.device === 'webgpu') {
      // A half-open trial that loaded (its warm-up forward ran on the GPU) closes the breaker.
      if (breaker.state === 'half-open') breaker.recordSuccess();
      this.failover = new FailoverBackend(
        {
          settled: () => this.settled(),
          failed: (b, e) => this.callFailed(b, e),
          succeeded: (b) => {
            // Only the live GPU pair's successes count: a late answer from a pair already given up
            // must not close a breaker that opened meanwhile.
            if (b === this.backend && b.info.device === 'webgpu' && this.gpuDead === null)
              breaker.recordSuccess();
          },
        },
        backend,
        () => this.backend ?? backend,
      );
    } else if (breaker !== null && this.gpuDead !== null) {
      this.report(null, backend);
    }
    ctx.onProgress({ phase: 'ready', loaded: 1, total: 1 });
    return backend;
  }

  /** Opens `req.source` on `device` with the session's instrumentation and progress. */
  private openWith(
    req: LoadRequest,
    device: LoadRequest['device'],
    signal: AbortSignal,
    ctx: LoadContext,
  ): Promise<DifferentialBackend> {
    const sizes = new Map<string, { loaded: number; total: number }>();
    return this.open(req.source, {
      signal,
      demoRoot: { url: ctx.appBaseUrl },
      onDeviceLost: (message) => this.onGpuLost(message),
      onWaiting: () =>
        ctx.onProgress({ phase: 'waiting for the cancelled load to stop', loaded: 0, total: 0 }),
      device,
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
  }

  cancelLoad(): void {
    this.loadController?.abort();
  }

  /** The worker's breaker, made at its first load from the request's settings (null: off). */
  private breakerFor(req: LoadRequest, ctx: LoadContext): CircuitBreaker | null {
    const opts = req.breaker;
    if (opts?.enabled === false) return null;
    if (this.breaker === null) {
      this.breaker = new CircuitBreaker({
        ...(opts?.failureThreshold !== undefined ? { failureThreshold: opts.failureThreshold } : {}),
        ...(opts?.recoveryTimeoutMs !== undefined ? { recoveryTimeoutMs: opts.recoveryTimeoutMs } : {}),
        initialState: opts?.trial === true ? 'half-open' : 'closed',
        now: () => Date.now(),
        onStateChange: (change) => this.breakerChanged(change, ctx.instrumentation),
      });
    }
    return this.breaker;
  }

  /** Every change is a trace event (op `breaker`, the state in `state`) and a status for the page. */
  private breakerChanged(change: BreakerChange, inst: BackendInstrumentation): void {
    const recoveryS = Math.round((this.breaker?.recoveryTimeoutMs ?? 0) / 1000);
    void inst
      .uncached('breaker', 'gpu', 'breaker', async () => undefined, {
        state: change.to,
        from: change.from,
        reason: change.reason,
        failures: change.failures,
        recovery_s: recoveryS,
      })
      .catch(() => {});
    if (change.to === 'open') this.scheduleRecovery(change.retryAt);
    this.report(change, this.backend);
  }

  private report(change: BreakerChange | null, backend: DifferentialBackend | null): void {
    const breaker = this.breaker;
    if (breaker === null) return;
    const failure = this.lastFailure;
    const status: BreakerStatus = {
      state: change?.to ?? breaker.state,
      from: change?.from ?? null,
      reason: change?.reason ?? null,
      failure: failure === null ? null : describeGpuFailure(failure.kind),
      failureMessage: failure?.message ?? null,
      recoveryS: Math.round(breaker.recoveryTimeoutMs / 1000),
      retryAt: breaker.retryAt,
      device: backend?.info.device ?? null,
      info:
        backend === null
          ? null
          : {
              ...backend.info,
              views: { scalable: isScalable(backend), nullCalibrated: isNullCalibrated(backend) },
            },
      fallingBack: this.fallingBack !== null,
      trial: false,
    };
    this.lastStatus = status;
    for (const l of this.breakerListeners) l(status);
  }

  /** After the recovery timeout the breaker reads half-open; the trial waits for a safe point. */
  private scheduleRecovery(retryAt: number | null): void {
    if (this.recoveryTimer !== null) clearTimeout(this.recoveryTimer);
    if (retryAt === null) return;
    this.recoveryTimer = setTimeout(
      () => {
        this.recoveryTimer = null;
        const breaker = this.breaker;
        if (breaker === null) return;
        // A timer may fire a millisecond before the clock reaches retryAt: look again then.
        if (breaker.state === 'open') return this.scheduleRecovery((breaker.retryAt ?? Date.now()) + 1);
        if (breaker.state === 'half-open') void this.offerTrial();
      },
      Math.max(0, retryAt - Date.now()),
    );
  }

  /**
   * Half-open in a worker whose WebGPU is gone: the trial needs a fresh worker, so once no batch or
   * suite is in flight (never mid-op) the page is told to restart on WebGPU; its load is the trial.
   */
  private async offerTrial(): Promise<void> {
    await this.fallingBack?.catch(() => {});
    await this.hooks.idle?.();
    const breaker = this.breaker;
    if (breaker === null || breaker.state !== 'half-open' || this.lastStatus === null) return;
    const status: BreakerStatus = { ...this.lastStatus, state: 'half-open', trial: true };
    this.lastStatus = status;
    for (const l of this.breakerListeners) l(status);
  }

  /** The pair calls go to now: waits for a fallback in progress. */
  private async settled(): Promise<DifferentialBackend> {
    if (this.fallingBack !== null) return this.fallingBack;
    if (this.lost !== null) throw new DeviceLostError(this.lost);
    if (this.backend === null)
      throw new StateError('No model pair is loaded yet: load the demo pair or your own first.');
    return this.backend;
  }

  /** A call failed on `backend`: decides whether it runs again (see `FailoverControl.failed`). */
  private async callFailed(backend: DifferentialBackend, error: unknown): Promise<boolean> {
    if (backend.info.device !== 'webgpu' || this.breaker === null) return false;
    if (errorCode(error) === 'cancelled') return false;
    // The pair was replaced (fallback done or under way) while this call ran: run it there.
    if (backend !== this.backend) return this.fallingBack !== null || this.backend !== null;
    const failure =
      classifyGpuFailure(error) ??
      (this.gpuDead !== null ? { kind: 'device-lost' as const, fatal: true, message: this.gpuDead } : null);
    if (failure === null) return false;
    await this.gpuFailed(backend, failure);
    return true;
  }

  /** Counts a GPU failure; once the breaker is open, the pair is opened again on WASM. */
  private gpuFailed(backend: DifferentialBackend, failure: GpuFailure): Promise<DifferentialBackend> {
    const breaker = this.breaker!;
    if (this.fallingBack !== null) return this.fallingBack;
    if (backend !== this.backend) return this.settled();
    this.lastFailure = failure;
    breaker.recordFailure(failure);
    if (breaker.state !== 'open') return Promise.resolve(backend);
    return this.fallBack(backend, failure);
  }

  /** Opens the same source on WASM with the same instrumentation; the GPU pair is let go. */
  private fallBack(backend: DifferentialBackend, failure: GpuFailure): Promise<DifferentialBackend> {
    this.gpuDead = failure.message;
    const opened = this.opened!;
    const controller = new AbortController();
    this.loadController = controller;
    const failover = this.failover;
    const reload = (async () => {
      try {
        // The GPU runs still in flight settle first (each fails on a lost device, or finishes), and
        // the GPU pair is let go (bounded: a lost device's sessions may never answer), so nothing of
        // the GPU's is left in the runtime when the WASM pair runs its first forward.
        const bounded = (p: Promise<unknown>) =>
          Promise.race([p.catch(() => {}), new Promise((r) => setTimeout(r, FALLBACK_WAIT_MS))]);
        if (failover !== null) await bounded(failover.settledOn(backend));
        await bounded(backend.dispose());
        const open = () =>
          this.openWith(opened.req, 'wasm', controller.signal, { ...opened.ctx, onProgress: () => {} });
        let wasm: DifferentialBackend;
        try {
          wasm = await open();
        } catch (e) {
          // Once more: a failure of the lost device's can still surface in the first WASM run.
          if (errorCode(e) === 'cancelled') throw e;
          wasm = await open();
        }
        this.backend = wasm;
        return wasm;
      } finally {
        if (this.loadController === controller) this.loadController = null;
      }
    })();
    this.fallingBack = reload;
    this.report(null, backend);
    reload.then(
      (wasm) => {
        if (this.fallingBack === reload) this.fallingBack = null;
        this.report(null, wasm);
      },
      (e: unknown) => {
        if (this.fallingBack === reload) this.fallingBack = null;
        this.backend = null;
        this.failover = null;
        this.lastFailure = {
          ...failure,
          message: `${failure.message} Loading the pair on WASM failed too: ${e instanceof Error ? e.message : String(e)}`,
        };
        this.report(null, null);
        this.deviceWasLost(
          `WebGPU failed (${describeGpuFailure(failure.kind)}: ${failure.message}) and loading the pair on ` +
            `WASM failed too (${e instanceof Error ? e.message : String(e)}). Restart the engine.`,
        );
      },
    );
    return reload;
  }
}
