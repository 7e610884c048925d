// The GPU circuit breaker in the worker's session, on the fake pair: a "WebGPU" pair whose device is
// lost (or runs out of memory) after a given number of forward passes. A suite or a batch in flight
// goes on on the WASM pair the session loads by itself: every probe result arrives once and equals
// a clean WASM run's, every scoring lookup is traced exactly once, each breaker change is one trace
// event and one status; the half-open trial is offered once no work runs, and a fresh worker's
// trial load closes the breaker (or falls back again).
import { describe, expect, it } from 'vitest';
import { DeviceLostError, type DifferentialBackend, type ModelSource } from '../../src/backend/index.ts';
import { FakeRunner } from '../../src/backend/fakeRunner.ts';
import type { LogitsRunner } from '../../src/backend/logitsRunner.ts';
import { PairBackend } from '../../src/backend/pairBackend.ts';
import { MemoryTraceSink, type TraceEvent } from '../../src/core/index.ts';
import type { OpenOptions } from '../../src/backend/openPair.ts';
import type { PairOpener } from '../../src/worker/pairHost.ts';
import type { BreakerStatus, LoadRequest, SuiteEvent } from '../../src/worker/workbenchApi.ts';
import { WorkbenchSession } from '../../src/worker/workbenchSession.ts';
import { APP, fakeSuiteSpec } from './sessionFixtures.ts';

const SPEC = fakeSuiteSpec(
  32,
  `  - name: shift
    kind: delta_kl
    prompts: ${JSON.stringify(Array.from({ length: 14 }, (_, i) => `delta prompt ${i} about the harbour`))}
  - name: clusters
    kind: cluster_kl
    num_clusters: 2
    min_prompts: 10
    prompts: ${JSON.stringify(Array.from({ length: 12 }, (_, i) => `cluster prompt ${i} ${i % 2 ? 'lanterns' : 'bread'}`))}
  - name: prefs
    kind: preference_flip
    triples:
      - { prompt: 'The lantern has a', chosen: ' blue flame', rejected: ' red flame' }
      - { prompt: 'The bell is rung', chosen: ' nine times', rejected: ' three times' }
  - name: drift
    kind: calibration_drift
    items_limit: 12
  - name: outside
    kind: external_perplexity
    chunk_chars: 256
    max_chunks: 3
`,
);

/** How the injected failure behaves. */
interface Fault {
  /** Forward passes (both views together) that succeed before the failure. */
  after: number;
  kind: 'lost' | 'oom';
  /** For 'oom': how many forwards fail before the GPU works again (Infinity: never). */
  failures?: number;
}

/** A runner on "WebGPU" that fails as `fault` says; counts shared by both views of a pair. */
class FaultyRunner implements LogitsRunner {
  constructor(
    private readonly inner: FakeRunner,
    private readonly state: { forwards: number; failed: number; lost: boolean },
    private readonly fault: Fault,
    private readonly onLost: (message: string) => void,
  ) {}
  get vocabSize() {
    return this.inner.vocabSize;
  }
  get eosTokenIds() {
    return this.inner.eosTokenIds;
  }
  get stuffingToken() {
    return this.inner.stuffingToken;
  }
  encode(text: string, special: boolean) {
    return this.inner.encode(text, special);
  }
  decode(ids: readonly number[], skip: boolean) {
    return this.inner.decode(ids, skip);
  }
  tokenStrings(ids: readonly number[]) {
    return this.inner.tokenStrings(ids);
  }
  private check(): void {
    const s = this.state;
    if (s.lost) throw new DeviceLostError('The WebGPU device was lost (destroyed).');
    if (s.forwards < this.fault.after) {
      s.forwards++;
      return;
    }
    if (this.fault.kind === 'lost') {
      s.lost = true;
      // The device-loss watch fires on its own, a moment after the failing op.
      queueMicrotask(() => this.onLost('The WebGPU device was lost (destroyed).'));
      throw new DeviceLostError('The WebGPU device was lost (destroyed).');
    }
    if (s.failed < (this.fault.failures ?? Infinity)) {
      s.failed++;
      throw new Error('WebGPU: GPUOutOfMemoryError: failed to allocate a buffer');
    }
    s.forwards++;
  }
  async forward(rows: readonly (readonly number[])[], want: 'last' | 'all') {
    // Asynchronous like a real run, so both views' calls are in flight together.
    await Promise.resolve();
    this.check();
    return this.inner.forward(rows, want);
  }
  async generateGreedy(ids: readonly number[], n: number) {
    this.check();
    return this.inner.generateGreedy(ids, n);
  }
  async dispose() {}
}

/**
 * An opener like `openPair` on the fake source, whose pair says it runs on `webgpu` (with the
 * fault) or on `wasm` (clean); the same numbers on both, as the fake computes them.
 */
function opener(fault: Fault | null, log: string[] = [], counts: { forwards: number }[] = []): PairOpener {
  return async (_source: ModelSource, opts: OpenOptions): Promise<DifferentialBackend> => {
    const device = opts.device === 'wasm' || fault === null ? 'wasm' : 'webgpu';
    log.push(device);
    const info = {
      pairId: 'fake:breaker',
      baseModel: 'fake-base',
      ftModel: 'fake-ft',
      device,
      deviceDetail: device === 'webgpu' ? 'fake GPU' : 'WebAssembly (CPU)',
      dtype: 'fp32',
      vocabSize: 64,
      maxBatchSize: opts.maxBatchSize ?? 4,
    } as const;
    const base = new FakeRunner(0, 0);
    const ft = new FakeRunner(1, 1);
    const state = { forwards: 0, failed: 0, lost: false };
    if (device === 'webgpu') counts.push(state);
    const wrap = (r: FakeRunner) =>
      device === 'webgpu' ? new FaultyRunner(r, state, fault!, (m) => opts.onDeviceLost?.(m)) : r;
    return new PairBackend(wrap(base), wrap(ft), info, {
      ...(opts.instrumentation !== undefined ? { instrumentation: opts.instrumentation } : {}),
    });
  };
}

const REQ: LoadRequest = {
  source: { kind: 'fake' },
  device: 'auto',
  dtype: 'fp32',
  maxBatchSize: 4,
  breaker: { recoveryTimeoutMs: 60_000 },
};

async function session(fault: Fault | null, req: LoadRequest = REQ, log: string[] = []) {
  const s = new WorkbenchSession(opener(fault, log), APP);
  const trace = new MemoryTraceSink();
  s.addSink(trace);
  const statuses: BreakerStatus[] = [];
  await s.watchBreaker((st) => statuses.push(st));
  await s.load(req, () => {});
  return { s, trace, statuses };
}

const SCORING = new Set(['next_token_dist', 'logprob_of', 'rolling_logprob']);
/** A lookup's identity in the trace: probe, view, op, prompt, top-k. */
const key = (e: TraceEvent) => [e.probe, e.view_id, e.op, e.prompt_hash, e.top_k].join('|');
const lookups = (events: readonly TraceEvent[]) =>
  events
    .filter((e) => SCORING.has(e.op))
    .map(key)
    .sort();

async function runSuite(s: WorkbenchSession) {
  const events: SuiteEvent[] = [];
  const result = await s.runSuite(SPEC, (e) => events.push(e));
  const indices = events.filter((e) => e.type === 'result').map((e) => (e as { index: number }).index);
  return { result, indices };
}

/** The numbers of a result, without timings. */
const numbers = (r: Awaited<ReturnType<WorkbenchSession['runSuite']>>) =>
  r.probes.map((p) => ({ ...p, durationS: 0 }));

describe('the GPU circuit breaker in the session', () => {
  it('a suite whose GPU is lost mid-run finishes on WASM: every result once, every lookup traced once', async () => {
    const clean = await session(null);
    const reference = await runSuite(clean.s);
    const refLookups = lookups(clean.trace.events);
    // How many runner forwards the suite makes on a GPU that never fails.
    const counts: { forwards: number }[] = [];
    const whole = new WorkbenchSession(opener({ after: 1e9, kind: 'lost' }, [], counts), APP);
    await whole.load(REQ, () => {});
    await runSuite(whole);
    const total = counts[0]!.forwards;
    expect(total).toBeGreaterThan(20);
    expect(reference.result.probes.every((p) => p.verdict !== 'error')).toBe(true);
    expect(refLookups.length).toBeGreaterThan(60);

    // The device is lost after a spread of points in the suite (early, in the middle of batched
    // probes, late), each time in a fresh session.
    for (const after of [3, 9, Math.floor(total / 3), Math.floor(total / 2) + 1, total - 5]) {
      const log: string[] = [];
      const { s, trace, statuses } = await session({ after, kind: 'lost' }, REQ, log);
      const { result, indices } = await runSuite(s);
      // Every probe result once, in order, equal to the clean run's.
      expect(indices, `lost after ${after}`).toEqual(reference.indices);
      expect(numbers(result)).toEqual(numbers(reference.result));
      expect(result.determinism.notes.at(-1)).toMatch(/moved the pair from webgpu to wasm/);
      // Every lookup exactly once: the same multiset of lookups as the clean run.
      expect(lookups(trace.events), `lost after ${after}`).toEqual(refLookups);
      // The pair was opened on WebGPU, then once on WASM; the breaker opened once.
      expect(log).toEqual(['webgpu', 'wasm']);
      const breakerEvents = trace.events.filter((e) => e.op === 'breaker');
      expect(breakerEvents).toHaveLength(1);
      expect(breakerEvents[0]).toMatchObject({ state: 'open', from: 'closed', reason: 'device-lost' });
      expect(statuses.at(-1)).toMatchObject({
        state: 'open',
        device: 'wasm',
        fallingBack: false,
        failure: 'device lost',
      });
      expect((await s.info())?.device).toBe('wasm');
    }
  });

  it('a batch in flight resumes on WASM where it stopped: every prompt once per view', async () => {
    const prompts = Array.from({ length: 30 }, (_, i) => `batch prompt ${i}`);
    const { s, trace } = await session({ after: 5, kind: 'lost' });
    const progress: number[] = [];
    const r = await s.runBatch(prompts, 8, (p) => progress.push(p.done));
    expect(r).toMatchObject({ prompts: 30, cancelled: false });
    expect(progress.at(-1)).toBe(30);
    const seen = trace.events
      .filter((e) => e.op === 'next_token_dist')
      .map((e) => `${e.view_id}|${e.prompt_hash}`);
    expect(seen).toHaveLength(60);
    expect(new Set(seen).size).toBe(60);
  });

  it('counts non-fatal failures: retries on the GPU below the threshold, falls back at it', async () => {
    const prompts = Array.from({ length: 12 }, (_, i) => `oom prompt ${i}`);
    // Two failures, then the GPU works: the breaker (threshold 3) stays closed.
    const few = await session(
      { after: 4, kind: 'oom', failures: 2 },
      { ...REQ, breaker: { failureThreshold: 3 } },
    );
    await few.s.runBatch(prompts, 8);
    expect((await few.s.info())?.device).toBe('webgpu');
    expect(few.trace.events.filter((e) => e.op === 'breaker')).toHaveLength(0);
    expect(few.trace.events.filter((e) => e.op === 'next_token_dist')).toHaveLength(24);
    // Failing for good: three in a row open it, and the batch finishes on WASM.
    const log: string[] = [];
    const many = await session({ after: 4, kind: 'oom' }, { ...REQ, breaker: { failureThreshold: 3 } }, log);
    const r = await many.s.runBatch(prompts, 8);
    expect(r.prompts).toBe(12);
    expect(log).toEqual(['webgpu', 'wasm']);
    expect(many.trace.events.filter((e) => e.op === 'breaker')).toMatchObject([
      { state: 'open', reason: 'out-of-memory', failures: 3 },
    ]);
    const seen = many.trace.events
      .filter((e) => e.op === 'next_token_dist')
      .map((e) => `${e.view_id}|${e.prompt_hash}`);
    expect(seen.sort()).toEqual([...new Set(seen)].sort());
    expect(seen).toHaveLength(24);
  });

  it('offers the half-open trial after the recovery timeout, once no batch or suite runs', async () => {
    const { s, statuses, trace } = await session(
      { after: 2, kind: 'lost' },
      { ...REQ, breaker: { recoveryTimeoutMs: 20 } },
    );
    const trial = new Promise<BreakerStatus>((resolve) => {
      void s.watchBreaker((st) => {
        if (st.trial) resolve(st);
      });
    });
    const batch = s.runBatch(
      Array.from({ length: 40 }, (_, i) => `p${i}`),
      8,
    );
    const done = await batch;
    expect(done.prompts).toBe(40);
    const offered = await trial;
    expect(offered).toMatchObject({ state: 'half-open', trial: true, device: 'wasm' });
    // The trial came after the batch: no status with trial set precedes the batch's end.
    expect(statuses.filter((st) => st.trial)).toHaveLength(1);
    expect(
      trace.events.filter((e) => e.op === 'breaker').map((e) => (e as { state?: string }).state),
    ).toEqual(['open', 'half-open']);
  });

  it("a fresh worker's trial load on WebGPU closes the breaker; a failed trial falls back again", async () => {
    const ok = await session({ after: 1_000_000, kind: 'lost' }, { ...REQ, breaker: { trial: true } });
    expect((await ok.s.info())?.device).toBe('webgpu');
    expect(ok.statuses.at(-1)).toMatchObject({
      state: 'closed',
      from: 'half-open',
      reason: 'success',
      device: 'webgpu',
    });
    expect(ok.trace.events.filter((e) => e.op === 'breaker')).toMatchObject([
      { state: 'closed', from: 'half-open' },
    ]);

    // The trial's pair loads but is lost at its first op: open again, on WASM, and the op answers.
    const log: string[] = [];
    const bad = await session({ after: 0, kind: 'lost' }, { ...REQ, breaker: { trial: true } }, log);
    const r = await bad.s.compare('The lantern has a', 5);
    expect(r.base).toHaveLength(5);
    expect(log).toEqual(['webgpu', 'wasm']);
    expect(bad.statuses.at(-1)).toMatchObject({ state: 'open', device: 'wasm' });
  });

  it('with the breaker off, a lost device stops the work as before (Restart is the way out)', async () => {
    const { s } = await session({ after: 3, kind: 'lost' }, { ...REQ, breaker: { enabled: false } });
    await expect(
      s.runBatch(
        Array.from({ length: 30 }, (_, i) => `p${i}`),
        8,
      ),
    ).rejects.toMatchObject({ code: 'device/lost' });
    await expect(s.compare('x', 5)).rejects.toMatchObject({ code: 'device/lost' });
  });
});
