import { describe, expect, it } from 'vitest';
import {
  bootstrapCi,
  nullStatsOf,
  scoreFromZ,
  verdictFromZ,
  zScore,
  type NullStatsLike,
} from '../../src/core/statistics.ts';
import { expectClose, loadParity } from './swayParity.ts';

interface ZCase {
  raw: number;
  stats: NullStatsLike | null;
  threshold: number;
  z: number | null;
  verdict: 'pass' | 'fail' | null;
  score: number | null;
}
interface NullCase {
  raws: number[];
  raw: number;
  threshold: number;
  stats: { mean: number; std: number; n: number };
  z: number | null;
  verdict: 'pass' | 'fail' | null;
  score: number | null;
}
interface BootCase {
  samples: number[];
  confidence: number;
  seed: number;
  ci: [number, number] | null;
}

const zCases = loadParity<ZCase>('zscore');
const nullCases = loadParity<NullCase>('null_stats');
const bootCases = loadParity<BootCase>('bootstrap');

describe('sway parity: z_score, verdict_from_z, score_from_z', () => {
  it('matches every vector', () => {
    expect(zCases.cases.length).toBeGreaterThanOrEqual(200);
    for (const [i, c] of zCases.cases.entries()) {
      const z = zScore(c.raw, c.stats);
      expectClose(z, c.z, `#${i} z`);
      expect(verdictFromZ(z, c.threshold), `#${i} verdict`).toBe(c.verdict);
      expectClose(z === null ? null : scoreFromZ(z), c.score, `#${i} score`);
    }
  });
});

describe('sway parity: null_adapter statistics', () => {
  it('the issue’s example: raws [0.01, 0.02, 0.03], raw 0.045 → z = 3.06, PASS', () => {
    const s = nullStatsOf([0.01, 0.02, 0.03])!;
    expect(zScore(0.045, s)).toBeCloseTo(3.0619, 4);
    expect(verdictFromZ(zScore(0.045, s), 3)).toBe('pass');
  });

  it('matches every vector: fmean, max(pstdev, 1e-6), n, and z / verdict / score', () => {
    expect(nullCases.cases.length).toBeGreaterThanOrEqual(200);
    let compared = 0;
    for (const [i, c] of nullCases.cases.entries()) {
      const s = nullStatsOf(c.raws)!;
      expectClose(s.mean, c.stats.mean, `#${i} mean`);
      expectClose(s.std, c.stats.std, `#${i} std`);
      expect(s.n, `#${i} n`).toBe(c.stats.n);
      // Degenerate nulls (one run, or a spread below the 1e-6 floor) give no z: sway's newest
      // `_zscore.z_score` returns None for them; elsewhere z, verdict and score match sway's.
      if (s.degenerate >= 0.5) {
        expect(c.raws.length < 2 || s.std === 1e-6, `#${i} degenerate`).toBe(true);
        expect(zScore(c.raw, s)).toBeNull();
        continue;
      }
      compared++;
      const z = zScore(c.raw, s);
      expectClose(z, c.z, `#${i} z`);
      expect(verdictFromZ(z, c.threshold), `#${i} verdict`).toBe(c.verdict);
      expectClose(z === null ? null : scoreFromZ(z), c.score, `#${i} score`);
    }
    expect(compared).toBeGreaterThanOrEqual(200);
  });
});

describe('sway parity: bootstrap_ci', () => {
  it('matches every edge exactly (null, zero width) and every interval in distribution', () => {
    expect(bootCases.cases.length).toBeGreaterThanOrEqual(200);
    for (const [i, c] of bootCases.cases.entries()) {
      const ci = bootstrapCi(c.samples, { confidence: c.confidence, seed: c.seed });
      const what = `#${i} ${JSON.stringify(c.samples.slice(0, 4))}`;
      if (c.ci === null || c.ci[0] === c.ci[1]) {
        expect(ci, what).toEqual(c.ci);
        continue;
      }
      // Different PRNGs (mulberry32 vs numpy's PCG64): the bounds agree within a fraction of the
      // interval's width, not bit for bit.
      expect(ci, what).not.toBeNull();
      const width = c.ci[1] - c.ci[0];
      expect(Math.abs(ci![0] - c.ci[0]), `${what} lo`).toBeLessThanOrEqual(0.25 * width);
      expect(Math.abs(ci![1] - c.ci[1]), `${what} hi`).toBeLessThanOrEqual(0.25 * width);
    }
  });
});
