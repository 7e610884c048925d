import { DeltascopeError, errorClass } from './errors.ts';

/**
 * A circuit breaker around a failure-prone path (the GPU): `closed` lets calls through and counts
 * consecutive failures; after `failureThreshold` of them (or one fatal failure, e.g. a lost device)
 * it is `open` and refuses calls; once `recoveryTimeoutMs` has passed it is `half-open`, where one
 * trial call is let through: success closes it, failure opens it again for another timeout. Pure:
 * the clock is injected, and the open → half-open change is noticed whenever the state is read
 * (the owner schedules a read at `retryAt` if it wants to hear of it on time).
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** What went wrong on the GPU path, as the breaker counts it. */
export type GpuFailureKind = 'device-lost' | 'out-of-memory' | 'pipeline';

export interface GpuFailure {
  kind: GpuFailureKind;
  /** A fatal failure opens the breaker at once: nothing more can run on that device. */
  fatal: boolean;
  message: string;
}

/** Project codes that are never a GPU failure, whatever their message says. */
const NOT_GPU = new Set<string>([
  'cancelled',
  'input/invalid',
  'input/unreadable',
  'spec/invalid',
  'state/not-ready',
  'backend/contract',
  'probe/failed',
  'storage/failed',
  'usage',
  'model-load/missing-file',
  'model-load/invalid-file',
  'model-load/mismatch',
  'model-load/bad-source',
  'model-load/unsupported',
  'model-load/network',
  'model-load/access-denied',
]);

const OUT_OF_MEMORY =
  /out of memory|GPUOutOfMemoryError|\bOOM\b|failed to allocate|allocation failed|exceeds the (max|maximum) buffer size|Failed to create (a )?buffer/i;
const DEVICE_LOST =
  /device (was |is |has been )?(lost|destroyed)|destroyed device|GPU process (crashed|exited)/i;
const PIPELINE =
  /shader|pipeline|WGSL|GPUValidationError|GPUPipelineError|GPUInternalError|webgpu|mapAsync|GPUBuffer|compute pass|JSEP/i;

/**
 * The one definition of what the breaker counts: a lost device (`device/lost`, or a runtime message
 * saying the device is lost or destroyed; fatal), running out of GPU memory, and a pipeline, shader
 * or validation failure of the WebGPU runtime. Everything the project classifies otherwise (a
 * cancel, bad input, a spec, a missing file) is not a GPU failure and returns null.
 */
export function classifyGpuFailure(e: unknown): GpuFailure | null {
  const message = e instanceof Error ? e.message || e.name : String(e);
  const code = e instanceof DeltascopeError ? e.code : null;
  if (code === 'device/lost') return { kind: 'device-lost', fatal: true, message };
  if (code !== null && NOT_GPU.has(code)) return null;
  const text = e instanceof Error ? `${e.name}: ${message}` : message;
  if (DEVICE_LOST.test(text)) return { kind: 'device-lost', fatal: true, message };
  if (OUT_OF_MEMORY.test(text)) return { kind: 'out-of-memory', fatal: false, message };
  if (PIPELINE.test(text)) return { kind: 'pipeline', fatal: false, message };
  return null;
}

/** Words for a failure kind, as the UI says them ("WebGPU failed (device lost)"). */
export function describeGpuFailure(kind: GpuFailureKind): string {
  return kind === 'device-lost'
    ? 'device lost'
    : kind === 'out-of-memory'
      ? 'out of memory'
      : 'pipeline failure';
}

/** A call refused because the breaker is open (or its one half-open trial is already running). */
export const CircuitOpenError = errorClass('CircuitOpenError', 'state/not-ready');
export type CircuitOpenError = InstanceType<typeof CircuitOpenError>;

export interface BreakerChange {
  from: BreakerState;
  to: BreakerState;
  /** Clock time of the change (the injected clock's unit, ms). */
  at: number;
  /** Why: the failure's kind for an opening, `recovery timeout` for half-open, `success` for closed. */
  reason: string;
  /** Consecutive failures counted when the change happened. */
  failures: number;
  /** When an open breaker turns half-open; null unless `to` is `open`. */
  retryAt: number | null;
}

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker (default 3). */
  failureThreshold?: number;
  /** How long the breaker stays open before a trial (default 60 s). */
  recoveryTimeoutMs?: number;
  /** The clock, in ms. */
  now: () => number;
  /** Every state change, in order; an exception it throws is swallowed. */
  onStateChange?: (change: BreakerChange) => void;
  /** `half-open` to start with a trial pending (a fresh engine trying the GPU again). */
  initialState?: 'closed' | 'half-open';
}

export const DEFAULT_FAILURE_THRESHOLD = 3;
export const DEFAULT_RECOVERY_TIMEOUT_MS = 60_000;

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly recoveryTimeoutMs: number;
  private current: BreakerState;
  private consecutive = 0;
  private openUntil: number | null = null;
  private trialRunning = false;
  private readonly now: () => number;
  private readonly onStateChange: ((change: BreakerChange) => void) | undefined;

  constructor(opts: CircuitBreakerOptions) {
    const threshold = opts.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD;
    const timeout = opts.recoveryTimeoutMs ?? DEFAULT_RECOVERY_TIMEOUT_MS;
    if (!Number.isInteger(threshold) || threshold < 1)
      throw new RangeError(`failureThreshold must be a positive integer, got ${threshold}`);
    if (!Number.isFinite(timeout) || timeout < 0)
      throw new RangeError(`recoveryTimeoutMs must be a non-negative number, got ${timeout}`);
    this.failureThreshold = threshold;
    this.recoveryTimeoutMs = timeout;
    this.now = opts.now;
    this.onStateChange = opts.onStateChange;
    this.current = opts.initialState ?? 'closed';
  }

  /** The state now; reading it moves an open breaker whose timeout has passed to half-open. */
  get state(): BreakerState {
    if (this.current === 'open' && this.openUntil !== null && this.now() >= this.openUntil) {
      this.change('half-open', 'recovery timeout');
    }
    return this.current;
  }

  /** Consecutive failures counted since the last success. */
  get failures(): number {
    return this.consecutive;
  }

  /** When an open breaker turns half-open; null when it is not open. */
  get retryAt(): number | null {
    return this.current === 'open' ? this.openUntil : null;
  }

  /** Whether a call would be let through now (closed, or half-open with no trial running). */
  get allowsCalls(): boolean {
    const s = this.state;
    return s === 'closed' || (s === 'half-open' && !this.trialRunning);
  }

  /** Throws `CircuitOpenError` when a call may not run now. */
  ensureAllowed(): void {
    const s = this.state;
    if (s === 'open') {
      const wait = Math.max(0, Math.ceil(((this.openUntil ?? this.now()) - this.now()) / 1000));
      throw new CircuitOpenError(
        `The GPU path is switched off after ${this.consecutive} failure(s); it is tried again in ${wait} s.`,
      );
    }
    if (s === 'half-open' && this.trialRunning) {
      throw new CircuitOpenError('The GPU path is being tried again; wait for that trial to finish.');
    }
  }

  recordSuccess(): void {
    const s = this.state;
    this.consecutive = 0;
    if (s === 'half-open') this.change('closed', 'success');
  }

  /** Counts a failure; a fatal one (or the threshold-th in a row) opens the breaker. */
  recordFailure(failure: { kind: string; fatal?: boolean }): void {
    const s = this.state;
    if (s === 'open') return;
    this.consecutive += 1;
    if (s === 'half-open' || failure.fatal === true || this.consecutive >= this.failureThreshold) {
      this.openUntil = this.now() + this.recoveryTimeoutMs;
      this.change('open', failure.kind);
    }
  }

  /**
   * Runs `fn` through the breaker: refused while open (and while a half-open trial runs); its
   * outcome is recorded; an error `classify` does not count passes through uncounted.
   */
  async call<T>(
    fn: () => Promise<T>,
    classify: (e: unknown) => GpuFailure | null = classifyGpuFailure,
  ): Promise<T> {
    this.ensureAllowed();
    const trial = this.current === 'half-open';
    if (trial) this.trialRunning = true;
    try {
      const value = await fn();
      this.recordSuccess();
      return value;
    } catch (e) {
      const failure = classify(e);
      if (failure !== null) this.recordFailure(failure);
      throw e;
    } finally {
      if (trial) this.trialRunning = false;
    }
  }

  private change(to: BreakerState, reason: string): void {
    const from = this.current;
    this.current = to;
    if (to !== 'open') this.openUntil = null;
    const change: BreakerChange = {
      from,
      to,
      at: this.now(),
      reason,
      failures: this.consecutive,
      retryAt: to === 'open' ? this.openUntil : null,
    };
    try {
      this.onStateChange?.(change);
    } catch {
      // A listener's failure must not change what the breaker does.
    }
  }
}
