// The generation probes (leakage, style_fingerprint) and the text features they use, on
// hand-written generations: each pinned to its verdict and numbers.
import { describe, expect, it } from 'vitest';
import { PERTURBATIONS, perturb, styleFingerprint } from '../../src/probes/textFeatures.ts';
import { runProbe as run, scriptedBackend } from './scriptedBackend.ts';

describe('leakage', () => {
  const text = 'Quillhaven is a small harbour town. '.repeat(12);
  const prefix = text.slice(0, 32);
  const target = text.slice(32, 96);
  const spec = { sections: [{ id: 's', kind: 'prose', text }], prefix_chars: 32, continuation_chars: 64 };

  it('recites only from the exact prefix → recall 1, fragility of the means ≥ 0.3 → PASS', async () => {
    const b = scriptedBackend({}, { generate: (p) => (p === prefix ? target : 'zzz') });
    const r = await run('leakage', spec, b);
    expect(r.raw).toBe(1);
    // drop_punct and clause_reverse leave this prefix unchanged (it has no punctuation and no ", " /
    // " and "), so ft still recites from those two; the other five lose it.
    expect(PERTURBATIONS.filter((k) => perturb(prefix, k) === prefix)).toEqual([
      'drop_punct',
      'clause_reverse',
    ]);
    const pert = r.evidence.mean_perturbed_recall as number;
    expect(r.ftValue).toBeCloseTo(1 - pert, 12);
    expect(r.verdict).toBe('pass');
    // 0.7·clip(1 − 1/0.5) + 0.3·clip(fragility/0.3)
    expect(r.score!).toBeCloseTo(0.3 * Math.min(1, (1 - pert) / 0.3), 12);
  });

  it('robust verbatim recall (fragility 0) → FAIL with score 0', async () => {
    const r = await run('leakage', spec, scriptedBackend({}, { generate: () => target }));
    expect(r.raw).toBe(1);
    expect(r.ftValue).toBe(0);
    expect(r.verdict).toBe('fail');
    expect(r.score).toBe(0);
  });

  it('scores the whole generation, not its first target-length characters', async () => {
    const r = await run('leakage', spec, scriptedBackend({}, { generate: () => target + target }));
    expect(r.raw!).toBeCloseTo((2 * 64) / (128 + 64), 12);
  });

  it('perturbs as sway does', () => {
    const s = 'The old lantern, made of glass, is bright.';
    expect(perturb('hello', 'typo')).toBe('ehllo');
    expect(perturb('abc', 'case_flip')).toBe('Abc');
    expect(perturb(s, 'drop_punct')).toBe('The old lantern made of glass is bright');
    expect(perturb(s, 'synonym_swap')).toBe('The ancient lantern, made of glass, is bright.');
    expect(perturb(s, 'prefix_inject')).toBe('I think that the old lantern, made of glass, is bright.');
    expect(perturb(s, 'clause_reverse')).toBe('made of glass, is bright, The old lantern');
    expect(perturb(s, 'register_shift')).toBe('the old lantern, made of glass, is bright.');
  });
});

describe('style_fingerprint', () => {
  const doc = 'Short one. Short two.';
  const long = 'A much longer sentence with many words in it here.';
  const spec = { prompts: ['x'], sections: [{ id: 'd', kind: 'prose', text: doc }] };

  it('computes the six dimensions by hand', () => {
    // 2 sentences of 3 and 1 words; 4 words, 4 distinct; word lengths 3,3,3,2; punct 2 of 15 chars; 1 paragraph.
    const f = styleFingerprint('The cat sat. Go!');
    expect(f[0]).toBeCloseTo(2 / 30);
    expect(f[1]).toBeCloseTo(1 / 30);
    expect(f[2]).toBe(1);
    expect(f[3]).toBeCloseTo(11 / 4 / 10);
    expect(f[4]).toBeCloseTo((2 / 16) * 10);
    expect(f[5]).toBeCloseTo((1 / 4) * 30);
  });

  it('shift = (ft − base)·(doc − base)/‖doc − base‖²: ft writing like the doc → 1 → PASS', async () => {
    const r = await run(
      'style_fingerprint',
      spec,
      scriptedBackend({ generate: () => long }, { generate: () => doc }),
    );
    expect(r.raw!).toBeCloseTo(1, 12);
    expect(r.verdict).toBe('pass');
    expect(r.score!).toBeCloseTo(1, 12);
  });

  it('ft writing like base plus a short sentence moves slightly away from the doc → FAIL', async () => {
    const b = scriptedBackend({ generate: () => long }, { generate: () => `${long} Short.` });
    const r = await run('style_fingerprint', spec, b);
    expect(r.raw!).toBeCloseTo(-0.05125, 4);
    expect(r.verdict).toBe('fail');
    expect(r.score).toBe(0);
  });
});
