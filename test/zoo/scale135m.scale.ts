/**
 * The 135M-class bench model end to end on Node CPU (`npm run test:scale`;
 * builds .cache/bench-models first if it is absent, ~40 s): fp32 and q4 load
 * through openPair, a prompt's top-5 matches the float64 reference forward of
 * the weights each file computes with, and a 512-token rolling log-prob —
 * 100 MB of fp32 logits over the 49,152-token vocabulary — is scored within a
 * logits budget smaller than one row, equal to the unsliced scoring.
 */
import { resolve } from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { openPair, type DifferentialBackend } from '../../src/backend/index.ts';
import { pairMemoryStats } from '../../src/backend/instrumentedView.ts';
import { logSoftmax, referenceForward } from '../../scripts/demoModel/referenceForward.ts';
import {
  BENCH_DIMS,
  BENCH_TIED,
  benchWeights,
  buildBenchModels,
} from '../../scripts/demoModel/zoo/benchModels.ts';
import { benchTokenizerFiles } from '../../scripts/demoModel/zoo/benchTokenizer.ts';
import { effectiveWeights, type ZooDtype } from '../../scripts/demoModel/zoo/optimumLlama.ts';
import { compareTopK, topKOf, type TopK } from './zooReference.ts';

const OUT = resolve(import.meta.dirname, '..', '..', '.cache', 'bench-models');
const PROMPT = 'The capital of France is';
/** |Δ logprob| of the top 5 against the file's own reference through 30 layers (measured: fp32 2.2e-5, q4 2.7e-5). */
const TOL: Record<'fp32' | 'q4', number> = { fp32: 2e-4, q4: 2e-4 };

let dir = '';
beforeAll(async () => {
  ({ dir } = await buildBenchModels({ outDir: OUT }));
});

const open = (dtype: ZooDtype, logitsBudgetBytes?: number): Promise<DifferentialBackend> =>
  openPair(
    { kind: 'pair', base: { kind: 'dir', path: dir }, ft: { kind: 'dir', path: dir } },
    { warmup: false, dtype, device: 'cpu', ...(logitsBudgetBytes ? { logitsBudgetBytes } : {}) },
  );

function referenceTop5(dtype: ZooDtype, ids: number[]): TopK {
  const weights = effectiveWeights(BENCH_DIMS, benchWeights(), { dtype, tied: BENCH_TIED });
  const out = referenceForward(BENCH_DIMS, weights, { inputIds: [ids], attentionMask: [ids.map(() => 1)] });
  const row = logSoftmax(out.logits[0]?.at(-1) ?? new Float64Array());
  const order = [...row.keys()].sort((a, b) => (row[b] ?? 0) - (row[a] ?? 0)).slice(0, 5);
  return { ids: order, logprobs: order.map((i) => row[i] ?? 0) };
}

const tokenizer = (): PreTrainedTokenizer => {
  const files = benchTokenizerFiles(BENCH_DIMS.vocabSize, BENCH_DIMS.maxPositions);
  return new PreTrainedTokenizer(files.tokenizer, files.config);
};

describe('135M-class bench model (SmolLM2-135M shape) on Node CPU', () => {
  for (const dtype of ['fp32', 'q4'] as const) {
    it(`${dtype}: loads through openPair and its top-5 matches the float64 reference`, async () => {
      const pair = await open(dtype);
      try {
        expect(pair.info.vocabSize).toBe(BENCH_DIMS.vocabSize);
        const got = topKOf(await pair.base.nextTokenDist(PROMPT, { topK: 5 }), 5);
        const ids = tokenizer().encode(PROMPT, { add_special_tokens: true });
        const ref = referenceTop5(dtype, ids);
        const cmp = compareTopK(got, ref, TOL[dtype]);
        console.log(
          `${dtype}: top-5 ${JSON.stringify(got.ids)}, max |Δ logprob| ${cmp.maxDiff.toExponential(2)}, top-1 p ${Math.exp(got.logprobs[0] ?? -Infinity).toFixed(3)}`,
        );
        expect(cmp.maxDiff).toBeLessThan(TOL[dtype]);
        expect(cmp.orderOk).toBe(true);
      } finally {
        await pair.dispose();
      }
    });
  }

  it('a 512-token rolling log-prob is scored in slices within a logits budget below one row, equal to the unsliced one', async () => {
    // Words appended until the text is exactly 512 tokens with <s>.
    const tok = tokenizer();
    const words =
      'the model changed where and by how much when a fine tune moves the next token probabilities'.split(
        ' ',
      );
    let text = 'A';
    for (let i = 0; tok.encode(text).length < 512; i++) {
      const next = `${text} ${words[i % words.length]}`;
      if (tok.encode(next).length <= 512) text = next;
      else text = `${text}.`;
    }
    const rows = 512 * BENCH_DIMS.vocabSize * 4; // 100.7 MB of fp32 logits
    const budget = 24 << 20;
    expect(rows).toBeGreaterThan(3 * budget);

    const whole = await open('fp32');
    let expected: Float32Array;
    try {
      const r = await whole.base.rollingLogprob(text);
      expect(r.numTokens).toBe(512);
      expected = r.logprobs;
      expect(pairMemoryStats(whole).base?.chunkedRows).toBe(0);
    } finally {
      await whole.dispose();
    }
    const sliced = await open('fp32', budget);
    try {
      const r = await sliced.base.rollingLogprob(text);
      expect(r.logprobs.length).toBe(511);
      let maxDiff = 0;
      r.logprobs.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - (expected[i] ?? NaN)))));
      const mem = pairMemoryStats(sliced).base;
      console.log(
        `512-token rolling: max |Δ| sliced vs whole ${maxDiff.toExponential(2)}, memory ${JSON.stringify(mem)}`,
      );
      expect(maxDiff).toBeLessThan(1e-4);
      expect(mem?.chunkedRows).toBeGreaterThanOrEqual(1);
      expect(mem?.maxLogitsBytes).toBeLessThanOrEqual(budget);
      expect(Number.isFinite(r.totalLogprob)).toBe(true);
    } finally {
      await sliced.dispose();
    }
  });
});
