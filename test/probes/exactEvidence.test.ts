// Divergence probes carry the exact full-vocabulary divergence beside sway's top-k raw, computed from
// the same lookups (one per prompt and view, over the full vocabulary), and `method: exact` makes
// the exact value the raw one.
import { describe, expect, it } from 'vitest';
import { openPair } from '../../src/backend/index.ts';
import { MemoryTraceSink, exactDivergence, mean } from '../../src/core/index.ts';
import { runProbe } from './scriptedBackend.ts';

const PROMPTS = ['The keeper of the lighthouse', 'Every spring the town', 'A child found'];

describe('delta_kl evidence', () => {
  it('default (sway top-k): raw unchanged, exact_js / exact_kl from the full distributions beside it', async () => {
    const trace = new MemoryTraceSink();
    const pair = await openPair({ kind: 'fake' }, { trace });
    const r = await runProbe('delta_kl', { prompts: PROMPTS, top_k: 8 }, pair);
    const V = pair.info.vocabSize;
    // One lookup per prompt and view, over the full vocabulary (the top-k is cut from it).
    const lookups = trace.events.filter((e) => e.op === 'next_token_dist');
    expect(lookups).toHaveLength(2 * PROMPTS.length);
    expect(new Set(lookups.map((e) => e.top_k))).toEqual(new Set([V]));
    expect(pair.instrumentation.stats.forwardPasses).toBe(2 * PROMPTS.length);
    const [b, f] = await Promise.all([
      pair.base.nextTokenDistBatch(PROMPTS, { topK: V }),
      pair.ft.nextTokenDistBatch(PROMPTS, { topK: V }),
    ]);
    const exact = PROMPTS.map((_, i) => exactDivergence(b[i]!, f[i]!));
    expect(r.evidence.method).toBe('topk');
    expect(r.evidence.exact_js).toBe(mean(exact.map((d) => d.js)));
    expect(r.evidence.exact_kl).toBe(mean(exact.map((d) => d.klFtBase)));
    // sway's top-8 formula reads differently from the truth, and the message says which is which.
    expect(r.raw).not.toBe(r.evidence.exact_js);
    expect(r.message).toMatch(/^mean js@8 \d\.\d{4} .*; exact js \d\.\d{4}$/);
  });

  it('method: exact reports the full-vocabulary mean as raw, for JS and for KL', async () => {
    const pair = await openPair({ kind: 'fake' });
    const js = await runProbe('delta_kl', { prompts: PROMPTS, method: 'exact' }, pair);
    expect(js.raw).toBe(js.evidence.exact_js);
    expect(js.evidence.method).toBe('exact');
    expect(js.message).toMatch(/^mean exact js /);
    const kl = await runProbe('delta_kl', { prompts: PROMPTS, method: 'exact', divergence: 'kl' }, pair);
    expect(kl.raw).toBe(kl.evidence.exact_kl);
  });

  it('an unknown method is a spec error', async () => {
    await expect(runProbe('delta_kl', { prompts: PROMPTS, method: 'fast' })).rejects.toThrow(/method/);
  });
});
