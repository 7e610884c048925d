import { describe, expect, it } from 'vitest';
import { CATEGORIES, type Category, type ProbeResult, type Verdict } from '../../src/probes/types.ts';
import { computeScore } from '../../src/suite/score.ts';
import { expectClose, loadParity } from './swayParity.ts';

interface ProbeJson {
  name: string;
  kind: string;
  verdict: Verdict;
  score: number | null;
  evidence: Record<string, unknown>;
  message: string;
}
interface ScoreCase {
  probes: ProbeJson[];
  weights: Partial<Record<Category, number>> | null;
  expected: {
    overall: number;
    band: string;
    components: Record<string, number>;
    weights: Record<string, number>;
    findings: string[];
  };
}

const fixture = loadParity<ScoreCase>('composite_score');
const categories = fixture.categories as Record<string, Category>;

const toResult = (p: ProbeJson): ProbeResult => ({
  ...p,
  raw: null,
  zScore: null,
  baseValue: null,
  ftValue: null,
  durationS: 0,
  ci95: null,
});

describe('sway parity: composite score', () => {
  it('matches every vector: overall, band, components (all five), weights, findings', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(200);
    for (const [i, c] of fixture.cases.entries()) {
      const s = computeScore(c.probes.map(toResult), (k) => categories[k], c.weights ?? {});
      const e = c.expected;
      expectClose(s.overall, e.overall, `#${i} overall`);
      expect(s.band, `#${i} band`).toBe(e.band);
      expect(Object.keys(s.components), `#${i} components`).toEqual(Object.keys(e.components));
      for (const cat of CATEGORIES) expectClose(s.components[cat], e.components[cat]!, `#${i} ${cat}`);
      expect(s.weights, `#${i} weights`).toEqual(e.weights);
      expect(s.findings, `#${i} findings`).toEqual(e.findings);
    }
  });

  it('with no scored probe: 0.0, "noise", every category 0.0', () => {
    const s = computeScore([], () => undefined);
    expect(s).toMatchObject({
      overall: 0,
      band: 'noise',
      components: { adherence: 0, attribution: 0, calibration: 0, ablation: 0, baseline: 0 },
      findings: [],
    });
  });
});
