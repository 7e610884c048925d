import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProbeResult, Verdict } from '../../src/probes/types.ts';
import {
  DEFAULT_REGRESSION_THRESHOLD,
  buildCompareMatrix,
  compareToJsonObject,
  visibleRows,
  type LabelledReport,
} from '../../src/suite/reports/compare.ts';
import { labelledReportsFromJson } from '../../src/suite/reports/compareInput.ts';
import {
  compareTable,
  fmtDelta,
  toHtmlCompare,
  toMarkdownCompare,
  toTerminalCompare,
} from '../../src/suite/reports/compareRender.ts';
import {
  ReportFormatError,
  fromJsonReport,
  reportToJsonObject,
  toJsonReport,
} from '../../src/suite/reports/json.ts';
import type { SuiteResult } from '../../src/suite/types.ts';
import { fixtureResult } from './reportFixture.ts';

const VERDICTS: Verdict[] = ['pass', 'warn', 'fail', 'skip', 'error'];

function probe(name: string, verdict: Verdict, score: number | null, raw: number | null = null): ProbeResult {
  return {
    name,
    kind: 'delta_kl',
    verdict,
    score,
    raw,
    zScore: null,
    baseValue: null,
    ftValue: null,
    evidence: {},
    message: '',
    durationS: 0,
    ci95: null,
  };
}

function withProbes(probes: ProbeResult[], overall = 0.5): SuiteResult {
  const r = fixtureResult();
  return { ...r, probes, score: { ...r.score, overall } };
}

const pair = (a: SuiteResult, b: SuiteResult): LabelledReport[] => [
  { label: 'a.json', result: a },
  { label: 'b.json', result: b },
];

const arbProbe = fc.record({
  verdict: fc.constantFrom(...VERDICTS),
  score: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
  raw: fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { nil: null }),
});
const arbSuite = fc
  .uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 12 })
  .chain((names) =>
    fc
      .tuple(
        fc.array(arbProbe, { minLength: names.length, maxLength: names.length }),
        fc.double({ min: 0, max: 1, noNaN: true }),
      )
      .map(([ps, overall]) =>
        withProbes(
          names.map((n, i) => probe(n, ps[i]!.verdict, ps[i]!.score, ps[i]!.raw)),
          overall,
        ),
      ),
  );

describe('buildCompareMatrix', () => {
  it('a report compared with itself (and with its JSON round trip) shows no change and no regression', () => {
    fc.assert(
      fc.property(arbSuite, fc.integer({ min: 2, max: 4 }), (r, n) => {
        const again = fromJsonReport(toJsonReport(r));
        const runs = Array.from({ length: n }, (_, i) => ({
          label: `r${i}`,
          result: i % 2 === 0 ? r : again,
        }));
        const m = buildCompareMatrix(runs);
        expect(m.rows.map((row) => row.name)).toEqual(r.probes.map((p) => p.name));
        expect(m.rows.every((row) => !row.changed && !row.regressed)).toBe(true);
        expect(m.regressions).toEqual([]);
        expect(visibleRows(m, true)).toEqual([]);
        for (const row of m.rows) {
          for (const c of row.cells.slice(1)) expect(c.deltaScore === null || c.deltaScore === 0).toBe(true);
        }
        expect(m.runs.slice(1).every((run) => run.deltaOverall === 0)).toBe(true);
      }),
    );
  });

  it('one probe changed by hand is the only changed row', () => {
    fc.assert(
      fc.property(
        arbSuite,
        fc.nat(),
        fc.double({ min: 0.006, max: 1, noNaN: true }),
        fc.boolean(),
        (r, pick, by, up) => {
          const i = pick % r.probes.length;
          const b = structuredClone(r);
          const p = b.probes[i]!;
          // A score that moves visibly, or a score where there was none.
          p.score = p.score === null ? 0.5 : up ? p.score + by : p.score - by;
          const m = buildCompareMatrix(pair(r, b));
          expect(m.rows.filter((row) => row.changed).map((row) => row.name)).toEqual([p.name]);
          expect(visibleRows(m, true).map((row) => row.name)).toEqual([p.name]);
          const t = compareTable(m, true);
          expect(t.rows.map((row) => row.name)).toEqual([p.name]);
          expect(t.hidden).toBe(r.probes.length - 1);
        },
      ),
    );
  });

  it('regression: a worse verdict, or a score ≥ 0.10 below the baseline (sway’s threshold); improvements and skips do not count', () => {
    const base = withProbes([
      probe('verdict_worse', 'pass', 0.8),
      probe('verdict_better', 'fail', 0.3),
      probe('drop_exact', 'pass', 0.7),
      probe('drop_small', 'pass', 0.7),
      probe('to_skip', 'pass', 0.7),
      probe('from_skip', 'skip', null),
      probe('to_error', 'warn', 0.5),
      probe('removed', 'pass', 0.9),
    ]);
    const later = withProbes([
      probe('verdict_worse', 'warn', 0.8),
      probe('verdict_better', 'pass', 0.3),
      probe('drop_exact', 'pass', 0.6),
      probe('drop_small', 'pass', 0.61),
      probe('to_skip', 'skip', null),
      probe('from_skip', 'fail', 0.1),
      probe('to_error', 'error', null),
      probe('added', 'pass', 0.9),
    ]);
    const m = buildCompareMatrix(pair(base, later));
    expect(DEFAULT_REGRESSION_THRESHOLD).toBe(0.1);
    const byName = Object.fromEntries(m.rows.map((r) => [r.name, r]));
    expect(byName.verdict_worse!.cells[1]!.regression).toEqual(['verdict']);
    expect(byName.verdict_better!.regressed).toBe(false);
    expect(byName.drop_exact!.cells[1]!.regression).toEqual(['score']);
    expect(byName.drop_small!.regressed).toBe(false);
    expect(byName.drop_small!.changed).toBe(true);
    expect(byName.to_skip!.regressed).toBe(false);
    expect(byName.to_skip!.changed).toBe(true);
    expect(byName.from_skip!.regressed).toBe(false);
    expect(byName.to_error!.cells[1]!.regression).toEqual(['verdict']);
    expect(byName.removed!.cells[1]!.present).toBe(false);
    expect(byName.removed!.changed).toBe(true);
    expect(byName.removed!.regressed).toBe(false);
    expect(byName.added!.cells[0]!.present).toBe(false);
    expect(byName.added!.changed).toBe(true);
    // Baseline order, then the probe only the later run has.
    expect(m.rows.at(-1)!.name).toBe('added');
    expect(m.regressions.map((r) => r.probe).sort()).toEqual(['drop_exact', 'to_error', 'verdict_worse']);
    // Worst score drop first.
    expect(m.regressions[0]!.probe).toBe('drop_exact');

    // A stricter threshold makes the small drop a regression too.
    const strict = buildCompareMatrix(pair(base, later), { regressionThreshold: 0.05 });
    expect(strict.regressions.map((r) => r.probe)).toContain('drop_small');
  });

  it('compares every later run with the first (the baseline), not with the run before it', () => {
    const a = withProbes([probe('p', 'pass', 0.9)], 0.6);
    const b = withProbes([probe('p', 'pass', 0.85)], 0.55);
    const c = withProbes([probe('p', 'pass', 0.78)], 0.5);
    const m = buildCompareMatrix([
      { label: 'a', result: a },
      { label: 'b', result: b },
      { label: 'c', result: c },
    ]);
    const cells = m.rows[0]!.cells;
    expect(cells[1]!.deltaScore).toBeCloseTo(-0.05, 12);
    expect(cells[2]!.deltaScore).toBeCloseTo(-0.12, 12);
    expect(cells[1]!.regression).toEqual([]);
    expect(cells[2]!.regression).toEqual(['score']);
    expect(m.regressions.map((r) => r.label)).toEqual(['c']);
    expect(m.runs.map((r) => r.deltaOverall)).toEqual([
      null,
      expect.closeTo(-0.05, 12),
      expect.closeTo(-0.1, 12),
    ]);
  });

  it('refuses fewer than two reports', () => {
    expect(() => buildCompareMatrix([{ label: 'a', result: fixtureResult() }])).toThrow(/at least two/);
  });
});

describe('compare renderers', () => {
  const base = withProbes(
    [probe('kl', 'pass', 0.7, 1.5), probe('same', 'pass', 0.5), probe('a|b <script>', 'warn', 0.4)],
    0.61,
  );
  const later = withProbes(
    [probe('kl', 'fail', 0.4, 0.9), probe('same', 'pass', 0.5), probe('a|b <script>', 'warn', 0.45)],
    0.5,
  );
  const m = buildCompareMatrix(pair(base, later));

  it('terminal: one row per probe, regressions marked !, changes *, and listed under the table', () => {
    const text = toTerminalCompare(m);
    expect(text).toMatch(/^deltascope compare — 2 runs, baseline a\.json\n/);
    expect(text).toMatch(/\n {2}! +kl +PASS {2}0\.70 +1\.500 +FAIL {2}0\.40 +0\.900 +-0\.30\n/);
    expect(text).toMatch(/\n {2}\* +a\|b <script> +WARN {2}0\.40 .* \+0\.05\n/);
    expect(text).toMatch(/\n {5}same +PASS {2}0\.50/);
    expect(text).toMatch(/composite +0\.61 healthy +0\.50 healthy +-0\.11/);
    expect(text).toContain('\n  b.json: kl: PASS → FAIL, score -0.300\n');
    const only = toTerminalCompare(m, { onlyChanged: true });
    expect(only).not.toMatch(/\n +same /);
    expect(only).toContain('1 unchanged probe not shown');
  });

  it('markdown: escapes pipes in cells, marks the status in words and lists regressions', () => {
    const md = toMarkdownCompare(m);
    expect(md).toContain('| regressed | kl | PASS  0.70 | 1.500 | FAIL  0.40 | 0.900 | -0.30 |');
    expect(md).toContain('| changed | a\\|b <script> |');
    expect(md).toContain('- b.json: kl: PASS → FAIL, score -0.300');
  });

  it('HTML: self-contained (no URL, no script), user text escaped, rows classed for the CSS-only filter', () => {
    const html = toHtmlCompare(m, { onlyChanged: true });
    expect(html).not.toMatch(/https?:|<script|src=|@import|url\(/i);
    expect(html).toContain('a|b &lt;script&gt;');
    expect(html).toContain('<input type="checkbox" id="only-changed" checked>');
    expect(html).toMatch(/<tr class="regressed"><td>regressed<\/td><td>kl<\/td>/);
    expect(html).toMatch(/<tr class="same"><td><\/td><td>same<\/td>/);
    expect(html).toContain('#only-changed:checked ~ table tr.same { display: none; }');
  });

  it('JSON: every cell and regression, with the thresholds', () => {
    const j = compareToJsonObject(m) as {
      baseline: string;
      regression_threshold: number;
      probes: { name: string; cells: { delta_score: number | null }[] }[];
      regressions: { probe: string; run: string; reasons: string[] }[];
    };
    expect(j.baseline).toBe('a.json');
    expect(j.regression_threshold).toBe(0.1);
    expect(j.probes[0]!.cells[1]!.delta_score).toBeCloseTo(-0.3, 12);
    expect(j.regressions).toEqual([
      {
        probe: 'kl',
        run: 'b.json',
        reasons: ['verdict', 'score'],
        from_verdict: 'pass',
        to_verdict: 'fail',
        delta_score: expect.closeTo(-0.3, 12),
      },
    ]);
  });

  it('fmtDelta writes sway’s signed two decimals', () => {
    expect(fmtDelta(0.05)).toBe('+0.05');
    expect(fmtDelta(-0.3)).toBe('-0.30');
    expect(fmtDelta(1e-6)).toBe('0.00');
    expect(fmtDelta(null)).toBe('—');
  });
});

describe('labelledReportsFromJson', () => {
  it('a report is one run; a sweep report is one run per result, in adapter order', () => {
    const r = fixtureResult();
    expect(labelledReportsFromJson(toJsonReport(r), 'a.json')).toEqual([
      { label: 'a.json', result: fromJsonReport(toJsonReport(r)) },
    ]);
    const other = { ...r, adapterId: 'ckpt-2' };
    const sweep = {
      schema: 'deltascope.sweep',
      schema_version: 1,
      sweep: { adapters: [] },
      runs: [{ shard: { index: 1, count: 1 } }],
      results: [
        { index: 1, label: 'checkpoint-2', ref: 'runs/checkpoint-2', report: reportToJsonObject(other) },
        { index: 0, label: 'checkpoint-1', ref: 'runs/checkpoint-1', report: reportToJsonObject(r) },
      ],
    };
    const runs = labelledReportsFromJson(JSON.stringify(sweep), 'sweep.json');
    expect(runs.map((x) => x.label)).toEqual(['sweep.json:checkpoint-1', 'sweep.json:checkpoint-2']);
    expect(runs[1]!.result.adapterId).toBe('ckpt-2');
    expect(runs[0]!.result.probes).toHaveLength(r.probes.length);
  });

  it('a sweep result without a report, and text that is not JSON, are refused naming the file', () => {
    const bad = JSON.stringify({ results: [{ index: 0, label: 'x' }] });
    expect(() => labelledReportsFromJson(bad, 'sweep.json')).toThrow(ReportFormatError);
    expect(() => labelledReportsFromJson(bad, 'sweep.json')).toThrow(
      /sweep\.json \(results\[0\]\) holds no report/,
    );
    expect(() => labelledReportsFromJson('{', 'x.json')).toThrow(/x\.json is not valid JSON/);
  });
});
