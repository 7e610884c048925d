import { describe, expect, it } from 'vitest';
import { openPair, viewByName } from '../../src/backend/index.ts';

describe('viewByName', () => {
  it('names base, ft, scaled and null views of a runtime-LoRA pair', async () => {
    const pair = await openPair({ kind: 'fake', adapterViews: true });
    try {
      expect(viewByName(pair, 'base')).toBe(pair.base);
      expect(viewByName(pair, 'ft')).toBe(pair.ft);
      expect(viewByName(pair, 'scaled_0.5').id).toBe('scaled_0.50');
      expect(viewByName(pair, 'scaled_-1').id).toBe('scaled_-1.00');
      expect(viewByName(pair, 'null_7').id).toBe('null_7');
      // The same name gives the same view (its cache entries stay its own).
      expect(viewByName(pair, 'scaled_0.50')).toBe(viewByName(pair, 'scaled_0.5'));
    } finally {
      await pair.dispose();
    }
  });

  it('refuses adapter views on two full models, and unknown names, saying why', async () => {
    const pair = await openPair({ kind: 'fake', adapterViews: false });
    try {
      expect(() => viewByName(pair, 'scaled_0.5')).toThrow(/needs runtime LoRA.*only base and ft/);
      expect(() => viewByName(pair, 'null_3')).toThrow(/needs runtime LoRA/);
      for (const bad of ['FT', 'scaled_', 'scaled_x', 'null_-1', 'null_1.5', ''])
        expect(() => viewByName(pair, bad)).toThrow(/unknown view .*give base, ft, scaled_<λ>/);
    } finally {
      await pair.dispose();
    }
  });
});
