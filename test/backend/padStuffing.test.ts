// prompt_collapse's filler from the tokenizer (sway's `_tokenizer_stuffing`) on the real demo model:
// the tokenizer's pad token repeated, cut to exactly the asked number of tokens, then a blank line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPair, type DifferentialBackend } from '../../src/backend/index.ts';
import { filler, stuffing } from '../../src/probes/promptCollapse.ts';

let pair: DifferentialBackend;
beforeAll(async () => {
  pair = await openPair({ kind: 'demo' }, { warmup: false });
}, 120_000);
afterAll(async () => pair?.dispose());

describe('tokenizer-derived stuffing', () => {
  it('is the pad token cut to exactly n tokens (the tokenizer’s BOS counted), plus a blank line', async () => {
    for (const n of [1, 4, 64, 300]) {
      const s = await stuffing(n, pair.ft);
      expect(s.endsWith('\n\n')).toBe(true);
      const body = s.slice(0, -2);
      // Encoded with the default special tokens, as sway's `tokenizer.encode(raw)` does.
      const ids = (await pair.ft.tokenize(body.replace(/^<s>/, ''))).ids;
      expect(ids).toHaveLength(n);
      expect(new Set(ids.slice(1))).toEqual(n > 1 ? new Set([0]) : new Set());
    }
    expect(await stuffing(0, pair.ft)).toBe('');
  });

  it('falls back to the English filler without a tokenizer (the fake) or when asked', async () => {
    const fake = await openPair({ kind: 'fake' });
    expect(await stuffing(32, fake.ft)).toBe(filler(32));
    expect(await stuffing(32, undefined)).toBe(filler(32));
  });
});
