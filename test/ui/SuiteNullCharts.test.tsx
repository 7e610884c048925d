// @vitest-environment jsdom
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { ProbeResult } from '../../src/probes/types.ts';
import { nullContexts } from '../../src/ui/nullCalibration.ts';
import { AblationCurve } from '../../src/ui/SuiteCharts.tsx';
import { SuitePanel } from '../../src/ui/SuitePanel.tsx';
import type { SuiteValidation } from '../../src/worker/workbenchApi.ts';
import { fixtureResult } from '../suite/reportFixture.ts';
import { current } from './setup.ts';

vi.mock('../../src/ui/workerClient.ts', async (importOriginal) => {
  const { current } = await import('./setup.ts');
  const orig = await importOriginal<typeof import('../../src/ui/workerClient.ts')>();
  return { ...orig, workbench: () => current.fake.api };
});

const VALID: SuiteValidation = { ok: true, issues: [], probes: [] };

function probe(name: string, kind: string, extra: Partial<ProbeResult> = {}): ProbeResult {
  return {
    name,
    kind,
    verdict: 'pass',
    score: 0.9,
    raw: null,
    zScore: null,
    baseValue: null,
    ftValue: null,
    evidence: {},
    message: '',
    durationS: 0.1,
    ci95: null,
    ...extra,
  };
}

const NULLS = probe('nulls', 'null_adapter', {
  score: 1,
  evidence: {
    null_stats: {
      delta_kl: { mean: 0.02, std: 0.01, n: 3, degenerate: 0 },
      'delta_kl@exact': { mean: 0.005, std: 0.002, n: 3, degenerate: 0 },
    },
    per_kind_raw_samples: { delta_kl: [0.01, 0.02, 0.03], 'delta_kl@exact': [0.003, 0.005, 0.007] },
  },
});
const KL = probe('topic_shift', 'delta_kl', { raw: 0.41, zScore: 38.2, evidence: { method: 'topk' } });

describe('null distribution beside each z-score', () => {
  it('nullContexts: the stats and samples of the kind (or <kind>@exact) from an earlier null_adapter', () => {
    const exact = probe('exact_shift', 'delta_kl', { raw: 0.2, zScore: 97, evidence: { method: 'exact' } });
    const early = probe('early', 'delta_kl', { raw: 0.3, zScore: 1 });
    const noZ = probe('noz', 'delta_kl', { raw: 0.3 });
    const other = probe('other', 'style_fingerprint', { raw: 0.3, zScore: 2 });
    const ctx = nullContexts([early, NULLS, KL, exact, noZ, other]);
    expect(ctx[0]).toBeNull();
    expect(ctx[1]).toBeNull();
    expect(ctx[2]).toEqual({
      key: 'delta_kl',
      stats: { mean: 0.02, std: 0.01, n: 3, degenerate: 0 },
      samples: [0.01, 0.02, 0.03],
    });
    expect(ctx[3]?.key).toBe('delta_kl@exact');
    expect(ctx[3]?.samples).toEqual([0.003, 0.005, 0.007]);
    expect(ctx[4]).toBeNull();
    expect(ctx[5]).toBeNull();
  });

  it('a later null_adapter overrides a kind; stats without recorded samples draw no dots', () => {
    const again = probe('nulls2', 'null_adapter', {
      evidence: { null_stats: { delta_kl: { mean: 0.1, std: 0.05, n: 2 } } },
    });
    const ctx = nullContexts([NULLS, again, KL]);
    expect(ctx[2]).toEqual({ key: 'delta_kl', stats: { mean: 0.1, std: 0.05, n: 2 }, samples: [] });
  });

  it('the suite table draws it in the z cell, with the numbers as its text alternative', async () => {
    current.fake.api.validateSuite.mockResolvedValue(VALID);
    current.fake.api.runSuite.mockResolvedValue({ ...fixtureResult(), probes: [NULLS, KL] });
    render(<SuitePanel ready />);
    const run = screen.getByRole('button', { name: 'Run suite' }) as HTMLButtonElement;
    await waitFor(() => expect(run.disabled).toBe(false));
    await act(async () => fireEvent.click(run));
    const chart = screen.getByTestId('null-dist-topic_shift');
    expect(chart.getAttribute('aria-label')).toBe('raw 0.41 vs null 0.02 ± 0.01 (n=3), z = 38.2');
    expect(screen.getByRole('img', { name: 'raw 0.41 vs null 0.02 ± 0.01 (n=3), z = 38.2' })).toBe(chart);
    expect(chart.closest('td')?.textContent).toContain('+38.20σ');
    const dots = [...chart.querySelectorAll('circle.null-sample')].map((c) => Number(c.getAttribute('cx')));
    expect(dots).toHaveLength(3);
    // The raw (0.41) sits far right of every null sample (≤ 0.03), in proportion.
    const rawX = Number(chart.querySelector('line[stroke="#b91c1c"]')!.getAttribute('x1'));
    expect(dots.every((x) => x < rawX)).toBe(true);
    const [a, b, c] = dots as [number, number, number];
    expect(b - a).toBeCloseTo(c - b, 6);
    expect((rawX - c) / (c - a)).toBeCloseTo((0.41 - 0.03) / (0.03 - 0.01), 6);
    // The null_adapter row itself has no z-score and no chart.
    expect(screen.queryByTestId('null-dist-nulls')).toBeNull();
  });
});

describe('ablation curve', () => {
  it('one point per λ, higher divergence drawn higher, λ = 1 marked, values in the text', () => {
    render(
      <AblationCurve
        lambdas={[0, 0.5, 1, 1.5]}
        values={[0, 0.02, 0.05, 0.09]}
        measure="exact JS over the full vocabulary"
      />,
    );
    const svg = screen.getByRole('img', { name: /^ablation curve/ });
    expect(svg.getAttribute('aria-label')).toBe(
      'ablation curve, divergence by λ: λ 0: 0, λ 0.5: 0.02, λ 1: 0.05, λ 1.5: 0.09',
    );
    const pts = screen.getAllByTestId('ablation-point');
    expect(pts).toHaveLength(4);
    const ys = pts.map((p) => Number(p.getAttribute('cy')));
    const xs = pts.map((p) => Number(p.getAttribute('cx')));
    for (let i = 1; i < 4; i++) {
      expect(ys[i]!).toBeLessThan(ys[i - 1]!);
      expect(xs[i]!).toBeGreaterThan(xs[i - 1]!);
    }
    expect(screen.getByTestId('ablation-ft-marker').getAttribute('x1')).toBe(String(xs[2]));
  });

  it('no λ = 1 marker when the sweep does not reach it', () => {
    render(<AblationCurve lambdas={[-1, 0, 0.5]} values={[0.1, 0, 0.03]} measure="m" />);
    expect(screen.queryByTestId('ablation-ft-marker')).toBeNull();
    expect(screen.getAllByTestId('ablation-point')).toHaveLength(3);
  });
});
