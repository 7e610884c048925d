import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProbeResult, Verdict } from '../../src/probes/types.ts';
import {
  DEFAULT_REGRESSION_THRESHOLD,
  RAW_CHANGE_RTOL,
  buildCompareMatrix,
  rawChanged,
  compareToJsonObject,
  visibleRows,
  type LabelledReport,
} from '../../src/suite/reports/compare.ts';
import { labelledReportsFromJson } from '../../src/suite/reports/compareInput.ts';
import {
  COMPARE_HTML_CSP,
  compareTable,
  describeRegression,
  fmtDelta,
  regressionRule,
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

  it('regression: a worse verdict, a score ≥ 0.10 below the baseline (sway’s threshold), a missing, skipped or unscored probe, a new failure; improvements do not count', () => {
    const base = withProbes([
      probe('verdict_worse', 'pass', 0.8),
      probe('verdict_better', 'fail', 0.3),
      probe('drop_exact', 'pass', 0.7),
      probe('drop_small', 'pass', 0.7),
      probe('to_skip', 'pass', 0.7),
      probe('warn_to_skip', 'warn', 0.5),
      probe('fail_to_skip', 'fail', 0.2),
      probe('skip_to_skip', 'skip', null),
      probe('from_skip', 'skip', null),
      probe('skip_to_pass', 'skip', null),
      probe('to_error', 'warn', 0.5),
      probe('score_lost', 'pass', 0.9),
      probe('never_scored', 'pass', null),
      probe('removed', 'pass', 0.9),
      probe('removed_skip', 'skip', null),
    ]);
    const later = withProbes([
      probe('verdict_worse', 'warn', 0.8),
      probe('verdict_better', 'pass', 0.3),
      probe('drop_exact', 'pass', 0.6),
      probe('drop_small', 'pass', 0.61),
      probe('to_skip', 'skip', null),
      probe('warn_to_skip', 'skip', null),
      probe('fail_to_skip', 'skip', null),
      probe('skip_to_skip', 'skip', null),
      probe('from_skip', 'fail', 0.1),
      probe('skip_to_pass', 'pass', 0.9),
      probe('to_error', 'error', null),
      probe('score_lost', 'pass', Number.NaN),
      probe('never_scored', 'pass', null),
      probe('added', 'pass', 0.9),
      probe('added_fail', 'fail', 0.1),
      probe('added_error', 'error', null),
      probe('added_skip', 'skip', null),
    ]);
    const m = buildCompareMatrix(pair(base, later));
    expect(DEFAULT_REGRESSION_THRESHOLD).toBe(0.1);
    const byName = Object.fromEntries(m.rows.map((r) => [r.name, r]));
    const reasons = (name: string) => byName[name]!.cells[1]!.regression;
    expect(reasons('verdict_worse')).toEqual(['verdict']);
    expect(byName.verdict_better!.regressed).toBe(false);
    expect(reasons('drop_exact')).toEqual(['score']);
    expect(byName.drop_small!.regressed).toBe(false);
    expect(byName.drop_small!.changed).toBe(true);
    // A probe the baseline ran and the later run skipped: it silently stopped running.
    expect(reasons('to_skip')).toEqual(['skipped']);
    expect(reasons('warn_to_skip')).toEqual(['skipped']);
    expect(reasons('fail_to_skip')).toEqual(['skipped']);
    expect(byName.skip_to_skip!.regressed).toBe(false);
    expect(byName.skip_to_skip!.changed).toBe(false);
    // A failure where the baseline has no result (skipped there, or absent).
    expect(reasons('from_skip')).toEqual(['new-failure']);
    expect(byName.skip_to_pass!.regressed).toBe(false);
    expect(byName.skip_to_pass!.changed).toBe(true);
    expect(reasons('to_error')).toEqual(['verdict', 'no-score']);
    // 0.9 → NaN with the same verdict: the score is gone.
    expect(reasons('score_lost')).toEqual(['no-score']);
    expect(byName.score_lost!.cells[1]!.score).toBeNull();
    expect(byName.never_scored!.changed).toBe(false);
    // In the baseline, absent later: a regression, whatever the baseline verdict.
    expect(byName.removed!.cells[1]!.present).toBe(false);
    expect(reasons('removed')).toEqual(['missing']);
    expect(reasons('removed_skip')).toEqual(['missing']);
    expect(byName.added!.cells[0]!.present).toBe(false);
    expect(byName.added!.changed).toBe(true);
    expect(byName.added!.regressed).toBe(false);
    expect(reasons('added_fail')).toEqual(['new-failure']);
    expect(reasons('added_error')).toEqual(['new-failure']);
    expect(byName.added_skip!.regressed).toBe(false);
    // Baseline order, then the probes only the later run has, in its order.
    expect(m.rows.slice(-4).map((r) => r.name)).toEqual(['added', 'added_fail', 'added_error', 'added_skip']);
    expect(m.regressions.map((r) => r.probe).sort()).toEqual(
      [
        'added_error',
        'added_fail',
        'drop_exact',
        'fail_to_skip',
        'from_skip',
        'removed',
        'removed_skip',
        'score_lost',
        'to_error',
        'to_skip',
        'verdict_worse',
        'warn_to_skip',
      ].sort(),
    );
    // Worst score drop first.
    expect(m.regressions[0]!.probe).toBe('drop_exact');
    expect(m.rows.filter((r) => r.regressed).every((r) => r.changed)).toBe(true);

    // A stricter threshold makes the small drop a regression too.
    const strict = buildCompareMatrix(pair(base, later), { regressionThreshold: 0.05 });
    expect(strict.regressions.map((r) => r.probe)).toContain('drop_small');
  });

  it('a raw change is a change (relative tolerance 1e-9), not a regression: a score clamped at 1.00 while raw goes 5 → 50', () => {
    expect(RAW_CHANGE_RTOL).toBe(1e-9);
    const base = withProbes([
      probe('clamped', 'pass', 1, 5),
      probe('noise', 'pass', 1, 1e6),
      probe('tiny', 'pass', 0.5, 0),
      probe('raw_gone', 'pass', 0.5, 2),
    ]);
    const later = withProbes([
      probe('clamped', 'pass', 1, 50),
      probe('noise', 'pass', 1, 1e6 * (1 + 1e-12)),
      probe('tiny', 'pass', 0.5, 1e-8),
      probe('raw_gone', 'pass', 0.5, null),
    ]);
    const m = buildCompareMatrix(pair(base, later));
    expect(visibleRows(m, true).map((r) => r.name)).toEqual(['clamped', 'tiny', 'raw_gone']);
    expect(m.regressions).toEqual([]);
    expect(m.rows[0]!.cells[1]!.deltaRaw).toBe(45);
    expect(rawChanged(5, 50)).toBe(true);
    expect(rawChanged(1e6, 1e6 + 1e-4)).toBe(false);
    expect(rawChanged(0, 2e-9)).toBe(true);
    expect(rawChanged(0, 5e-10)).toBe(false);
    expect(toTerminalCompare(m, { onlyChanged: true })).toMatch(
      /\n {2}\* +clamped +PASS {2}1\.00 +5\.000 +PASS {2}1\.00 +50\.000/,
    );
  });

  it('removing any probe from a later run is a regression (missing) of that probe', () => {
    fc.assert(
      fc.property(arbSuite, fc.nat(), fc.integer({ min: 1, max: 3 }), fc.nat(), (r, pick, n, at) => {
        const i = pick % r.probes.length;
        const removed = r.probes[i]!.name;
        const without: SuiteResult = { ...r, probes: r.probes.filter((_, j) => j !== i) };
        // The later runs are copies of the baseline; one of them lacks the probe.
        const runs = [r, ...Array.from({ length: n }, () => r)];
        const k = 1 + (at % n);
        runs[k] = without;
        const m = buildCompareMatrix(runs.map((result, j) => ({ label: `r${j}`, result })));
        expect(m.regressions).toEqual([
          expect.objectContaining({ probe: removed, run: k, reasons: ['missing'] }),
        ]);
        const row = m.rows.find((x) => x.name === removed)!;
        expect(row.regressed && row.changed).toBe(true);
        expect(row.cells[k]!.present).toBe(false);
      }),
    );
  });

  it('a report compared with itself never regresses, whatever it holds', () => {
    fc.assert(
      fc.property(arbSuite, (r) => {
        const m = buildCompareMatrix(pair(r, r));
        expect(m.regressions).toEqual([]);
        expect(m.rows.some((row) => row.regressed || row.changed)).toBe(false);
      }),
    );
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

  it('HTML: a Content-Security-Policy that lets nothing load and no script run (as the HTML report’s, without its script)', () => {
    const html = toHtmlCompare(m);
    expect(COMPARE_HTML_CSP).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
    );
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; base-uri &#39;none&#39;; form-action &#39;none&#39;">`,
    );
    // Before anything else in <head> can load or apply.
    expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('<style>'));
    expect(COMPARE_HTML_CSP).not.toMatch(/script-src/);
  });

  it('every regression reason is described in words, and the rule names them all', () => {
    const base = withProbes([
      probe('gone', 'pass', 0.7),
      probe('ran', 'warn', 0.5),
      probe('scored', 'pass', 0.9),
    ]);
    const later = withProbes([
      probe('ran', 'skip', null),
      probe('scored', 'pass', null),
      probe('new', 'fail', 0.1),
    ]);
    const mm = buildCompareMatrix(pair(base, later));
    expect(mm.regressions.map(describeRegression).sort()).toEqual(
      ['gone: missing (was PASS)', 'new: new, FAIL', 'ran: WARN → SKIP', 'scored: score → none'].sort(),
    );
    const rule = regressionRule(mm);
    for (const word of ['worse', '0.10 below', 'missing', 'skipped', 'without a score', 'fail/error']) {
      expect(rule).toContain(word);
    }
    expect(toMarkdownCompare(mm)).toContain('- b.json: gone: missing (was PASS)');
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

  it('reads strictly: JSON that is not a report is refused (input/invalid) naming the file, never read as an empty report', () => {
    const good = reportToJsonObject(fixtureResult());
    const bad: [unknown, RegExp][] = [
      [{}, /^empty\.json is not a report: `probes` is missing, expected an array/],
      [{ probes: { a: 1 } }, /^empty\.json is not a report: `probes` is an object, expected an array/],
      [{ probes: [1, null, 'x'] }, /^empty\.json is not a report: probes\[0\] is a number/],
      [{ ...good, probes: [{ name: 'a' }, { verdict: 'pass' }] }, /probes\[1\] has no string `name`/],
      [{ probes: [] }, /^empty\.json is not a report: `score\.overall` is missing, expected a number/],
      [{ ...good, score: { overall: null } }, /`score\.overall` is null/],
      [[good], /^empty\.json is not a report: expected a JSON object, got an array/],
      [null, /got null/],
    ];
    for (const [value, message] of bad) {
      let err: unknown;
      try {
        labelledReportsFromJson(JSON.stringify(value), 'empty.json');
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(value)).toBeInstanceOf(ReportFormatError);
      expect((err as ReportFormatError).code).toBe('input/invalid');
      expect((err as ReportFormatError).message).toMatch(message);
      // fromJsonReport itself stays lenient for its other callers.
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        expect(() => fromJsonReport(JSON.stringify(value))).not.toThrow();
      }
    }
    // A report with no probes but a score is a report (every baseline probe is then missing).
    expect(labelledReportsFromJson(JSON.stringify({ ...good, probes: [] }), 'none.json')).toHaveLength(1);
  });

  it('a sweep entry whose report is not a report is refused naming the file and results[i] (its place in the file)', () => {
    const good = reportToJsonObject(fixtureResult());
    const sweep = {
      results: [
        { index: 1, label: 'ckpt-2', report: { probes: [] } },
        { index: 0, label: 'ckpt-1', report: good },
      ],
    };
    expect(() => labelledReportsFromJson(JSON.stringify(sweep), 'sweep.json')).toThrow(
      /^sweep\.json \(results\[0\]\) is not a report: `score\.overall` is missing/,
    );
    const entryIsReport = { results: [good, { probes: [{ name: 1 }], score: { overall: 1 } }] };
    expect(() => labelledReportsFromJson(JSON.stringify(entryIsReport), 'sweep.json')).toThrow(
      /^sweep\.json \(results\[1\]\) is not a report: probes\[0\] has no string `name`/,
    );
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
