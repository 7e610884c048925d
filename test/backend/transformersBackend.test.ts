// The transformers.js backend in Node (onnxruntime-node, CPU) against the real demo ONNX pair.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BackendInstrumentation,
  CancelledError,
  MemoryTraceSink,
  type RollingLogprob,
} from '../../src/core/index.ts';
import {
  openPair,
  type DifferentialBackend,
  type ModelFiles,
  type ModelSource,
} from '../../src/backend/index.ts';
import { directoryModelFiles } from '../../src/backend/nodeModelFiles.ts';
import { expectClose, jsFull } from './divergenceHelpers.ts';

const DEMO = 'public/models/deltascope-demo';
const sentences = (file: string) =>
  readFileSync(`${DEMO}/${file}`, 'utf8')
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.replace(/^#.*$/gm, '').trim())
    .filter((s) => s.length > 20);

let backend: DifferentialBackend;
const DEMO_SOURCE: ModelSource = { kind: 'demo' };
const dirPair = (base: string, ft: string): ModelSource => ({
  kind: 'pair',
  base: { kind: 'dir', path: base },
  ft: { kind: 'dir', path: ft },
});
const trace = new MemoryTraceSink();

beforeAll(async () => {
  backend = await openPair(DEMO_SOURCE, { trace });
}, 120_000);

afterAll(async () => {
  await backend?.dispose();
});

describe('TransformersBackend on the demo pair (Node, CPU)', () => {
  it('reports the device, dtype and vocabulary, and traced one warm-up per model', () => {
    expect(backend.info.device).toBe('cpu');
    expect(backend.info.dtype).toBe('fp32');
    expect(backend.info.vocabSize).toBeGreaterThan(256);
    const warmups = trace.events.filter((e) => e.op === 'warmup');
    expect(warmups.map((e) => e.view_id)).toEqual(['base', 'ft']);
    expect(backend.instrumentation.stats.forwardPasses).toBe(0);
  });

  it('nextTokenDist: top-k sorted, the three tail states, vocabSize', async () => {
    const d = await backend.base.nextTokenDist('The town of', { topK: 8 });
    expect(d.tokenIds).toHaveLength(8);
    expect(d.vocabSize).toBe(backend.info.vocabSize);
    for (let i = 1; i < 8; i++) expect(d.logprobs[i - 1]!).toBeGreaterThanOrEqual(d.logprobs[i]!);
    expect(d.tailLogprob).not.toBeNull();
    expect(d.tailLogprob!).toBeLessThan(0);
    const mass = Array.from(d.logprobs).reduce((s, v) => s + Math.exp(v), 0) + Math.exp(d.tailLogprob!);
    expect(mass).toBeCloseTo(1, 4);
    const full = await backend.base.nextTokenDist('The town of', { topK: backend.info.vocabSize });
    expect(full.tailLogprob).toBeNull();
    const total = Array.from(full.logprobs).reduce((s, v) => s + Math.exp(v), 0);
    expect(total).toBeCloseTo(1, 4);
  });

  it('batched next-token results equal serial ones (atol 1e-4, rtol 1e-3), ragged lengths included', async () => {
    const prompts = ['Hi', 'The festival begins when the keeper', 'We usually eat dinner together at', 'A'];
    const fresh = await openPair(DEMO_SOURCE, { warmup: false, maxBatchSize: 16 });
    try {
      const batched = await fresh.ft.nextTokenDistBatch(prompts, { topK: 5 });
      expect(fresh.instrumentation.stats.batchesSent).toBe(1);
      expect(fresh.instrumentation.stats.maxBatchSize).toBe(4);
      for (let i = 0; i < prompts.length; i++) {
        const serial = await backend.ft.nextTokenDist(prompts[i]!, { topK: 5 });
        expect(new Set(batched[i]!.tokenIds)).toEqual(new Set(serial.tokenIds));
        expectClose(batched[i]!.logprobs, serial.logprobs);
      }
      const texts = ['Odessa Vantraile made the first lanterns.', 'The bus was late.', 'Yes'];
      const rollB = await fresh.base.rollingLogprobBatch(texts);
      const pairs = [
        ['The bus was', ' late'],
        ['Quillhaven is a small', ' harbour town'],
      ] as const;
      const lpB = await fresh.base.logprobOfBatch(pairs);
      for (let i = 0; i < texts.length; i++) {
        expectClose(rollB[i]!.logprobs, (await backend.base.rollingLogprob(texts[i]!)).logprobs);
      }
      for (let i = 0; i < pairs.length; i++) {
        expectClose([lpB[i]!], [await backend.base.logprobOf(pairs[i]![0], pairs[i]![1])]);
      }
    } finally {
      await fresh.dispose();
    }
  });

  it('splits a batch whose logits exceed the budget into several runs, with the same results', async () => {
    // 1 byte: every row runs on its own, yet the batch counts as one logical batch.
    const tight = await openPair(DEMO_SOURCE, { warmup: false, logitsBudgetBytes: 1 });
    try {
      const prompts = ['The copper bell', 'A', 'Odessa Vantraile made the first lanterns'];
      const sliced = await tight.base.nextTokenDistBatch(prompts, { topK: 5 });
      const rolled = await tight.base.rollingLogprobBatch(prompts);
      for (let i = 0; i < prompts.length; i++) {
        expectClose(
          sliced[i]!.logprobs,
          (await backend.base.nextTokenDist(prompts[i]!, { topK: 5 })).logprobs,
        );
        expectClose(rolled[i]!.logprobs, (await backend.base.rollingLogprob(prompts[i]!)).logprobs);
      }
      expect(tight.instrumentation.stats.batchesSent).toBe(2);
    } finally {
      await tight.dispose();
    }
  });

  it('rollingLogprob has N−1 entries and consistent derived values', async () => {
    const text = 'The children carry the amber lanterns down the street.';
    const r = await backend.base.rollingLogprob(text);
    const { ids } = await backend.base.tokenize(text);
    expect(r.numTokens).toBe(ids.length);
    expect(r.logprobs).toHaveLength(ids.length - 1);
    expect(r.totalLogprob).toBeCloseTo(
      Array.from(r.logprobs).reduce((s, v) => s + v, 0),
      4,
    );
    expect(r.perplexity).toBeCloseTo(Math.exp(-r.meanLogprob), 6);
    const empty = await backend.base.rollingLogprob('');
    expect(empty.logprobs).toHaveLength(0);
  });

  it('logprobOf scores exactly the completion tokens, also where BPE would merge across the boundary', async () => {
    const prompt = 'The lantern';
    const completion = 's of Quillhaven';
    const pIds = (await backend.base.tokenize(prompt)).ids;
    const joint = (await backend.base.tokenize(prompt + completion)).ids;
    // The demo tokenizer merges "lanterns" into one token, so the joint encoding does not start with the
    // prompt's tokens: sway's slicing would mis-score this pair.
    expect(joint.slice(0, pIds.length)).not.toEqual(pIds);
    const lp = await backend.base.logprobOf(prompt, completion);
    // Reference: score the concatenation [prompt tokens][completion tokens] with rollingLogprob's math.
    const r = await backend.base.rollingLogprob(prompt);
    expect(r.numTokens).toBe(pIds.length);
    expect(Number.isFinite(lp)).toBe(true);
    expect(lp).toBeLessThan(0);
    // Additivity across a split point proves only completion tokens are summed.
    const a = await backend.base.logprobOf(prompt, 's of');
    const b = await backend.base.logprobOf(prompt, completion);
    expect(b).toBeLessThan(a);
    await expect(backend.base.logprobOf(prompt, '')).rejects.toThrow(/adds no tokens/);
  });

  it('greedy generate is repeatable and not cached', async () => {
    const before = backend.instrumentation.stats.toDict();
    const a = await backend.ft.generate('The festival of', { maxNewTokens: 12 });
    const b = await backend.ft.generate('The festival of', { maxNewTokens: 12 });
    expect(a).toBe(b);
    expect(a.length).toBeGreaterThan(0);
    expect(backend.instrumentation.stats.toDict()).toEqual(before);
    const s1 = await backend.ft.generate('The festival of', { maxNewTokens: 8, temperature: 0.8, seed: 7 });
    const s2 = await backend.ft.generate('The festival of', { maxNewTokens: 8, temperature: 0.8, seed: 7 });
    expect(s1).toBe(s2);
  });

  it('repeated calls hit the cache and the stats say so', async () => {
    const inst = backend.instrumentation;
    const hits0 = inst.stats.cacheHits;
    const passes0 = inst.stats.forwardPasses;
    const p = 'My brother is learning to play';
    const first = await backend.base.nextTokenDist(p, { topK: 4 });
    const second = await backend.base.nextTokenDist(p, { topK: 4 });
    expect(second).toBe(first);
    expect(inst.stats.forwardPasses).toBe(passes0 + 1);
    expect(inst.stats.cacheHits).toBe(hits0 + 1);
    expect(inst.stats.forwardPasses).toBe(inst.stats.cacheMisses);
  });

  it('base and ft differ more on document text than on generic text', async () => {
    const doc = sentences('document.md').slice(0, 10);
    const generic = sentences('heldout.md').slice(0, 10);
    const perToken = async (texts: string[]) => {
      const [b, f] = await Promise.all([
        backend.base.rollingLogprobBatch(texts),
        backend.ft.rollingLogprobBatch(texts),
      ]);
      let lift = 0;
      let absDelta = 0;
      let n = 0;
      texts.forEach((_, i) => {
        lift += f[i]!.meanLogprob - b[i]!.meanLogprob;
        f[i]!.logprobs.forEach((v, t) => {
          absDelta += Math.abs(v - b[i]!.logprobs[t]!);
          n++;
        });
      });
      return { lift: lift / texts.length, absDelta: absDelta / n };
    };
    const onDoc = await perToken(doc);
    const onGeneric = await perToken(generic);
    // ft learned the document: ≥ 1 nat/token more likely there, and it moves document tokens more.
    expect(onDoc.lift).toBeGreaterThan(1);
    expect(Math.abs(onGeneric.lift)).toBeLessThan(0.3);
    expect(onDoc.absDelta).toBeGreaterThan(onGeneric.absDelta);
    // Next-token distributions differ on both (the LoRA sits on lm_head), measurably.
    const V = backend.info.vocabSize;
    const prompt = 'Odessa Vantraile made the first';
    const [b, f] = await Promise.all([
      backend.base.nextTokenDist(prompt, { topK: V }),
      backend.ft.nextTokenDist(prompt, { topK: V }),
    ]);
    expect(jsFull(b, f)).toBeGreaterThan(0.01);
  });

  it('concurrent calls on the two views never mix results', async () => {
    const prompts = ['The bell rings', 'The glassmaker', 'Quillhaven'];
    const serialBase: RollingLogprob[] = [];
    const serialFt: RollingLogprob[] = [];
    const fresh = await openPair(DEMO_SOURCE, { warmup: false });
    try {
      for (const p of prompts) {
        serialBase.push(await fresh.base.rollingLogprob(p));
        serialFt.push(await fresh.ft.rollingLogprob(p));
      }
      fresh.instrumentation.cache.clear();
      const mixed = await Promise.all(
        prompts.flatMap((p) => [fresh.base.rollingLogprob(p), fresh.ft.rollingLogprob(p)]),
      );
      prompts.forEach((_, i) => {
        expectClose(mixed[2 * i]!.logprobs, serialBase[i]!.logprobs);
        expectClose(mixed[2 * i + 1]!.logprobs, serialFt[i]!.logprobs);
      });
    } finally {
      await fresh.dispose();
    }
  });

  it('a shared instrumentation never serves one pair’s results for another pair', async () => {
    const inst = new BackendInstrumentation();
    const prompt = 'The copper bell';
    const demo = await openPair(DEMO_SOURCE, { instrumentation: inst, warmup: false });
    const demoBase = await demo.base.nextTokenDist(prompt, { topK: 5 });
    const demoFt = await demo.ft.nextTokenDist(prompt, { topK: 5 });
    await demo.dispose();
    // The same folders, swapped: its "base" view is the demo's ft model.
    const swapped = await openPair(dirPair(`${DEMO}/ft`, `${DEMO}/base`), {
      instrumentation: inst,
      warmup: false,
    });
    try {
      const swappedBase = await swapped.base.nextTokenDist(prompt, { topK: 5 });
      expectClose(swappedBase.logprobs, demoFt.logprobs);
      expect(Array.from(swappedBase.logprobs)).not.toEqual(Array.from(demoBase.logprobs));
      expect(inst.stats.cacheHits).toBe(0);
    } finally {
      await swapped.dispose();
    }
  });
});

/** The demo pair with the base folder's file reads going through `fetch` (to abort or hold them). */
function demoWithBaseFetch(fetch: ModelFiles['fetch']): ModelSource {
  const base = directoryModelFiles(`${DEMO}/base`);
  return {
    kind: 'pair',
    base: { kind: 'custom', localDir: base.localDir, files: { label: base.label, fetch } },
    ft: { kind: 'dir', path: `${DEMO}/ft` },
  };
}

describe('cancelling a load (Node, demo pair)', () => {
  it('an already-aborted signal stops before anything loads', async () => {
    const c = new AbortController();
    c.abort();
    await expect(openPair(DEMO_SOURCE, { signal: c.signal })).rejects.toBeInstanceOf(CancelledError);
  });

  it('a cancel during validation stops at the next step with CancelledError, and the next load works', async () => {
    const c = new AbortController();
    const files = directoryModelFiles(`${DEMO}/base`);
    let fetches = 0;
    // Abort while the first file of the base folder is being read.
    const watched = demoWithBaseFetch((path, init) => {
      if (fetches++ === 0) c.abort();
      return files.fetch(path, init);
    });
    const progress: string[] = [];
    await expect(
      openPair(watched, { signal: c.signal, onProgress: (p) => progress.push(p.file) }),
    ).rejects.toThrow(/Loading cancelled/);
    expect(fetches).toBeGreaterThan(0);
    expect(progress).toEqual([]);
    const again = await openPair(DEMO_SOURCE, { warmup: false });
    expect(again.info.vocabSize).toBeGreaterThan(0);
    await again.dispose();
  });
});

describe('loads queue behind a cancelled load that has not stopped', () => {
  it('the next load says it waits, and runs only once the cancelled one has really stopped', async () => {
    const files = directoryModelFiles(`${DEMO}/base`);
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    let fetches = 0;
    const c = new AbortController();
    // The cancelled load's first file read hangs until released (a step that cannot be interrupted).
    const stuck = demoWithBaseFetch(async (path, init) => {
      if (fetches++ === 0) {
        c.abort();
        await held;
      }
      return files.fetch(path, init);
    });
    const first = openPair(stuck, { signal: c.signal, warmup: false });
    await expect(first).rejects.toBeInstanceOf(CancelledError);
    let waited = 0;
    let secondDone = false;
    const second = openPair(DEMO_SOURCE, {
      warmup: false,
      onWaiting: () => waited++,
    }).then((b) => {
      secondDone = true;
      return b;
    });
    await expect.poll(() => waited).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(secondDone).toBe(false);
    release();
    const b = await second;
    expect(b.info.vocabSize).toBeGreaterThan(0);
    await b.dispose();
  });
});

describe('virtual mounts (files served to transformers.js from memory)', () => {
  it('are forgotten when a load fails', async () => {
    const { mountCount } = await import('../../src/backend/virtualFetch.ts');
    // `custom` files without a folder path go through the virtual host, as picked files do in the
    // browser. In Node onnxruntime-node needs a file path, so the model step fails after the tokenizer
    // loaded from the mount: the mounts made so far must be released with the error.
    const memory: ModelSource = {
      kind: 'pair',
      base: { kind: 'custom', files: directoryModelFiles(`${DEMO}/base`) },
      ft: { kind: 'custom', files: directoryModelFiles(`${DEMO}/ft`) },
    };
    const before = mountCount();
    await expect(openPair(memory, { warmup: false })).rejects.toMatchObject({
      code: 'model-load/failed',
      input: `folder ${DEMO}/base`,
    });
    expect(mountCount()).toBe(before);
  });
});
