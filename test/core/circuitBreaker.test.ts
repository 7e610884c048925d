// The GPU circuit breaker on an injected clock: every transition (closed → open after N consecutive
// failures or one fatal one, open → half-open after the recovery timeout, half-open → closed on
// success and → open on failure), the calls refused while open and during a half-open trial, the
// state-change events, and what counts as a GPU failure. fast-check drives random sequences against
// a model of the state machine.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeviceLostError } from '../../src/backend/errors.ts';
import {
  CircuitBreaker,
  CircuitOpenError,
  classifyGpuFailure,
  type BreakerChange,
  type BreakerState,
} from '../../src/core/circuitBreaker.ts';
import { CancelledError, DeltascopeError, errorCode, ProbeError, StateError } from '../../src/core/errors.ts';

function setup(opts: { threshold?: number; timeout?: number; initial?: 'closed' | 'half-open' } = {}) {
  const clock = { t: 1000 };
  const changes: BreakerChange[] = [];
  const breaker = new CircuitBreaker({
    failureThreshold: opts.threshold ?? 3,
    recoveryTimeoutMs: opts.timeout ?? 60_000,
    now: () => clock.t,
    onStateChange: (c) => changes.push(c),
    ...(opts.initial !== undefined ? { initialState: opts.initial } : {}),
  });
  return { clock, changes, breaker };
}

const oom = new Error('WebGPU: GPUOutOfMemoryError while creating a buffer');
const lost = new DeviceLostError('The WebGPU device was lost (destroyed).');
const ok = () => Promise.resolve('ok');
const fail = (e: unknown) => () => Promise.reject(e);

describe('CircuitBreaker transitions', () => {
  it('stays closed below the threshold and resets the count on success', async () => {
    const { breaker, changes } = setup();
    await expect(breaker.call(fail(oom))).rejects.toBe(oom);
    await expect(breaker.call(fail(oom))).rejects.toBe(oom);
    expect(breaker.state).toBe('closed');
    expect(breaker.failures).toBe(2);
    await expect(breaker.call(ok)).resolves.toBe('ok');
    expect(breaker.failures).toBe(0);
    await expect(breaker.call(fail(oom))).rejects.toBe(oom);
    await expect(breaker.call(fail(oom))).rejects.toBe(oom);
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual([]);
  });

  it('opens after N consecutive failures and reports the change with its retry time', async () => {
    const { breaker, changes, clock } = setup({ threshold: 3, timeout: 5000 });
    for (let i = 0; i < 3; i++) await expect(breaker.call(fail(oom))).rejects.toBe(oom);
    expect(breaker.state).toBe('open');
    expect(breaker.retryAt).toBe(clock.t + 5000);
    expect(changes).toEqual([
      { from: 'closed', to: 'open', at: 1000, reason: 'out-of-memory', failures: 3, retryAt: 6000 },
    ]);
  });

  it('opens at once on a fatal failure (a lost device), whatever the threshold', async () => {
    const { breaker, changes } = setup({ threshold: 5 });
    await expect(breaker.call(fail(lost))).rejects.toBe(lost);
    expect(breaker.state).toBe('open');
    expect(changes.map((c) => [c.from, c.to, c.reason])).toEqual([['closed', 'open', 'device-lost']]);
  });

  it('refuses calls while open with a typed error, without running them or counting them', async () => {
    const { breaker, clock } = setup({ threshold: 1, timeout: 10_000 });
    await expect(breaker.call(fail(oom))).rejects.toBe(oom);
    let ran = 0;
    clock.t += 4000;
    const refused = await breaker.call(async () => ++ran).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect(errorCode(refused)).toBe('state/not-ready');
    expect((refused as Error).message).toMatch(/tried again in 6 s/);
    expect(ran).toBe(0);
    expect(breaker.failures).toBe(1);
    expect(breaker.allowsCalls).toBe(false);
  });

  it('turns half-open once the recovery timeout has passed (not a millisecond before)', async () => {
    const { breaker, clock, changes } = setup({ threshold: 1, timeout: 10_000 });
    await expect(breaker.call(fail(lost))).rejects.toBe(lost);
    clock.t += 9_999;
    expect(breaker.state).toBe('open');
    clock.t += 1;
    expect(breaker.state).toBe('half-open');
    expect(breaker.retryAt).toBeNull();
    expect(changes.at(-1)).toEqual({
      from: 'open',
      to: 'half-open',
      at: 11_000,
      reason: 'recovery timeout',
      failures: 1,
      retryAt: null,
    });
  });

  it('half-open: a successful trial closes the breaker', async () => {
    const { breaker, clock, changes } = setup({ threshold: 2, timeout: 100 });
    await expect(breaker.call(fail(lost))).rejects.toBe(lost);
    clock.t += 100;
    await expect(breaker.call(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(breaker.failures).toBe(0);
    expect(changes.map((c) => c.to)).toEqual(['open', 'half-open', 'closed']);
    expect(changes.at(-1)!.reason).toBe('success');
  });

  it('half-open: a failed trial opens it again for a fresh timeout (one failure is enough)', async () => {
    const { breaker, clock, changes } = setup({ threshold: 3, timeout: 100 });
    for (let i = 0; i < 3; i++) await expect(breaker.call(fail(oom))).rejects.toBe(oom);
    clock.t += 150;
    const pipeline = new Error('WebGPU validation error: invalid compute pipeline');
    await expect(breaker.call(fail(pipeline))).rejects.toBe(pipeline);
    expect(breaker.state).toBe('open');
    expect(breaker.retryAt).toBe(clock.t + 100);
    expect(changes.map((c) => [c.from, c.to, c.reason])).toEqual([
      ['closed', 'open', 'out-of-memory'],
      ['open', 'half-open', 'recovery timeout'],
      ['half-open', 'open', 'pipeline'],
    ]);
  });

  it('half-open lets one trial through at a time; the others are refused', async () => {
    const { breaker, clock } = setup({ threshold: 1, timeout: 0 });
    await expect(breaker.call(fail(lost))).rejects.toBe(lost);
    clock.t += 1;
    let release!: () => void;
    const trial = breaker.call(() => new Promise<string>((r) => (release = () => r('trial'))));
    await expect(breaker.call(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    release();
    await expect(trial).resolves.toBe('trial');
    expect(breaker.state).toBe('closed');
    await expect(breaker.call(ok)).resolves.toBe('ok');
  });

  it('starts half-open when asked (a fresh engine trying the GPU again)', async () => {
    const { breaker, changes } = setup({ initial: 'half-open' });
    expect(breaker.state).toBe('half-open');
    await breaker.call(ok);
    expect(changes.map((c) => [c.from, c.to])).toEqual([['half-open', 'closed']]);
  });

  it('lets errors that are not GPU failures through without counting them', async () => {
    const { breaker } = setup({ threshold: 1 });
    const cancel = new CancelledError('cancelled by user');
    await expect(breaker.call(fail(cancel))).rejects.toBe(cancel);
    await expect(breaker.call(fail(new Error('a bug')))).rejects.toThrow('a bug');
    expect(breaker.state).toBe('closed');
    expect(breaker.failures).toBe(0);
  });

  it('a listener that throws changes nothing', async () => {
    const breaker = new CircuitBreaker({
      failureThreshold: 1,
      now: () => 0,
      onStateChange: () => {
        throw new Error('listener broke');
      },
    });
    await expect(breaker.call(fail(lost))).rejects.toBe(lost);
    expect(breaker.state).toBe('open');
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0, now: () => 0 })).toThrow(RangeError);
    expect(() => new CircuitBreaker({ recoveryTimeoutMs: -1, now: () => 0 })).toThrow(RangeError);
  });
});

describe('classifyGpuFailure', () => {
  it('counts a lost device (by code or by the runtime message) as fatal', () => {
    expect(classifyGpuFailure(lost)).toMatchObject({ kind: 'device-lost', fatal: true });
    expect(classifyGpuFailure(new Error('Device was destroyed.'))).toMatchObject({ kind: 'device-lost' });
    expect(classifyGpuFailure(new Error("Failed to execute 'mapAsync': Device is lost"))).toMatchObject({
      kind: 'device-lost',
      fatal: true,
    });
  });

  it('counts out-of-memory and pipeline / shader failures as non-fatal', () => {
    expect(classifyGpuFailure(oom)).toMatchObject({ kind: 'out-of-memory', fatal: false });
    expect(classifyGpuFailure(new Error('failed to allocate 268435456 bytes'))).toMatchObject({
      kind: 'out-of-memory',
    });
    expect(classifyGpuFailure(new Error('WGSL shader compilation failed: …'))).toMatchObject({
      kind: 'pipeline',
      fatal: false,
    });
    expect(
      classifyGpuFailure(new DeltascopeError('model-load/failed', 'webgpu: pipeline creation failed')),
    ).toMatchObject({ kind: 'pipeline' });
  });

  it('never counts what the project classifies otherwise, whatever the message says', () => {
    expect(classifyGpuFailure(new CancelledError('cancelled while the webgpu pipeline ran'))).toBeNull();
    expect(classifyGpuFailure(new StateError('no pair loaded'))).toBeNull();
    expect(classifyGpuFailure(new ProbeError('shader-like words in a probe error'))).toBeNull();
    expect(
      classifyGpuFailure(new DeltascopeError('model-load/missing-file', 'webgpu/config.json')),
    ).toBeNull();
    expect(classifyGpuFailure(new Error('Cannot read properties of undefined'))).toBeNull();
    expect(classifyGpuFailure('a string')).toBeNull();
  });
});

type Step =
  { kind: 'ok' } | { kind: 'fail'; fatal: boolean } | { kind: 'other' } | { kind: 'wait'; ms: number };

describe('CircuitBreaker invariants (fast-check)', () => {
  it('matches a model of the state machine on any sequence of outcomes and waits', async () => {
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.constant({ kind: 'ok' } as const),
      fc.boolean().map((fatal) => ({ kind: 'fail', fatal }) as const),
      fc.constant({ kind: 'other' } as const),
      fc.integer({ min: 0, max: 2000 }).map((ms) => ({ kind: 'wait', ms }) as const),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 1500 }),
        fc.array(step, { maxLength: 60 }),
        async (threshold, timeout, steps) => {
          const { breaker, clock, changes } = setup({ threshold, timeout });
          // The model: state, consecutive failures, when open ends.
          let state: BreakerState = 'closed';
          let count = 0;
          let until = 0;
          const model = () => {
            if (state === 'open' && clock.t >= until) state = 'half-open';
            return state;
          };
          for (const s of steps) {
            if (s.kind === 'wait') {
              clock.t += s.ms;
              continue;
            }
            const before = model();
            const run =
              s.kind === 'ok'
                ? ok
                : s.kind === 'other'
                  ? fail(new Error('not a gpu problem'))
                  : fail(s.fatal ? lost : oom);
            const out = await breaker.call(run).then(
              () => 'resolved',
              (e: unknown) => (e instanceof CircuitOpenError ? 'refused' : 'rejected'),
            );
            // Refused exactly while open; nothing else is refused.
            expect(out === 'refused').toBe(before === 'open');
            if (before === 'open') continue;
            if (s.kind === 'ok') {
              count = 0;
              state = 'closed';
            } else if (s.kind === 'fail') {
              count += 1;
              if (before === 'half-open' || s.fatal || count >= threshold) {
                state = 'open';
                until = clock.t + timeout;
              }
            }
            expect(breaker.state).toBe(model());
            expect(breaker.failures).toBe(count);
            // Closed never holds as many consecutive failures as the threshold.
            if (breaker.state === 'closed') expect(breaker.failures).toBeLessThan(threshold);
          }
          const final = breaker.state;
          // The reported changes chain (each starts where the last ended), never repeat a state,
          // and only take the machine's edges.
          let at: BreakerState = 'closed';
          const edges = new Set(['closed>open', 'open>half-open', 'half-open>closed', 'half-open>open']);
          for (const c of changes) {
            expect(c.from).toBe(at);
            expect(edges.has(`${c.from}>${c.to}`)).toBe(true);
            at = c.to;
          }
          expect(at).toBe(final);
        },
      ),
      { numRuns: 300 },
    );
  });
});
