// The retry policy with an injected clock and random source: the backoff sequence, its cap, full
// jitter's bounds, Retry-After (seconds and HTTP-date), the retryable filter (never 401/403/404), a
// listener that throws, cancellation that stops a wait at once, and the per-attempt timeout.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CancelledError, DeltascopeError } from '../../src/core/errors.ts';
import {
  AttemptTimeoutError,
  HttpStatusError,
  RetryExhaustedError,
  backoffCeiling,
  backoffDelay,
  formatDelay,
  httpRetryable,
  isRetryableStatus,
  parseRetryAfter,
  resolveRetryPolicy,
  retry,
  type RetryAttempt,
  type RetryClock,
  type RetryNotice,
} from '../../src/core/retry.ts';

/** A clock that moves only when told; `sleeps` records every wait asked for. */
class ManualClock implements RetryClock {
  t = 1_700_000_000_000;
  sleeps: number[] = [];
  private timers: { at: number; resolve: () => void }[] = [];
  now = () => this.t;
  sleep = (ms: number, signal?: AbortSignal) => {
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const timer = { at: this.t + ms, resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  };
  get pending(): number {
    return this.timers.length;
  }
  /** Moves to the earliest timer and fires it. */
  fireNext(): boolean {
    if (this.timers.length === 0) return false;
    const next = this.timers.reduce((a, b) => (b.at < a.at ? b : a));
    this.t = Math.max(this.t, next.at);
    this.timers = this.timers.filter((x) => x !== next);
    next.resolve();
    return true;
  }
}

const settle = () => new Promise<void>((r) => setImmediate(r));

/** Runs `p` to the end, firing the clock's timers whenever nothing else can happen. */
async function drive<T>(clock: ManualClock, p: Promise<T>): Promise<T> {
  let done = false;
  const watched = p.finally(() => (done = true));
  watched.catch(() => {});
  for (let i = 0; i < 10_000; i++) {
    await settle();
    if (done) break;
    if (!clock.fireNext()) throw new Error('stuck: no timer and not settled');
  }
  return watched;
}

const fails = (n: number, error: () => unknown = () => new TypeError('fetch failed')) => {
  const calls: RetryAttempt[] = [];
  const op = (a: RetryAttempt) => {
    calls.push(a);
    return calls.length <= n ? Promise.reject(error()) : Promise.resolve(`ok on ${a.attempt}`);
  };
  return { op, calls };
};

describe('backoff', () => {
  it('doubles from the base: ceilings 500, 1000, 2000, 4000 ms before attempts 2..5', async () => {
    const clock = new ManualClock();
    const { op, calls } = fails(10);
    const e = await drive(clock, retry(op, { clock, random: () => 1 })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RetryExhaustedError);
    expect(e).toMatchObject({ attempts: 5, reason: 'attempts' });
    expect((e as RetryExhaustedError).cause).toBeInstanceOf(TypeError);
    expect(clock.sleeps).toEqual([500, 1000, 2000, 4000]);
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3, 4, 5]);
  });

  it('caps every delay at maxDelayMs', async () => {
    const clock = new ManualClock();
    const { op } = fails(10);
    const policy = { baseDelayMs: 1000, factor: 10, maxDelayMs: 5000, maxAttempts: 5 };
    await drive(clock, retry(op, { clock, random: () => 1, policy })).catch(() => {});
    expect(clock.sleeps).toEqual([1000, 5000, 5000, 5000]);
  });

  it('full jitter: the delay is random × the ceiling, from 0 up to the ceiling', async () => {
    for (const [r, want] of [
      [0, [0, 0, 0, 0]],
      [0.25, [125, 250, 500, 1000]],
    ] as const) {
      const clock = new ManualClock();
      const { op } = fails(10);
      await drive(clock, retry(op, { clock, random: () => r })).catch(() => {});
      expect(clock.sleeps).toEqual(want);
    }
  });

  it('returns the first success and tells each retry (attempt, of, delay, why)', async () => {
    const clock = new ManualClock();
    const { op, calls } = fails(2);
    const notices: RetryNotice[] = [];
    const out = await drive(clock, retry(op, { clock, random: () => 0.5, onRetry: (n) => notices.push(n) }));
    expect(out).toBe('ok on 3');
    expect(calls).toHaveLength(3);
    expect(notices.map(({ attempt, maxAttempts, delayMs }) => ({ attempt, maxAttempts, delayMs }))).toEqual([
      { attempt: 2, maxAttempts: 5, delayMs: 250 },
      { attempt: 3, maxAttempts: 5, delayMs: 500 },
    ]);
    expect(notices[0]!.error).toBeInstanceOf(TypeError);
  });

  it('goes on after an attempt that failed elsewhere (`after`): next attempt, that retry’s delay', async () => {
    const clock = new ManualClock();
    const { op, calls } = fails(0);
    const out = await drive(
      clock,
      retry(op, { clock, random: () => 1, after: { attempt: 2, error: new TypeError('terminated') } }),
    );
    expect(out).toBe('ok on 3');
    expect(calls.map((c) => c.attempt)).toEqual([3]);
    expect(clock.sleeps).toEqual([1000]);
  });

  it('a policy field out of range is an input/invalid error naming it', () => {
    expect(() => resolveRetryPolicy({ maxAttempts: 0 })).toThrow(DeltascopeError);
    expect(() => resolveRetryPolicy({ factor: 0.5 })).toThrow(/factor must be/);
    expect(resolveRetryPolicy({ maxAttempts: undefined }).maxAttempts).toBe(5);
  });

  it('formats delays as the progress shows them', () => {
    expect([250, 1000, 1500, 2000, 12_400].map(formatDelay)).toEqual([
      '250 ms',
      '1 s',
      '1.5 s',
      '2 s',
      '12 s',
    ]);
  });
});

describe('properties', () => {
  const policyArb = fc.record({
    baseDelayMs: fc.integer({ min: 0, max: 10_000 }),
    factor: fc.double({ min: 1, max: 4, noNaN: true }),
    maxDelayMs: fc.integer({ min: 0, max: 60_000 }),
  });

  it('every delay lies in [0, min(cap, base·factor^(n-1))]', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (p, n, r) => {
          const d = backoffDelay(n, p, () => r);
          const ceiling = Math.min(p.maxDelayMs, p.baseDelayMs * p.factor ** (n - 1));
          expect(backoffCeiling(n, p)).toBe(ceiling);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(ceiling);
        },
      ),
    );
  });

  it('attempts never exceed maxAttempts; the result is the first success within them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.boolean(), { minLength: 0, maxLength: 10 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1 }),
        async (maxAttempts, outcomes, randoms) => {
          const clock = new ManualClock();
          let calls = 0;
          let i = 0;
          const op = async () => {
            const ok = outcomes[calls] ?? false;
            calls += 1;
            if (!ok) throw new HttpStatusError(503, 'Service Unavailable');
            return calls;
          };
          const p = retry(op, {
            clock,
            policy: { maxAttempts },
            retryable: httpRetryable,
            random: () => randoms[i++ % randoms.length]!,
          });
          const got = await drive(clock, p).catch((e: unknown) => e);
          const firstOk = outcomes.slice(0, maxAttempts).indexOf(true);
          expect(calls).toBeLessThanOrEqual(maxAttempts);
          if (firstOk >= 0) {
            expect(got).toBe(firstOk + 1);
            expect(calls).toBe(firstOk + 1);
          } else {
            expect(got).toBeInstanceOf(RetryExhaustedError);
            expect(calls).toBe(maxAttempts);
          }
          expect(clock.sleeps).toHaveLength(calls - 1);
          clock.sleeps.forEach((d, k) =>
            expect(d).toBeLessThanOrEqual(backoffCeiling(k + 1, resolveRetryPolicy())),
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('Retry-After', () => {
  const now = Date.UTC(2025, 0, 2, 3, 4, 5);

  it('reads delay-seconds and HTTP-dates (a past date is 0; anything else is not a Retry-After)', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter(new Date(now + 7000).toUTCString(), now)).toBe(7000);
    expect(parseRetryAfter('Thu, 02 Jan 2025 03:04:15 GMT', now)).toBe(10_000);
    expect(parseRetryAfter(new Date(now - 60_000).toUTCString(), now)).toBe(0);
    for (const bad of [null, undefined, '', '-1', '1.5', 'soon', '12abc']) {
      expect(parseRetryAfter(bad, now)).toBeUndefined();
    }
  });

  it('429 waits at least what the server asked (seconds), even with jitter drawing 0', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const op = async () => {
      if (++calls === 1)
        throw new HttpStatusError(429, 'Too Many Requests', parseRetryAfter('3', clock.now()));
      return 'ok';
    };
    expect(await drive(clock, retry(op, { clock, random: () => 0, retryable: httpRetryable }))).toBe('ok');
    expect(clock.sleeps).toEqual([3000]);
  });

  it('503 with an HTTP-date waits until that date', async () => {
    const clock = new ManualClock();
    clock.t = now;
    const date = new Date(now + 20_000).toUTCString();
    let calls = 0;
    const op = async () => {
      if (++calls === 1) throw new HttpStatusError(503, '', parseRetryAfter(date, clock.now()));
      return 'ok';
    };
    await drive(clock, retry(op, { clock, random: () => 1, retryable: httpRetryable }));
    expect(clock.sleeps).toEqual([20_000]);
  });

  it('a Retry-After longer than maxRetryAfterMs ends the retries instead of waiting', async () => {
    const clock = new ManualClock();
    const op = async () => {
      throw new HttpStatusError(429, 'Too Many Requests', 3_600_000);
    };
    const e = await drive(clock, retry(op, { clock, retryable: httpRetryable })).catch((x: unknown) => x);
    expect(e).toMatchObject({ reason: 'retry-after', attempts: 1, retryAfterMs: 3_600_000 });
    expect(clock.sleeps).toEqual([]);
  });
});

describe('the retryable filter', () => {
  it('retries 408, 429 and 5xx; never 401, 403, 404 or another 4xx', () => {
    for (const s of [408, 429, 500, 502, 503, 504, 599]) expect(isRetryableStatus(s)).toBe(true);
    for (const s of [200, 301, 400, 401, 403, 404, 410, 416, 422]) expect(isRetryableStatus(s)).toBe(false);
  });

  it.each([401, 403, 404])('%i is tried exactly once and thrown as it is', async (status) => {
    const clock = new ManualClock();
    const err = new HttpStatusError(status, 'No');
    const { op, calls } = fails(10, () => err);
    const e = await drive(clock, retry(op, { clock, retryable: httpRetryable })).catch((x: unknown) => x);
    expect(e).toBe(err);
    expect(calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('network errors and timeouts are retried; a project error (a decision made) is not', () => {
    expect(httpRetryable(new TypeError('fetch failed'))).toBe(true);
    expect(httpRetryable(new AttemptTimeoutError(1000))).toBe(true);
    expect(httpRetryable(new HttpStatusError(503, '', 2000))).toEqual({ retryAfterMs: 2000 });
    expect(httpRetryable(new DeltascopeError('model-load/access-denied', 'gated'))).toBe(false);
  });
});

describe('listeners, cancellation, timeouts', () => {
  it('an onRetry that throws (or rejects) does not break the retry', async () => {
    const clock = new ManualClock();
    const { op } = fails(2);
    let told = 0;
    const throwing = retry(op, {
      clock,
      onRetry: () => {
        told += 1;
        throw new Error('listener bug');
      },
    });
    expect(await drive(clock, throwing)).toBe('ok on 3');
    expect(told).toBe(2);
    const second = fails(1);
    const rejecting = retry(second.op, {
      clock,
      onRetry: () => Promise.reject(new Error('async bug')) as never,
    });
    expect(await drive(clock, rejecting)).toBe('ok on 2');
  });

  it('an abort during a wait stops it at once with the cancellation (the clock never moves)', async () => {
    const clock = new ManualClock();
    const ctl = new AbortController();
    const { op, calls } = fails(10);
    const p = retry(op, {
      clock,
      signal: ctl.signal,
      cancelledMessage: 'Loading cancelled.',
      policy: { baseDelayMs: 60_000 },
    });
    p.catch(() => {});
    await settle();
    expect(clock.pending).toBe(1);
    const before = clock.t;
    ctl.abort();
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    await expect(p).rejects.toThrow('Loading cancelled.');
    expect(clock.t).toBe(before);
    expect(clock.pending).toBe(0);
    expect(calls).toHaveLength(1);
  });

  it('an abort during an attempt rejects at once and aborts the attempt’s signal', async () => {
    const clock = new ManualClock();
    const ctl = new AbortController();
    let seen: AbortSignal | undefined;
    const p = retry(
      (a) => {
        seen = a.signal;
        return new Promise<never>(() => {});
      },
      { clock, signal: ctl.signal },
    );
    p.catch(() => {});
    await settle();
    ctl.abort();
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    expect(seen!.aborted).toBe(true);
  });

  it('an already-aborted signal runs no attempt', async () => {
    const ctl = new AbortController();
    ctl.abort();
    let calls = 0;
    await expect(retry(async () => ++calls, { signal: ctl.signal })).rejects.toBeInstanceOf(CancelledError);
    expect(calls).toBe(0);
  });

  it('an attempt past attemptTimeoutMs fails with AttemptTimeoutError (its signal aborted) and is retried', async () => {
    const clock = new ManualClock();
    const signals: AbortSignal[] = [];
    const p = retry(
      (a) => {
        signals.push(a.signal);
        return new Promise<never>(() => {});
      },
      { clock, random: () => 1, policy: { attemptTimeoutMs: 10_000, maxAttempts: 3 } },
    );
    const e = await drive(clock, p).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RetryExhaustedError);
    expect((e as RetryExhaustedError).cause).toBeInstanceOf(AttemptTimeoutError);
    expect(signals).toHaveLength(3);
    expect(signals.every((s) => s.aborted && s.reason instanceof AttemptTimeoutError)).toBe(true);
    // Three timeouts and two backoff waits between them.
    expect(clock.sleeps).toEqual([10_000, 500, 10_000, 1000, 10_000]);
  });

  it('an attempt that settles in time clears its timeout', async () => {
    const clock = new ManualClock();
    const out = await drive(
      clock,
      retry(async () => 'fast', { clock, policy: { attemptTimeoutMs: 10_000 } }),
    );
    expect(out).toBe('fast');
    expect(clock.pending).toBe(0);
  });
});
