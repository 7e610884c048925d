/**
 * Retry with exponential backoff and full jitter, for work that fails for passing reasons (a server
 * answering 503, a dropped connection). Pure: the clock (now, sleep) and the random source are
 * passed in, so tests drive every delay by hand.
 *
 * The delay before retry n (n = 1 after the first failed attempt) is drawn uniformly from
 * [0, min(maxDelayMs, baseDelayMs · factor^(n-1))] ("full jitter": many clients failing together do
 * not come back together). A `Retry-After` the server sent raises the delay to at least what it asked
 * for; one longer than `maxRetryAfterMs` ends the retries instead of waiting for it.
 */
import { CancelledError, DeltascopeError } from './errors.ts';

export interface RetryPolicy {
  /** Attempts in all, the first one included (≥ 1). */
  maxAttempts: number;
  /** The ceiling of the first retry's delay. */
  baseDelayMs: number;
  /** Each retry's ceiling is the previous one times this (≥ 1). */
  factor: number;
  /** No ceiling exceeds this. */
  maxDelayMs: number;
  /** One attempt that has not settled after this long fails (and may be retried); 0: no limit. */
  attemptTimeoutMs: number;
  /** The longest `Retry-After` waited for; a server asking for more ends the retries. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  factor: 2,
  maxDelayMs: 30_000,
  attemptTimeoutMs: 0,
  maxRetryAfterMs: 120_000,
};

/** Time, passed in. `sleep` resolves after `ms`, or rejects at once (with the signal's reason) on abort. */
export interface RetryClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: RetryClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** Whether (and how soon) a failure may be retried: `{ retryAfterMs }` is the server's own wish. */
export type RetryDecision = boolean | { retryAfterMs: number };

export interface RetryAttempt {
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborted when this attempt times out or the whole retry is cancelled. */
  signal: AbortSignal;
}

/** Told before each wait: attempt `attempt - 1` failed with `error`; `attempt` starts after `delayMs`. */
export interface RetryNotice {
  attempt: number;
  maxAttempts: number;
  delayMs: number;
  error: unknown;
  /** Set when the server asked for the wait (`Retry-After`). */
  retryAfterMs?: number;
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  /** Which failures are worth another attempt (default: every one but a cancellation). */
  retryable?: (error: unknown) => RetryDecision;
  /** Told before each wait. Whatever it throws is ignored: a broken listener cannot break the retry. */
  onRetry?: (notice: RetryNotice) => void;
  /** Stops the retry at once, a wait or an attempt in flight alike, with a `CancelledError`. */
  signal?: AbortSignal;
  cancelledMessage?: string;
  clock?: RetryClock;
  /** Uniform in [0, 1) (default `Math.random`). */
  random?: () => number;
  /**
   * Goes on with a sequence whose attempt `attempt` already failed elsewhere with `error` (e.g. a
   * download body that broke after its headers came): the next attempt is `attempt + 1`, after the
   * delay that retry would have had.
   */
  after?: { attempt: number; error: unknown };
}

/** An attempt that did not settle within `attemptTimeoutMs`. */
export class AttemptTimeoutError extends Error {
  override name = 'AttemptTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${formatDelay(timeoutMs)}`);
  }
}

/**
 * The retry gave up on a retryable failure: every attempt failed, or the server asked to wait longer
 * than `maxRetryAfterMs`. `cause` is the last attempt's error.
 */
export class RetryExhaustedError extends Error {
  override name = 'RetryExhaustedError';
  constructor(
    override readonly cause: unknown,
    readonly attempts: number,
    readonly reason: 'attempts' | 'retry-after',
    readonly retryAfterMs?: number,
  ) {
    super(
      `${cause instanceof Error ? cause.message : String(cause)} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`,
    );
  }
}

/** A policy with every field set and checked; a bad value is an `input/invalid` error naming the field. */
export function resolveRetryPolicy(
  overrides: Partial<RetryPolicy> = {},
  defaults: RetryPolicy = DEFAULT_RETRY_POLICY,
): RetryPolicy {
  const p = { ...defaults, ...definedFields(overrides) };
  const bad = (field: keyof RetryPolicy, what: string): never => {
    throw new DeltascopeError('input/invalid', `Retry policy: ${field} must be ${what}, got ${p[field]}.`, {
      input: field,
    });
  };
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1) bad('maxAttempts', 'an integer ≥ 1');
  if (!(p.baseDelayMs >= 0) || !Number.isFinite(p.baseDelayMs)) bad('baseDelayMs', 'a finite number ≥ 0');
  if (!(p.factor >= 1) || !Number.isFinite(p.factor)) bad('factor', 'a finite number ≥ 1');
  if (!(p.maxDelayMs >= 0)) bad('maxDelayMs', 'a number ≥ 0');
  if (!(p.attemptTimeoutMs >= 0)) bad('attemptTimeoutMs', 'a number ≥ 0 (0: no limit)');
  if (!(p.maxRetryAfterMs >= 0)) bad('maxRetryAfterMs', 'a number ≥ 0');
  return p;
}

function definedFields<T extends object>(o: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The largest delay retry `n` (1-based) may draw: min(maxDelayMs, baseDelayMs · factor^(n-1)). */
export function backoffCeiling(
  n: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'factor' | 'maxDelayMs'>,
) {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** Math.max(0, n - 1));
}

/** Full jitter: a delay drawn uniformly from [0, backoffCeiling(n)]. */
export function backoffDelay(
  n: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'factor' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const r = Math.min(1, Math.max(0, random()));
  return r * backoffCeiling(n, policy);
}

/**
 * An HTTP `Retry-After` value in milliseconds from `nowMs`: delay-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`; a date in the past is 0). Anything else is `undefined`.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** The HTTP statuses worth another attempt: 408, 429 and every 5xx. Never 401, 403 or 404. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** A response whose status is the failure (`retryAfterMs` from its `Retry-After`, if any). */
export class HttpStatusError extends Error {
  override name = 'HttpStatusError';
  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly retryAfterMs?: number,
  ) {
    super(`the server answered ${status}${statusText ? ` ${statusText}` : ''}`);
  }
}

/**
 * The filter for HTTP work: retryable statuses (honouring `Retry-After`), timeouts and network errors
 * (a `TypeError` from fetch, a reset socket) are retried; other statuses, a cancellation and any
 * `DeltascopeError` (a decision already made, e.g. "this repo is gated") are not.
 */
export function httpRetryable(error: unknown): RetryDecision {
  if (error instanceof HttpStatusError) {
    if (!isRetryableStatus(error.status)) return false;
    return error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : true;
  }
  if (error instanceof DeltascopeError) return false;
  if (error instanceof Error && error.name === 'AbortError') return false;
  return true;
}

/** "2 s", "250 ms", "1.5 s". */
export function formatDelay(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s < 10 ? s.toFixed(1) : Math.round(s)} s`;
}

/**
 * Runs `op` until it succeeds, the failure is not retryable (that error is rethrown as is), the
 * attempts run out or the server asks for too long a wait (`RetryExhaustedError`), or `signal`
 * aborts (`CancelledError`, at once, even mid-wait or mid-attempt).
 */
export async function retry<T>(op: (a: RetryAttempt) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const policy = resolveRetryPolicy(opts.policy);
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const retryable = opts.retryable ?? (() => true);
  const { signal } = opts;
  const cancelled = () => new CancelledError(opts.cancelledMessage ?? 'Cancelled.');
  let attempt = opts.after?.attempt ?? 0;
  let failure: { error: unknown } | null = opts.after ? { error: opts.after.error } : null;
  for (;;) {
    if (signal?.aborted) throw cancelled();
    if (failure !== null) {
      const { error } = failure;
      const decision = error instanceof CancelledError ? false : retryable(error);
      if (decision === false) throw error;
      if (attempt >= policy.maxAttempts) throw new RetryExhaustedError(error, attempt, 'attempts');
      const retryAfterMs = typeof decision === 'object' ? decision.retryAfterMs : undefined;
      if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) {
        throw new RetryExhaustedError(error, attempt, 'retry-after', retryAfterMs);
      }
      const delayMs = Math.max(backoffDelay(attempt, policy, random), retryAfterMs ?? 0);
      notify(opts.onRetry, {
        attempt: attempt + 1,
        maxAttempts: policy.maxAttempts,
        delayMs,
        error,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
      try {
        await clock.sleep(delayMs, signal);
      } catch (e) {
        if (signal?.aborted) throw cancelled();
        throw e;
      }
      if (signal?.aborted) throw cancelled();
    }
    attempt += 1;
    try {
      return await runAttempt(op, attempt, policy, clock, signal, cancelled);
    } catch (e) {
      if (signal?.aborted || e instanceof CancelledError) throw e instanceof CancelledError ? e : cancelled();
      failure = { error: e };
    }
  }
}

function notify(onRetry: RetryOptions['onRetry'], notice: RetryNotice): void {
  if (onRetry === undefined) return;
  try {
    const r = onRetry(notice) as unknown;
    if (r instanceof Promise) r.catch(() => {});
  } catch {
    // A listener's failure is its own: the retry goes on.
  }
}

/** One attempt, raced against its timeout and the cancellation; its signal aborts when either fires. */
async function runAttempt<T>(
  op: (a: RetryAttempt) => Promise<T>,
  attempt: number,
  policy: RetryPolicy,
  clock: RetryClock,
  signal: AbortSignal | undefined,
  cancelled: () => CancelledError,
): Promise<T> {
  const ctl = new AbortController();
  const timers = new AbortController();
  const racers: Promise<T>[] = [];
  let onAbort: (() => void) | undefined;
  if (signal !== undefined) {
    racers.push(
      new Promise<never>((_, reject) => {
        onAbort = () => {
          const e = cancelled();
          ctl.abort(e);
          reject(e);
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    );
  }
  if (policy.attemptTimeoutMs > 0) {
    racers.push(
      clock.sleep(policy.attemptTimeoutMs, timers.signal).then(() => {
        const e = new AttemptTimeoutError(policy.attemptTimeoutMs);
        ctl.abort(e);
        throw e;
      }),
    );
  }
  try {
    racers.push(op({ attempt, signal: ctl.signal }));
    return await Promise.race(racers);
  } catch (e) {
    // A failed attempt lets go of whatever it still holds (a request, a socket).
    if (!ctl.signal.aborted) ctl.abort(e);
    throw e;
  } finally {
    timers.abort();
    if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
  }
}
