// deltascope's style fingerprint and leakage perturbations against sway's own functions
// (fixtures generated from sway's style_fingerprint.fingerprint and leakage._perturb).
import { describe, expect, it } from 'vitest';
import { PERTURBATIONS, perturb, styleFingerprint } from '../../src/probes/textFeatures.ts';
import { closeAll, fixture } from './parityHelpers.ts';

const features = fixture<{ cases: { text: string; fingerprint: number[] }[] }>('style_fingerprint_features');
const perturbations = fixture<{
  perturbations: string[];
  cases: { text: string; out: Record<string, string> }[];
}>('leakage_perturbations');

describe('style fingerprint = sway fingerprint()', () => {
  it(`has at least 200 vectors`, () => expect(features.cases.length).toBeGreaterThanOrEqual(200));
  it.each(features.cases.map((c, i) => [i, JSON.stringify(c.text).slice(0, 60), c] as const))(
    '#%i %s',
    (_i, _t, c) => closeAll(styleFingerprint(c.text), c.fingerprint, 'fingerprint'),
  );
});

describe('leakage perturbations = sway _perturb()', () => {
  it('are sway’s seven, in sway’s order', () =>
    expect([...PERTURBATIONS]).toEqual(perturbations.perturbations));
  it('pin sway’s test values', () => {
    expect(perturb('hello', 'typo')).toBe('ehllo');
    expect(perturb('abc', 'case_flip')).toBe('Abc');
  });
  it(`has at least 200 strings`, () => expect(perturbations.cases.length).toBeGreaterThanOrEqual(200));
  it.each(perturbations.cases.map((c, i) => [i, JSON.stringify(c.text).slice(0, 60), c] as const))(
    '#%i %s',
    (_i, _t, c) => {
      for (const k of PERTURBATIONS) expect(perturb(c.text, k), k).toBe(c.out[k]);
    },
  );
});
