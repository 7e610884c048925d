// The shared view logic on the deterministic fake runner: batching, caching, view isolation.
import { describe, expect, it } from 'vitest';
import { MemoryTraceSink } from '../../src/core/index.ts';
import { FakeRunner, InstrumentedView, openPair } from '../../src/backend/index.ts';
import { BackendInstrumentation } from '../../src/core/index.ts';

describe('FakeBackend', () => {
  it('is deterministic and its views differ', async () => {
    const a = await openPair({ kind: 'fake' });
    const b = await openPair({ kind: 'fake' });
    const da = await a.base.nextTokenDist('hello', { topK: 5 });
    const db = await b.base.nextTokenDist('hello', { topK: 5 });
    expect(Array.from(da.logprobs)).toEqual(Array.from(db.logprobs));
    const ft = await a.ft.nextTokenDist('hello', { topK: 5 });
    expect(Array.from(ft.logprobs)).not.toEqual(Array.from(da.logprobs));
    const same = await openPair({ kind: 'fake', ftShift: 0 });
    expect(Array.from((await same.ft.nextTokenDist('hello', { topK: 5 })).logprobs)).toEqual(
      Array.from((await same.base.nextTokenDist('hello', { topK: 5 })).logprobs),
    );
  });

  it('splits misses into physical batches of at most maxBatchSize rows', async () => {
    const runner = new FakeRunner(0);
    const inst = new BackendInstrumentation();
    const view = new InstrumentedView('base', runner, inst, 4);
    const prompts = Array.from({ length: 10 }, (_, i) => `prompt ${i}`);
    await view.nextTokenDistBatch(prompts, { topK: 3 });
    expect(runner.forwardCalls).toBe(3);
    expect(runner.rowsSeen).toBe(10);
    expect(inst.stats.toDict()).toMatchObject({ batches_sent: 3, max_batch_size: 4, cache_misses: 10 });
    await view.nextTokenDistBatch(prompts, { topK: 3 });
    expect(runner.forwardCalls).toBe(3);
    expect(inst.stats.cacheHits).toBe(10);
  });

  it('labels trace events with the view id and op, with top_k 0 for logprob ops', async () => {
    const trace = new MemoryTraceSink();
    const fake = await openPair({ kind: 'fake' }, { trace });
    await fake.base.nextTokenDist('x', { topK: 7 });
    await fake.ft.logprobOf('x', 'y');
    await fake.ft.rollingLogprob('xyz');
    expect(trace.events.map((e) => [e.view_id, e.op, e.top_k])).toEqual([
      ['base', 'next_token_dist', 7],
      ['ft', 'logprob_of', 0],
      ['ft', 'rolling_logprob', 0],
    ]);
  });

  it('logprobOf equals the sum of rolling logprobs over the completion positions', async () => {
    const fake = await openPair({ kind: 'fake' });
    const lp = await fake.base.logprobOf('ab', 'cd');
    const r = await fake.base.rollingLogprob('abcd');
    // [BOS a b c d]: the completion is the last two tokens.
    expect(lp).toBeCloseTo(r.logprobs[2]! + r.logprobs[3]!, 5);
  });

  it('rejects a non-positive topK and an empty completion with a clear message', async () => {
    const fake = await openPair({ kind: 'fake' });
    await expect(fake.base.nextTokenDist('x', { topK: 0 })).rejects.toThrow(
      /topK must be a positive integer/,
    );
    await expect(fake.base.logprobOf('x', '')).rejects.toThrow(/adds no tokens/);
  });

  it('greedy generation stops at EOS and is repeatable', async () => {
    const fake = await openPair({ kind: 'fake' });
    const a = await fake.ft.generate('seed', { maxNewTokens: 20 });
    expect(await fake.ft.generate('seed', { maxNewTokens: 20 })).toBe(a);
    expect(await fake.ft.generate('seed', { maxNewTokens: 0 })).toBe('');
  });
});
