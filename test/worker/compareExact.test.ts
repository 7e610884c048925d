// The Compare panel's numbers on the real demo pair (Node, onnxruntime-node): exact full-vocabulary
// JS and KLs, checked against a float64 reference forward of the same weights, and against sway's
// top-k formula, which reads high at the panel's top-k.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DIMS } from '../../scripts/demoModel/demoModelConfig.ts';
import { readLlamaWeightsFromOnnx } from '../../scripts/demoModel/onnxModelReader.ts';
import { logSoftmax, referenceForward } from '../../scripts/demoModel/referenceForward.ts';
import { openPair, type DifferentialBackend } from '../../src/backend/index.ts';
import { divergence, exactDivergenceOf } from '../../src/core/index.ts';
import { compare } from '../../src/worker/interactiveOps.ts';
import { readOnnx } from '../demoModel/demoModelOrt.ts';

let pair: DifferentialBackend;
beforeAll(async () => {
  pair = await openPair({ kind: 'demo' }, { warmup: false });
}, 120_000);
afterAll(async () => pair?.dispose());

const weights = {
  base: readLlamaWeightsFromOnnx(readOnnx('base')),
  ft: readLlamaWeightsFromOnnx(readOnnx('ft')),
};

/** Full-vocabulary log-probabilities of the next token, from the float64 reference forward. */
function referenceNext(kind: 'base' | 'ft', ids: number[]): Float64Array {
  const out = referenceForward(DEMO_DIMS, weights[kind], {
    inputIds: [ids],
    attentionMask: [ids.map(() => 1)],
  });
  return logSoftmax(out.logits[0]!.at(-1)!);
}

describe('compare on the demo pair', () => {
  for (const prompt of ['The keeper of the old lighthouse', 'Odessa Vantraile made the first lanterns']) {
    it(`"${prompt}": exact divergences match the float64 reference (1e-4), whatever the top-k`, async () => {
      const ids = (await pair.base.tokenize(prompt)).ids;
      const want = exactDivergenceOf(referenceNext('base', ids), referenceNext('ft', ids));
      const at10 = await compare(pair, prompt, 10);
      const at50 = await compare(pair, prompt, 50);
      for (const key of ['js', 'klFtBase', 'klBaseFt', 'entropyBase', 'entropyFt'] as const) {
        expect(Math.abs(at10.divergence[key] - want[key])).toBeLessThan(1e-4);
        expect(at50.divergence[key]).toBe(at10.divergence[key]);
      }
      expect(at10.base).toHaveLength(10);
      expect(at10.baseMass).toBeLessThan(at50.baseMass);
      expect(at50.baseMass).toBeLessThanOrEqual(1 + 1e-6);
      // sway's top-10 formula spreads ~the leftover mass over the ids one side lacks: it reads high.
      const [b10, f10] = await Promise.all([
        pair.base.nextTokenDist(prompt, { topK: 10 }),
        pair.ft.nextTokenDist(prompt, { topK: 10 }),
      ]);
      expect(divergence(b10, f10, 'js')).toBeGreaterThan(2 * want.js);
    });
  }
});
