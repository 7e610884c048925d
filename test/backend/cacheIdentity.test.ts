// One instrumentation serves the pairs a session opens one after another: its cache answers only
// for the pair, dtype and device that filled it.
import { describe, expect, it } from 'vitest';
import { FakeRunner, type BackendInfo } from '../../src/backend/index.ts';
import { PairBackend } from '../../src/backend/pairBackend.ts';
import { BackendInstrumentation } from '../../src/core/index.ts';

const info = (over: Partial<BackendInfo>): BackendInfo => ({
  pairId: 'dir:/models/base|dir:/models/ft',
  baseModel: 'base',
  ftModel: 'ft',
  device: 'cpu',
  deviceDetail: 'test',
  dtype: 'fp32',
  vocabSize: 64,
  maxBatchSize: 4,
  ...over,
});

/** The ft view's top-5 logprobs for one prompt, on a pair whose ft logits are shifted by `shift`. */
async function ftTop(inst: BackendInstrumentation, shift: number, over: Partial<BackendInfo>) {
  const pair = new PairBackend(new FakeRunner(0, 0), new FakeRunner(1, shift), info(over), {
    instrumentation: inst,
  });
  const [d] = await pair.ft.nextTokenDistBatch(['the same prompt'], { topK: 5 });
  return Array.from(d!.logprobs);
}

describe('the forward cache across pairs opened in turn', () => {
  it('answers a reopened identical pair from the cache', async () => {
    const inst = new BackendInstrumentation();
    const first = await ftTop(inst, 1, {});
    // A different runner behind the same identity: only a cache hit gives the first numbers back.
    expect(await ftTop(inst, 3, {})).toEqual(first);
    expect(inst.stats.toDict().cache_hits).toBe(1);
  });

  it.each([
    ['another dtype', { dtype: 'q4' }],
    ['another device', { device: 'webgpu' as const }],
    ['another pair', { pairId: 'dir:/models/base|dir:/models/other' }],
  ])('recomputes for the same prompt on %s', async (_what, over) => {
    const inst = new BackendInstrumentation();
    const first = await ftTop(inst, 1, {});
    const second = await ftTop(inst, 3, over);
    expect(second).not.toEqual(first);
    expect(inst.stats.toDict().cache_hits).toBe(0);
  });
});
