// Long rows run in chunks of positions through the KV cache, and the logits readout's memory: the
// real demo ONNX model (Node, CPU) under a logits budget of a few positions, against unsliced runs.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AutoModelForCausalLM,
  AutoTokenizer,
  env,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import { TransformersRunner } from '../../src/backend/transformersRunner.ts';
import { InstrumentedView, pairMemoryStats } from '../../src/backend/instrumentedView.ts';
import type { LogitsRunner } from '../../src/backend/logitsRunner.ts';
import { BackendInstrumentation, MemoryTraceSink } from '../../src/core/index.ts';
import { ensureZoo, zooDir } from '../zoo/zooReference.ts';
import { openPair } from '../../src/backend/index.ts';
import { expectClose } from './divergenceHelpers.ts';

let model: PreTrainedModel;
let tokenizer: PreTrainedTokenizer;
let whole: TransformersRunner;
let vocab: number;
/** Room for the logits of exactly three positions. */
let budget3: number;

beforeAll(async () => {
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = 'public/models/';
  tokenizer = await AutoTokenizer.from_pretrained('deltascope-demo/base');
  model = await AutoModelForCausalLM.from_pretrained('deltascope-demo/base', {
    device: 'cpu',
    dtype: 'fp32',
  } as Parameters<typeof AutoModelForCausalLM.from_pretrained>[1]);
  whole = new TransformersRunner(model, tokenizer);
  vocab = whole.vocabSize;
  budget3 = 3 * vocab * 4;
}, 120_000);

afterAll(async () => {
  await model?.dispose();
});

const corpus = readFileSync('public/models/deltascope-demo/corpus.md', 'utf8').replace(/^#.*$/gm, '');
/** `n` tokens of the corpus from token `from` on, BOS first. */
const ids = (n: number, from = 0): number[] => {
  const all = whole.encode(corpus, true);
  expect(all.length).toBeGreaterThanOrEqual(from + n);
  return [all[0]!, ...all.slice(1 + from, from + n)];
};

/** Every output tensor the model returns, with whether and when it was disposed. */
interface Watched {
  name: string;
  disposed: boolean;
}

/**
 * How the export looks to the runner. `right`: the demo as it is (position_ids, no num_logits_to_keep:
 * the runner pads right). `left`: as if it also took `num_logits_to_keep` (the runner pads left; the
 * demo returns every position, so only 'all' is read). `nopos`: as if it took no `position_ids` (the
 * runner pads right and transformers.js derives the positions from the mask, as for such exports).
 */
type Layout = 'right' | 'left' | 'nopos';

/**
 * The demo model as the runner sees it, with every session run recorded and every output tensor's
 * dispose watched.
 */
function instrumented(layout: Layout = 'right') {
  const hidePositionIds = layout === 'nopos';
  const runs: {
    inputs: Record<string, number[]>;
    mask: number[];
    pastLength: number;
    logitsDims: number[];
  }[] = [];
  const outputs: Watched[] = [];
  const call = async (feeds: Record<string, unknown>) => {
    if (hidePositionIds) delete feeds.position_ids;
    const past = feeds.past_key_values as Record<string, { dims: number[] }> | undefined;
    const out = (await (model as unknown as (f: Record<string, unknown>) => Promise<unknown>)(
      feeds,
    )) as Record<string, { dims: number[]; dispose: () => void }>;
    runs.push({
      inputs: Object.fromEntries(
        (['input_ids', 'attention_mask', 'position_ids'] as const)
          .filter((k) => feeds[k] !== undefined)
          .map((k) => [k, (feeds[k] as { dims: number[] }).dims]),
      ),
      mask: Array.from((feeds.attention_mask as { data: BigInt64Array }).data, Number),
      pastLength: past === undefined ? 0 : past['past_key_values.0.key']!.dims[2]!,
      logitsDims: [...out.logits!.dims],
    });
    for (const [name, t] of Object.entries(out)) {
      const w: Watched = { name, disposed: false };
      outputs.push(w);
      const dispose = t.dispose.bind(t);
      t.dispose = () => {
        w.disposed = true;
        dispose();
      };
    }
    return out;
  };
  const sessions = (model as unknown as { sessions: Record<string, { inputNames: string[] }> }).sessions;
  const inputNames = sessions.model!.inputNames.filter((n) => !(hidePositionIds && n === 'position_ids'));
  if (layout === 'left') inputNames.push('num_logits_to_keep');
  Object.assign(call, { config: model.config, sessions: { model: { inputNames } } });
  return { model: call as unknown as PreTrainedModel, runs, outputs };
}

function expectRowsClose(actual: Float32Array[], expected: Float32Array[]): void {
  expect(actual.map((r) => r.length)).toEqual(expected.map((r) => r.length));
  actual.forEach((row, i) => expectClose(row, expected[i]!, 1e-4, 0));
}

describe('TransformersRunner: rows whose logits exceed the budget', () => {
  it('runs a long row in chunks through the KV cache, with the unsliced logits at every position', async () => {
    const row = ids(50);
    const expected = await whole.forward([row], 'all');
    const m = instrumented();
    const sliced = new TransformersRunner(m.model, tokenizer, budget3);
    const got = await sliced.forward([row], 'all');
    expectRowsClose(got, expected);
    // ⌈n / 3⌉ runs, each of ≤ 3 positions, each seeing the positions before it as past.
    expect(m.runs).toHaveLength(Math.ceil(row.length / 3));
    m.runs.forEach((r, k) => {
      expect(r.pastLength).toBe(3 * k);
      expect(r.inputs.attention_mask).toEqual([1, r.pastLength + r.inputs.input_ids![1]!]);
    });
    const stats = sliced.memoryStats();
    expect(stats.maxLogitsBytes).toBeLessThanOrEqual(budget3);
    expect(stats.maxLogitsDims).toEqual([1, 3, vocab]);
    expect(stats.chunkedRows).toBe(1);
    expect(stats.runs).toBe(m.runs.length);
    // The KV cache is part of a run's outputs: more than the logits alone.
    expect(stats.maxRunOutputBytes).toBeGreaterThan(stats.maxLogitsBytes);
    // Every output of every run (logits and each present.* cache) was disposed exactly when done.
    expect(m.outputs.filter((o) => !o.disposed)).toEqual([]);
  });

  it.each(['left', 'right'] as const)(
    'a %s-padded batch of very different lengths: long rows chunked, short ones batched, same logits',
    async (layout) => {
      const rows = [ids(7, 50), ids(61, 100), ids(2, 400), ids(3, 500), ids(33, 600)];
      const expected = await whole.forward(rows, 'all');
      const m = instrumented(layout);
      // Room for eight positions: 7 runs alone, 61 and 33 in chunks of 8, 2 and 3 padded together.
      const sliced = new TransformersRunner(m.model, tokenizer, 8 * vocab * 4);
      expect(sliced.leftPad).toBe(layout === 'left');
      expectRowsClose(await sliced.forward(rows, 'all'), expected);
      expect(sliced.planRuns(rows, 'all')).toEqual([
        { start: 0, end: 1, chunk: null },
        { start: 1, end: 2, chunk: 8 },
        { start: 2, end: 4, chunk: null },
        { start: 4, end: 5, chunk: 8 },
      ]);
      const padded = m.runs.filter((r) => r.logitsDims[0] === 2);
      expect(padded.map((r) => r.mask)).toEqual([
        layout === 'left' ? [0, 1, 1, 1, 1, 1] : [1, 1, 0, 1, 1, 1],
      ]);
      expect(m.runs).toHaveLength(1 + 8 + 1 + 5);
      expect(sliced.memoryStats().maxLogitsBytes).toBeLessThanOrEqual(8 * vocab * 4);
      expect(m.outputs.filter((o) => !o.disposed)).toEqual([]);
    },
  );

  it('an export without position_ids (right padding): the same logits, positions from the mask', async () => {
    const m = instrumented('nopos');
    const sliced = new TransformersRunner(m.model, tokenizer, budget3);
    expect(sliced.leftPad).toBe(false);
    const rows = [ids(31, 10), ids(3, 400), ids(17, 600)];
    expectRowsClose(await sliced.forward(rows, 'all'), await whole.forward(rows, 'all'));
    expect(m.runs.every((r) => r.inputs.position_ids === undefined)).toBe(true);
    expect(m.runs.some((r) => r.pastLength > 0)).toBe(true);
    expect(sliced.memoryStats().maxLogitsBytes).toBeLessThanOrEqual(budget3);
  });

  it("'last' gives the unsliced last-position logits, also for a row run in chunks", async () => {
    const rows = [ids(44, 30), ids(2, 300), ids(20, 500)];
    const expected = await whole.forward(rows, 'last');
    for (const layout of ['right', 'nopos'] as const) {
      const m = instrumented(layout);
      const sliced = new TransformersRunner(m.model, tokenizer, budget3);
      expectRowsClose(await sliced.forward(rows, 'last'), expected);
      expect(sliced.memoryStats().maxLogitsBytes).toBeLessThanOrEqual(budget3);
      expect(m.outputs.filter((o) => !o.disposed)).toEqual([]);
    }
  });

  it('batches rows that fit: several short rows share one run within the budget', async () => {
    const rows = [ids(3, 0), ids(2, 40), ids(3, 80), ids(3, 120)];
    const m = instrumented();
    // Room for six positions: rows of 2–3 tokens go two by two (padded to the longer one).
    const sliced = new TransformersRunner(m.model, tokenizer, 2 * budget3);
    expectRowsClose(await sliced.forward(rows, 'all'), await whole.forward(rows, 'all'));
    expect(m.runs.map((r) => r.logitsDims)).toEqual([
      [2, 3, vocab],
      [2, 3, vocab],
    ]);
    expect(sliced.memoryStats().chunkedRows).toBe(0);
  });

  it('a run that fails mid-row releases the cache it holds and reports the error', async () => {
    const m = instrumented();
    let calls = 0;
    const failing = Object.assign(
      async (feeds: Record<string, unknown>) => {
        if (++calls === 3) throw new Error('session failed');
        return (m.model as unknown as (f: Record<string, unknown>) => Promise<unknown>)(feeds);
      },
      { config: model.config, sessions: (m.model as unknown as { sessions: unknown }).sessions },
    ) as unknown as PreTrainedModel;
    const sliced = new TransformersRunner(failing, tokenizer, budget3);
    await expect(sliced.forward([ids(30)], 'all')).rejects.toThrow('session failed');
    expect(m.runs).toHaveLength(2);
    expect(m.outputs.filter((o) => !o.disposed)).toEqual([]);
  });
});

describe('TransformersRunner: one copy of the logits at most', () => {
  it("'all' rows are views into the session's buffer: nothing held twice", async () => {
    const rows = [ids(60, 0), ids(58, 300), ids(59, 600)];
    const runner = new TransformersRunner(model, tokenizer);
    const out = await runner.forward(rows, 'all');
    expect(new Set(out.map((r) => r.buffer)).size).toBe(1);
    const stats = runner.memoryStats();
    expect(stats.maxLogitsBytes).toBe(3 * 60 * vocab * 4);
    expect(stats.maxHeldLogitsBytes).toBe(stats.maxLogitsBytes);
    expectRowsClose(out, await Promise.all(rows.map(async (r) => (await whole.forward([r], 'all'))[0]!)));
  });

  it("'last' rows are small copies, so the batch's buffer is freed with the run", async () => {
    const rows = [ids(60, 0), ids(30, 300), ids(45, 600)];
    const runner = new TransformersRunner(model, tokenizer);
    const out = await runner.forward(rows, 'last');
    for (const r of out) expect(r.buffer.byteLength).toBe(vocab * 4);
    const stats = runner.memoryStats();
    expect(stats.maxHeldLogitsBytes).toBe(stats.maxLogitsBytes + 3 * vocab * 4);
    runner.resetMemoryStats();
    expect(runner.memoryStats()).toMatchObject({ runs: 0, maxLogitsBytes: 0, maxHeldLogitsBytes: 0 });
  });
});

describe('pairMemoryStats on a pair from openPair', () => {
  it('a long rolling_logprob under a tight budget: the unsliced result, no run over the budget, peaks per view', async () => {
    const text = corpus.slice(0, 600);
    const loose = await openPair({ kind: 'demo' }, { warmup: false });
    const tight = await openPair({ kind: 'demo' }, { warmup: false, logitsBudgetBytes: 4 * 768 * 4 });
    try {
      const expected = await loose.base.rollingLogprob(text);
      const got = await tight.base.rollingLogprob(text);
      expect(got.numTokens).toBeGreaterThan(20);
      expectClose(got.logprobs, expected.logprobs, 1e-4, 0);
      const stats = pairMemoryStats(tight);
      expect(stats.base!.chunkedRows).toBe(1);
      expect(stats.base!.maxLogitsBytes).toBeLessThanOrEqual(4 * 768 * 4);
      expect(stats.base!.logitsBudgetBytes).toBe(4 * 768 * 4);
      expect(stats.ft!.runs).toBe(0);
      const looseStats = pairMemoryStats(loose).base!;
      expect(looseStats.maxLogitsBytes).toBe(got.numTokens * 768 * 4);
      expect(looseStats.maxHeldLogitsBytes).toBe(looseStats.maxLogitsBytes);
    } finally {
      await Promise.all([loose.dispose(), tight.dispose()]);
    }
  });
});

describe('InstrumentedView on streamed logits (forwardEach)', () => {
  /** The same runner without `forwardEach`: the view falls back to `forward` and reads whole rows. */
  const withoutStreaming = (r: TransformersRunner): LogitsRunner => ({
    vocabSize: r.vocabSize,
    eosTokenIds: r.eosTokenIds,
    stuffingToken: r.stuffingToken,
    encode: (t, s) => r.encode(t, s),
    decode: (ids, s) => r.decode(ids, s),
    tokenStrings: (ids) => r.tokenStrings(ids),
    forward: (rows, want) => r.forward(rows, want),
    generateGreedy: (ids, n) => r.generateGreedy(ids, n),
    dispose: async () => {},
  });

  it('gives bit-identical results and the same trace events, in order, as whole-row forwards', async () => {
    const texts = [
      corpus.slice(0, 300),
      corpus.slice(400, 420),
      corpus.slice(800, 1100),
      corpus.slice(1200, 1203),
    ];
    const pairs = texts.slice(0, 3).map((t, i) => [t.slice(0, 10 + i), t.slice(10 + i)] as const);
    const run = async (runner: LogitsRunner) => {
      const sink = new MemoryTraceSink();
      const inst = new BackendInstrumentation({ trace: sink });
      // Two rows per physical batch, and a budget that slices and chunks them.
      const view = new InstrumentedView('base', runner, inst, 2);
      const results = {
        next: await view.nextTokenDistBatch(texts, { topK: 20 }),
        full: await view.nextTokenDistBatch(
          texts.map((t) => `${t} `),
          { topK: vocab },
        ),
        rolling: await view.rollingLogprobBatch(texts),
        scored: await view.logprobOfBatch(pairs),
      };
      const events = sink.events.map(({ ts: _ts, wall_ms: _wall, ...rest }) => rest);
      return { results, events, stats: { ...inst.stats } };
    };
    const streamed = new TransformersRunner(model, tokenizer, 5 * vocab * 4);
    const a = await run(streamed);
    const b = await run(withoutStreaming(new TransformersRunner(model, tokenizer, 5 * vocab * 4)));
    expect(streamed.memoryStats().chunkedRows).toBeGreaterThan(0);
    expect(a.results).toEqual(b.results);
    expect(a.events).toEqual(b.events);
    expect(a.stats.batchesSent).toBe(b.stats.batchesSent);
    expect(a.stats.forwardPasses).toBe(b.stats.forwardPasses);
  });
});

describe('chunked rows on the Optimum-layout zoo model, per dtype (fp16: fp16 KV cache and logits)', () => {
  it.each(['fp32', 'fp16', 'q4', 'q4f16'])(
    '%s: a long rolling_logprob in chunks of 3 positions equals the unsliced one',
    async (dtype) => {
      await ensureZoo();
      const dir = zooDir('optimum-llama');
      const src = { kind: 'pair', base: { kind: 'dir', path: dir }, ft: { kind: 'dir', path: dir } } as const;
      const loose = await openPair(src, { warmup: false, dtype });
      const budget = 3 * loose.info.vocabSize * 4;
      const tight = await openPair(src, { warmup: false, dtype, logitsBudgetBytes: budget });
      try {
        const text = corpus.slice(0, 400);
        const expected = await loose.base.rollingLogprob(text);
        const got = await tight.base.rollingLogprob(text);
        expect(got.numTokens).toBeGreaterThan(20);
        expectClose(got.logprobs, expected.logprobs, 1e-4, 0);
        const stats = pairMemoryStats(tight).base!;
        expect(stats.chunkedRows).toBe(1);
        expect(stats.runs).toBe(Math.ceil(got.numTokens / 3));
        expect(stats.maxLogitsBytes).toBeLessThanOrEqual(budget);
      } finally {
        await Promise.all([loose.dispose(), tight.dispose()]);
      }
    },
    60_000,
  );
});
