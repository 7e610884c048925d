import { describe, expect, it } from 'vitest';
import {
  ReportFormatError,
  fromJsonReport,
  toJsonReport,
  toJunitXml,
  toMarkdownReport,
  toTerminalReport,
} from '../../src/suite/reports/index.ts';
import { DeltascopeError } from '../../src/core/errors.ts';
import { computeScore } from '../../src/suite/score.ts';
import type { SuiteResult } from '../../src/suite/types.ts';
import { fixtureResult } from './reportFixture.ts';

describe('JSON report', () => {
  it("writes sway's keys, schema_version 1, sorted at every level", () => {
    const text = toJsonReport(fixtureResult());
    const obj = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(obj)).toEqual([
      'adapter_id',
      'backend_stats',
      'base_model_id',
      'determinism',
      'finished_at',
      'null_stats',
      'probes',
      'schema_version',
      'score',
      'spec_path',
      'started_at',
      'sway_version',
      'wall_seconds',
    ]);
    expect(obj.schema_version).toBe(1);
    const probe = (obj.probes as Record<string, unknown>[])[0]!;
    expect(Object.keys(probe)).toEqual([
      'base_value',
      'ci_95',
      'duration_s',
      'evidence',
      'ft_value',
      'kind',
      'message',
      'name',
      'raw',
      'score',
      'verdict',
      'z_score',
    ]);
    expect(Object.keys(obj.score as object)).toEqual([
      'band',
      'components',
      'findings',
      'overall',
      'weights',
    ]);
    expect(Object.keys(obj.determinism as object)).toEqual(['class', 'notes', 'seed']);
    expect(text).toMatchSnapshot();
  });

  it('round-trips through fromJsonReport', () => {
    const r = fixtureResult();
    expect(fromJsonReport(toJsonReport(r))).toEqual(r);
  });

  it('writes typed arrays as lists and non-finite numbers as null', () => {
    const r = fixtureResult();
    r.probes[0]!.evidence = { weight: 1, per_prompt: new Float32Array([0.5, 0.25]), bad: NaN };
    const back = JSON.parse(toJsonReport(r)) as { probes: { evidence: Record<string, unknown> }[] };
    expect(back.probes[0]!.evidence).toEqual({ bad: null, per_prompt: [0.5, 0.25], weight: 1 });
  });

  it('reads a sparse report, defaulting what is missing', () => {
    const r = fromJsonReport(
      JSON.stringify({ score: { overall: 0.9 }, probes: [{ name: 'p', kind: 'delta_kl', verdict: 'pass' }] }),
    );
    expect(r.score.band).toBe('suspicious');
    expect(r.score.weights.attribution).toBe(0.35);
    expect(r.backendStats).toEqual({});
    expect(r.probes[0]).toMatchObject({ name: 'p', verdict: 'pass', score: null, ci95: null, durationS: 0 });
    expect(r.determinism).toEqual({ class: 'best_effort', seed: 0, notes: [] });
  });

  it('refuses text that is not a report, naming the input', () => {
    expect(() => fromJsonReport('{oops', 'out.json')).toThrow(ReportFormatError);
    const err = (() => {
      try {
        fromJsonReport('{oops', 'out.json');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DeltascopeError);
    expect(err).toMatchObject({ code: 'input/invalid', input: 'out.json' });
    expect(() => fromJsonReport('{oops', 'out.json')).toThrow(/^out\.json is not valid JSON/);
    expect(() => fromJsonReport('[1]')).toThrow(/expected a JSON object/);
    expect(() => fromJsonReport('{"schema_version": 2}')).toThrow(/schema_version 2/);
  });
});

describe('markdown report', () => {
  it('has the summary lines, components, probes (pipes escaped), findings and skipped probes', () => {
    const md = toMarkdownReport(fixtureResult());
    expect(md).toContain('- **Overall:** 0.61 (healthy)\n');
    expect(md).toContain('- **Base:** `org/base`\n- **Adapter:** `org/ft`\n- **Wall:** 12.5s\n');
    expect(md).toContain('- **Determinism:** best_effort (seed=7)\n');
    expect(md).toContain('- **Backend:** cache: 3/12 = 25% | batches: 2 (avg=4.5) | forward passes: 9');
    expect(md).toContain('| adherence | 0.70 | 0.30 |');
    expect(md).toContain(
      '| kl | delta_kl | PASS | 0.70 | 1,234.568 | [0.100, 0.200] | +11,639.00σ | 0.12s | mean js \\| big |',
    );
    expect(md).toContain('## Skipped probes\n\n- `ablate` (adapter_ablation): backend is not scalable\n');
    expect(md).toMatchSnapshot();
  });
});

describe('JUnit report', () => {
  it('one testsuite named sway with properties, one testcase per probe, XML-escaped', () => {
    const xml = toJunitXml(fixtureResult());
    expect(xml).toContain(
      '<testsuite name="sway" tests="5" failures="1" errors="1" skipped="1" time="12.500"',
    );
    expect(xml).toContain('<property name="overall" value="0.6123"/>');
    expect(xml).toContain('<property name="band" value="healthy"/>');
    expect(xml).toContain('<property name="component.calibration" value="0.25"/>');
    expect(xml).toContain('<testcase classname="delta_kl" name="kl" time="0.123"/>');
    expect(xml).toContain(
      '<failure message="too many &lt;regressions&gt; &amp; &quot;drops&quot;&#10;second line"/>',
    );
    expect(xml).toContain('<skipped message="backend is not scalable"/>');
    expect(xml).toContain(
      '<error message="non-finite critical field(s): raw — probe cannot produce a meaningful result"/>',
    );
    expect(xml).toMatchSnapshot();
  });
});

describe('terminal report', () => {
  it('header, overall, component bars, probe rows and the footer', () => {
    const text = toTerminalReport(fixtureResult());
    const lines = text.split('\n');
    expect(lines[0]).toBe('deltascope report: examples/demo-suite.yaml');
    expect(text).toContain('\noverall: 0.61 (healthy)\n');
    expect(text).toContain('  adherence     0.70  ███████░░░  0.30\n');
    expect(text).toContain('  baseline      1.00  ██████████  (informational, weight=0)\n');
    expect(lines).toContain(
      '  kl      delta_kl           PASS      0.70  1,234.568  [0.100, 0.200]  +11,639.00σ  mean js | big',
    );
    expect(lines).toContain(
      '  ablate  adapter_ablation   SKIP         —          —  —                         —  backend is not scalable',
    );
    expect(text).toContain('findings:\n  - drift (calibration_drift) failed: too many regressions\n');
    expect(lines.at(-2)).toBe(
      'wall 12.5s | deltascope 0.1.0 | det: best_effort (seed=7) | cache: 3/12 = 25% | batches: 2 (avg=4.5)',
    );
    expect(text).toMatchSnapshot();
  });

  it('leaves batches out of the footer when none were sent; nothing scored is 0.00 (noise)', () => {
    const r: SuiteResult = fixtureResult();
    r.backendStats = { ...(r.backendStats as object), batches_sent: 0 } as SuiteResult['backendStats'];
    r.score = computeScore([], () => undefined);
    const text = toTerminalReport(r);
    expect(text).toContain('\noverall: 0.00 (noise)\n');
    expect(text.trimEnd().split('\n').at(-1)).toBe(
      'wall 12.5s | deltascope 0.1.0 | det: best_effort (seed=7) | cache: 3/12 = 25%',
    );
    expect(text).not.toContain('findings:');
  });
});

describe('exact divergences section', () => {
  it('lists the exact full-vocabulary values after sway’s tables, and is absent when no probe has them', () => {
    const plain = fixtureResult();
    expect(toMarkdownReport(plain)).not.toContain('Exact divergences');
    expect(toTerminalReport(plain)).not.toContain('exact divergences');
    const r = fixtureResult();
    r.probes[0]!.evidence = { ...r.probes[0]!.evidence, exact_js: 0.05291, exact_kl: 0.39071 };
    r.probes[1]!.evidence = {
      ...r.probes[1]!.evidence,
      exact_js_per_lambda: [0, 0.01, 0.04],
      exact_kl_per_lambda: [0, 0.02, Infinity],
    };
    const md = toMarkdownReport(r);
    expect(md).toContain('## Exact divergences (full vocabulary)');
    expect(md).toContain(`| ${r.probes[0]!.name} | ${r.probes[0]!.kind} | 0.0529 | 0.3907 |`);
    expect(md).toContain('| 0.0000 / 0.0100 / 0.0400 | 0.0000 / 0.0200 / ∞ |');
    // sway's own tables come first, unchanged.
    expect(md.indexOf('## Probes')).toBeLessThan(md.indexOf('## Exact divergences'));
    expect(toTerminalReport(r)).toMatch(/exact divergences \(full vocabulary/);
  });
});
