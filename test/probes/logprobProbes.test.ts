// The log-prob probes (preference_flip, calibration_drift, external_perplexity,
// section_internalization, paraphrase_invariance) on hand-written backends: each pinned to its
// verdict and numbers, with the expected values worked out in the comments.
import { describe, expect, it } from 'vitest';
import { CALIBRATION_PACK } from '../../src/probes/data/calibrationPack.ts';
import type { DocSection } from '../../src/probes/types.ts';
import { runProbe as run, scriptedBackend, type Script } from './scriptedBackend.ts';

describe('preference_flip', () => {
  const margins: Record<string, [number, number]> = {
    // prompt: [base margin, ft margin]; margin = lp(chosen) − lp(rejected)
    p1: [-1, 1],
    p2: [-2, -1],
    p3: [-0.5, 0.5],
    p4: [1, 2],
  };
  const script = (side: 0 | 1): Script => ({
    logprob: (p, c) => (c === 'yes' ? margins[p]![side] : 0),
  });
  const triples = Object.keys(margins).map((prompt) => ({ prompt, chosen: 'yes', rejected: 'no' }));

  it('flip rate over base-wrong triples: 2 of 3 = 0.667 < 0.7 → FAIL', async () => {
    const r = await run('preference_flip', { triples }, scriptedBackend(script(0), script(1)));
    expect(r.raw!).toBeCloseTo(2 / 3, 12);
    expect(r.verdict).toBe('fail');
    expect(r.score!).toBeCloseTo(2 / 3, 12);
    expect(r.evidence.base_wrong).toBe(3);
  });

  it('the same flips against a 0.6 threshold → PASS', async () => {
    const r = await run(
      'preference_flip',
      { triples, assert_flip_rate_gte: 0.6 },
      scriptedBackend(script(0), script(1)),
    );
    expect(r.verdict).toBe('pass');
  });

  it('WARNs with fewer than 3 base-wrong triples: score clip(0.5 + meanΔ/4)', async () => {
    const r = await run(
      'preference_flip',
      { triples: triples.slice(2) },
      scriptedBackend(script(0), script(1)),
    );
    // Δ = (0.5 − −0.5, 2 − 1) = (1, 1) → 0.5 + 1/4
    expect(r.verdict).toBe('warn');
    expect(r.score!).toBeCloseTo(0.75, 12);
  });
});

describe('calibration_drift', () => {
  const items = CALIBRATION_PACK.slice(0, 4);

  it('δ per item = (lp_ft − lp_base)/max(1, len(gold)//4); one of 4 regressed → FAIL', async () => {
    // ft loses 10 nats on the first item only. " Paris" has 6 chars → 1 token.
    const b = scriptedBackend({ logprob: () => -2 }, { logprob: (p) => (p === items[0]![0] ? -12 : -2) });
    const r = await run('calibration_drift', { items_limit: 4 }, b);
    expect(r.raw).toBe(0.25);
    expect(r.ftValue!).toBeCloseTo(-10 / 4, 12);
    // frac 0.25 ≥ 0.15 → FAIL; score 0.6·max(0, 1 − 0.25/0.15) + 0.4·clip((−2.5 + 1)/1.5) = 0
    expect(r.verdict).toBe('fail');
    expect(r.score).toBe(0);
  });

  it('no regression and a small mean loss → PASS', async () => {
    // δ = −0.3 on every item: none below −1, mean −0.3 ≥ −0.5.
    const b = scriptedBackend({ logprob: () => -2 }, { logprob: () => -2.3 });
    const r = await run('calibration_drift', { items_limit: 4 }, b);
    expect(r.raw).toBe(0);
    expect(r.verdict).toBe('pass');
    // 0.6·1 + 0.4·clip((−0.3 + 1)/1.5)
    expect(r.score!).toBeCloseTo(0.6 + (0.4 * 0.7) / 1.5, 6);
  });
});

describe('calibration_drift as sway reports it', () => {
  it('sway’s evidence keys, worst offenders, message; inline items replace the pack; a 0 threshold scores, not NaN', async () => {
    const b = scriptedBackend(
      { logprob: () => -2 },
      { logprob: (p) => (p === 'Q1' ? -12 : p === 'Q2' ? -7 : -2.1) },
    );
    const items = [
      ['Q1', ' answer one'],
      ['Q2', ' answer two'],
      ['Q3', ' three'],
    ];
    const r = await run('calibration_drift', { items, assert_fraction_regressed_lt: 0 }, b);
    // " answer one" is 11 code points → 2 tokens: δ = −5, −2.5, −0.1/1.
    expect(r.evidence).toMatchObject({
      fraction_regressed: 2 / 3,
      regressed_count: 2,
      total_items: 3,
      regression_nats_threshold: 1,
      worst_offenders: [
        { prompt: 'Q1', gold: ' answer one', delta: -5 },
        { prompt: 'Q2', gold: ' answer two', delta: -2.5 },
      ],
    });
    expect(r.evidence.mean_delta_nats as number).toBeCloseTo((-5 - 2.5 - 0.1) / 3, 12);
    expect(r.message).toBe('2/3 items regressed >1.0 nats (frac=66.7%), mean_delta=-2.533 nats/tok');
    expect(r.verdict).toBe('fail');
    expect(Number.isFinite(r.score)).toBe(true);
    expect(r.ci95).toBeNull();
  });
});

describe('external_perplexity', () => {
  it('mean δ of per-chunk mean log-probs −0.05 ≥ −0.1 → PASS; score clip(0.5 + δ)', async () => {
    const b = scriptedBackend({ rolling: () => [-3, -3] }, { rolling: () => [-3, -3.1] });
    const r = await run('external_perplexity', { chunk_chars: 4096, max_chunks: 3 }, b);
    expect(r.raw!).toBeCloseTo(-0.05, 6);
    expect(r.verdict).toBe('pass');
    expect(r.score!).toBeCloseTo(0.45, 6);
  });

  it('a mean loss of 0.2 nats/token → FAIL', async () => {
    const b = scriptedBackend({ rolling: () => [-3, -3] }, { rolling: () => [-3.2, -3.2] });
    const r = await run('external_perplexity', { chunk_chars: 4096, max_chunks: 3 }, b);
    expect(r.raw!).toBeCloseTo(-0.2, 6);
    expect(r.verdict).toBe('fail');
    expect(r.score!).toBeCloseTo(0.3, 6);
  });
});

describe('section_internalization', () => {
  const sections: DocSection[] = [
    { id: 's1', kind: 'prose', text: 'one' },
    { id: 's2', kind: 'prose', text: 'two' },
    { id: 's3', kind: 'prose', text: 'three' },
  ];

  it('effective = own − mean(own of others): s1 0.5, s2 −0.5 → half pass → PASS', async () => {
    const b = scriptedBackend(
      { rolling: () => [-2, -2] },
      { rolling: (t) => (t === 'one' ? [-1, -1] : [-2, -2]) },
    );
    const r = await run('section_internalization', { sections: sections.slice(0, 2) }, b);
    // own: s1 (2 − 1)/2 = 0.5, s2 0 → effective 0.5, −0.5
    expect(r.raw!).toBeCloseTo(0, 12);
    expect(r.score).toBe(0.5);
    expect(r.verdict).toBe('pass');
  });

  it('one section of three learned → 1/3 < 0.5 → FAIL', async () => {
    const b = scriptedBackend(
      { rolling: () => [-2, -2] },
      { rolling: (t) => (t === 'one' ? [-1, -1] : [-2, -2]) },
    );
    const r = await run('section_internalization', { sections }, b);
    // own: 0.5, 0, 0 → effective 0.5, −0.25, −0.25
    expect(r.raw!).toBeCloseTo(0, 12);
    expect(r.score!).toBeCloseTo(1 / 3, 12);
    expect(r.verdict).toBe('fail');
  });

  it('SKIPs with fewer than two sections', async () => {
    await expect(run('section_internalization', { sections: sections.slice(0, 1) })).rejects.toThrow(
      /at least 2/,
    );
  });
});

describe('paraphrase_invariance', () => {
  const cases = [{ prompt: 'q', gold: 'abcdefgh', paraphrases: ['q2'] }];

  it('verbatim lift 2 ≥ 0.2 and ratio 0.5 ≥ 0.5 (generalize) → PASS', async () => {
    // gold "abcdefgh" → 2 tokens; verbatim lift (−2 − −6)/2 = 2; paraphrase lift (−4 − −6)/2 = 1 → ratio 0.5
    const b = scriptedBackend({ logprob: () => -6 }, { logprob: (p) => (p === 'q' ? -2 : -4) });
    const r = await run('paraphrase_invariance', { cases }, b);
    expect(r.raw).toBe(2);
    expect(r.evidence.ratio).toBe(0.5);
    expect(r.verdict).toBe('pass');
    expect(r.score).toBe(1);
  });

  it('a lift that does not survive paraphrase: ratio 0.125 < 0.5 → FAIL', async () => {
    // paraphrase lift (−5.5 − −6)/2 = 0.25 → ratio 0.125
    const b = scriptedBackend({ logprob: () => -6 }, { logprob: (p) => (p === 'q' ? -2 : -5.5) });
    const r = await run('paraphrase_invariance', { cases }, b);
    expect(r.evidence.ratio).toBe(0.125);
    expect(r.verdict).toBe('fail');
    // 0.5·clip(2/0.2) + 0.5·clip(0.125/0.5)
    expect(r.score).toBe(0.625);
    // …which is what a memorize intent asks for.
    const memorize = await run('paraphrase_invariance', { cases, intent: 'memorize' }, b);
    expect(memorize.verdict).toBe('pass');
  });
});
