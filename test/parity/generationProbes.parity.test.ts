// The leakage and style_fingerprint probes against sway's own probe logic, driven with scripted
// generations (fixtures: sway's LeakageSusceptibilityProbe.run / StyleFingerprintProbe.run after
// generation, uncalibrated).
import { describe, expect, it } from 'vitest';
import { ProbeSkip } from '../../src/probes/types.ts';
import { runProbe, scriptedBackend } from '../probes/scriptedBackend.ts';
import { close, closeAll, fixture } from './parityHelpers.ts';

interface Expected {
  verdict: string;
  score?: number | null;
  raw?: number | null;
  ft_value?: number;
  message?: string;
  evidence?: Record<string, unknown>;
}

const leakage = fixture<{
  cases: {
    sections: { id: string; kind: string; content: string }[];
    prefix_chars: number;
    continuation_chars: number;
    perturbations: string[];
    generations: Record<string, string>;
    expected: Expected;
  }[];
}>('leakage_probe');

describe('leakage = sway LeakageSusceptibilityProbe', () => {
  it('has at least 200 scripted runs', () => expect(leakage.cases.length).toBeGreaterThanOrEqual(200));
  it.each(leakage.cases.map((c, i) => [i, c.expected.verdict, c] as const))('#%i → %s', async (_i, _v, c) => {
    const gen = (p: string) => {
      const out = c.generations[p];
      if (out === undefined) throw new Error(`unscripted prompt ${JSON.stringify(p)}`);
      return out;
    };
    const run = runProbe(
      'leakage',
      {
        sections: c.sections.map((s) => ({ id: s.id, kind: s.kind, text: s.content })),
        prefix_chars: c.prefix_chars,
        continuation_chars: c.continuation_chars,
        perturbations: c.perturbations,
      },
      scriptedBackend({}, { generate: gen }),
    );
    if (c.expected.verdict === 'skip') {
      await expect(run).rejects.toBeInstanceOf(ProbeSkip);
      return;
    }
    const r = await run;
    const e = c.expected;
    expect(r.verdict).toBe(e.verdict);
    close(r.score, e.score!, 'score');
    close(r.raw, e.raw!, 'raw');
    close(r.ftValue, e.ft_value!, 'ft_value');
    // Python's `:.2f` rounds exact ties to even (0.125 → "0.12"): the message must read the same.
    expect(r.message).toBe(e.message);
    const ev = e.evidence!;
    for (const k of ['mean_clean_recall', 'mean_perturbed_recall', 'mean_fragility'])
      close(r.evidence[k] as number, ev[k] as number, k);
    const ours = r.evidence.per_section as Record<string, unknown>[];
    const theirs = ev.per_section as Record<string, unknown>[];
    expect(ours.map((s) => s.section_id)).toEqual(theirs.map((s) => s.section_id));
    theirs.forEach((s, j) => {
      for (const k of ['clean_recall', 'perturbed_recall', 'fragility'])
        close(ours[j]![k] as number, s[k] as number, `per_section[${j}].${k}`);
    });
  });
});

const style = fixture<{
  cases: {
    base_samples: string[];
    ft_samples: string[];
    doc: string;
    assert_shift_gte: number;
    expected: Expected;
  }[];
}>('style_fingerprint_probe');

describe('style_fingerprint = sway StyleFingerprintProbe', () => {
  it('has at least 200 scripted runs', () => expect(style.cases.length).toBeGreaterThanOrEqual(200));
  it.each(style.cases.map((c, i) => [i, c.expected.verdict, c] as const))('#%i → %s', async (_i, _v, c) => {
    const prompts = c.base_samples.map((_, i) => `p${i}`);
    const pick = (samples: string[]) => (p: string) => samples[Number(p.slice(1))]!;
    const run = runProbe(
      'style_fingerprint',
      // sway reads the document from doc_reference; a blank one is what a missing document looks like.
      { prompts, doc_reference: c.doc, assert_shift_gte: c.assert_shift_gte },
      scriptedBackend({ generate: pick(c.base_samples) }, { generate: pick(c.ft_samples) }),
    );
    const e = c.expected;
    if (e.verdict === 'skip') {
      await expect(run).rejects.toBeInstanceOf(ProbeSkip);
      return;
    }
    const r = await run;
    expect(r.verdict).toBe(e.verdict);
    close(r.score, e.score ?? null, 'score');
    close(r.raw, e.raw ?? null, 'raw');
    for (const k of ['base_fp', 'ft_fp', 'doc_fp'])
      closeAll(r.evidence[k] as number[], e.evidence![k] as number[], k);
    if (e.verdict === 'error') {
      expect(r.evidence.ft_text_is_empty).toBe(e.evidence!.ft_text_is_empty);
      expect(r.evidence.ft_fp_is_zero).toBe(e.evidence!.ft_fp_is_zero);
    } else close(r.evidence.style_shift as number, e.evidence!.style_shift as number, 'style_shift');
  });
});
