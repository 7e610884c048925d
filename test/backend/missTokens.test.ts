// Every miss event says how many tokens its forward pass fed (the `tokens` extra key), so a run's
// tokens/s covers next-token and continuation lookups, not only rolling log-probabilities.
import { describe, expect, it } from 'vitest';
import { openPair } from '../../src/backend/index.ts';
import { MemoryTraceSink, type TraceEvent } from '../../src/core/index.ts';

type Traced = TraceEvent & { tokens?: number };

describe('tokens on miss events', () => {
  it('next_token_dist and logprob_of misses carry the tokens fed; hits carry none', async () => {
    const trace = new MemoryTraceSink();
    const pair = await openPair({ kind: 'fake' }, { trace });
    try {
      const prompts = ['The keeper of the lighthouse', 'hello there'];
      await pair.base.nextTokenDistBatch(prompts, { topK: 4 });
      await pair.base.nextTokenDistBatch(prompts, { topK: 4 });
      await pair.base.logprobOf('The keeper of', ' the lamp');
      const events = trace.events as Traced[];
      const next = events.filter((e) => e.op === 'next_token_dist');
      expect(
        next
          .filter((e) => !e.hit)
          .map((e) => e.tokens)
          .sort(),
      ).toEqual(
        (await Promise.all(prompts.map(async (p) => (await pair.base.tokenize(p)).ids.length))).sort(),
      );
      expect(next.filter((e) => e.hit).every((e) => e.tokens === undefined)).toBe(true);
      const lp = events.find((e) => e.op === 'logprob_of')!;
      expect(lp.tokens).toBeGreaterThan((await pair.base.tokenize('The keeper of')).ids.length);
    } finally {
      await pair.dispose();
    }
  });
});
