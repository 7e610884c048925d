import { pyFixed } from '../../core/index.ts';
import type { TraceAnalysis } from '../../core/traceAnalysis.ts';
import { sortedJsonValue } from '../../core/sortedJson.ts';
import { CATEGORIES, type ProbeResult, type Verdict } from '../../probes/types.ts';
import { hygieneLines } from '../promptHygiene.ts';
import type { SuiteResult } from '../types.ts';
import { MISSING, fmtCi, fmtDuration, fmtRaw, fmtScore, fmtZ } from './format.ts';
import { calibrations, nullCalibrationHtml, nullLabel, type Calibration } from './htmlNull.ts';
import { pinsHtml, type ReportPin } from './htmlPins.ts';
import { provenanceBodyHtml } from './htmlProvenance.ts';
import { htmlDocument } from './htmlStyle.ts';
import { traceBodyHtml } from './htmlTrace.ts';
import {
  barsSvg,
  dataValue,
  esc,
  figure,
  gaugeSvg,
  jsonNumber,
  keyed,
  lineSvg,
  nullStripSvg,
  sig,
  table,
  type Series,
} from './htmlSvg.ts';

export type { ReportPin } from './htmlPins.ts';

export interface HtmlReportExtras {
  /** Snapshots pinned in the workbench's Probe panel, drawn in their own section. */
  pins?: readonly ReportPin[];
  /** The run's trace analysed per probe, view and op, where the caller has its events. */
  traceSummary?: TraceAnalysis;
}

/** The report's sections, in order: each is a `<section id>` with an `<h2>` of this title. */
export const HTML_REPORT_SECTIONS = [
  ['verdict', 'Verdict and composite score'],
  ['categories', 'Categories'],
  ['probes', 'Probes'],
  ['ablation', 'Ablation curve'],
  ['pins', 'Pinned snapshots'],
  ['trace', 'Trace summary'],
  ['provenance', 'Provenance'],
] as const;

/** Exact divergences in the probe table: 4 decimals (as the markdown report's exact section). */
export const fmtExact = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : x > 0 ? '∞' : MISSING);

const VERDICT_ORDER: readonly Verdict[] = ['pass', 'fail', 'warn', 'skip', 'error'];

function section(id: string, body: string): string {
  const title = HTML_REPORT_SECTIONS.find(([s]) => s === id)?.[1] ?? id;
  return `<section id="${id}" aria-labelledby="h-${id}"><h2 id="h-${id}">${esc(title)}</h2>\n${body}\n</section>`;
}

/** The suite's verdict: FAIL on any failed probe, else ERROR on any errored one, else PASS. */
export function suiteVerdict(r: SuiteResult): 'pass' | 'fail' | 'error' {
  if (r.probes.some((p) => p.verdict === 'fail')) return 'fail';
  if (r.probes.some((p) => p.verdict === 'error')) return 'error';
  return 'pass';
}

function verdictSection(r: SuiteResult): string {
  const s = r.score;
  const verdict = suiteVerdict(r);
  const counts = VERDICT_ORDER.map((v) => [v, r.probes.filter((p) => p.verdict === v).length] as const);
  const countText = counts
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${v}`)
    .join(' · ');
  const scoreText = fmtScore(s.overall);
  const gauge = figure(
    'fig-score',
    `Composite score ${scoreText}, band “${s.band}” (noise < 0.30 ≤ partial < 0.60 ≤ healthy ≤ 0.85 < suspicious).`,
    gaugeSvg(s.overall, s.band, scoreText),
    table(
      ['', 'value'],
      [
        ['<td>overall</td>', keyed('score.overall', s.overall, scoreText)],
        ['<td>band</td>', `<td data-key="score.band">${esc(s.band)}</td>`],
      ],
      { cls: 'kv', numeric: [false, true] },
    ),
  );
  const findings =
    s.findings.length === 0
      ? '<p class="empty">No findings.</p>'
      : `<ul>${s.findings.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>`;
  const hygiene = r.hygiene === undefined ? [] : hygieneLines(r.hygiene);
  return section(
    'verdict',
    `<div class="headline"><div><p class="big-verdict verdict v-${verdict}" data-testid="suite-verdict">${verdict.toUpperCase()}</p>` +
      `<p>${esc(countText || 'no probes')} — of ${r.probes.length} probe${r.probes.length === 1 ? '' : 's'}.</p>` +
      `<p>Overall <strong>${esc(scoreText)}</strong>, band <span class="band-name b-${esc(s.band)}">${esc(s.band)}</span>.</p></div>${gauge}</div>` +
      table(
        ['verdict', 'probes'],
        counts.map(([v, n]) => [
          `<td class="verdict v-${v}">${v.toUpperCase()}</td>`,
          `<td class="n">${n}</td>`,
        ]),
        { caption: 'Probes by verdict', numeric: [false, true] },
      ) +
      `<h3>Top findings</h3>${findings}` +
      (r.determinism.notes.length > 0
        ? `<h3>Determinism notes</h3><ul>${r.determinism.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`
        : '') +
      (hygiene.length > 0
        ? `<h3>Prompt hygiene</h3><ul>${hygiene.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`
        : ''),
  );
}

function categoriesSection(r: SuiteResult): string {
  const s = r.score;
  const cats = CATEGORIES.filter((c) => s.components[c] !== undefined);
  const bars = cats.map((c) => ({
    label: c,
    value: s.components[c],
    note: `${fmtScore(s.components[c])} · w ${pyFixed(s.weights[c] ?? 0, 2)}`,
  }));
  return section(
    'categories',
    figure(
      'fig-categories',
      'Score per category (0–1) and its weight in the composite score.',
      barsSvg(bars, 1, `category scores: ${bars.map((b) => `${b.label} ${b.note}`).join(', ')}`),
      table(
        ['category', 'score', 'weight'],
        cats.map((c) => [
          `<td>${c}</td>`,
          keyed(`score.components.${c}`, s.components[c], fmtScore(s.components[c])),
          keyed(`score.weights.${c}`, s.weights[c], pyFixed(s.weights[c] ?? 0, 2)),
        ]),
        { numeric: [false, true, true] },
      ),
    ),
  );
}

function exactCell(p: ProbeResult, i: number, which: 'js' | 'kl'): string {
  const e = p.evidence;
  const scalar = e[`exact_${which}`];
  if (typeof scalar === 'number')
    return keyed(`probes.${i}.evidence.exact_${which}`, scalar, fmtExact(scalar));
  const curve = e[`exact_${which}_per_length`] ?? e[`exact_${which}_per_lambda`];
  if (Array.isArray(curve) && curve.length > 0) {
    const text = curve.map((v) => (typeof v === 'number' ? fmtExact(v) : MISSING)).join(' / ');
    return `<td class="n curve" title="one per point of the curve">${esc(text)}</td>`;
  }
  return `<td class="n">${MISSING}</td>`;
}

function probeRow(p: ProbeResult, i: number, cal: Calibration | null): string {
  const k = `probes.${i}`;
  const ci =
    p.ci95 === null
      ? `<td>${MISSING}</td>`
      : `<td class="n">[${keyed(`${k}.ci_95.0`, p.ci95[0], fmtCi(p.ci95).slice(1).split(', ')[0]!, 'span')}, ${keyed(`${k}.ci_95.1`, p.ci95[1], fmtCi(p.ci95).slice(0, -1).split(', ')[1]!, 'span')}]</td>`;
  const strip =
    cal !== null && p.raw !== null && p.zScore !== null
      ? nullStripSvg(p.raw, cal.mean, cal.std, cal.samples, nullLabel(p.raw, cal, p.zScore))
      : '';
  const evidence = JSON.stringify(sortedJsonValue(p.evidence), null, 2);
  return (
    `<tr id="probe-${i}" class="verdict-row-${p.verdict}">` +
    `<td>${esc(p.name)}</td><td><code>${esc(p.kind)}</code></td>` +
    `<td class="verdict v-${p.verdict}" data-key="${k}.verdict">${p.verdict.toUpperCase()}</td>` +
    keyed(`${k}.score`, p.score, fmtScore(p.score)) +
    keyed(`${k}.raw`, p.raw, fmtRaw(p.raw)) +
    ci +
    `<td class="n"${dataValue(p.zScore)}>${keyed(`${k}.z_score`, p.zScore, fmtZ(p.zScore), 'span')}${strip}</td>` +
    exactCell(p, i, 'js') +
    exactCell(p, i, 'kl') +
    keyed(`${k}.duration_s`, p.durationS, fmtDuration(p.durationS)) +
    `<td>${esc(p.message)}<details class="evidence"><summary>evidence</summary><pre>${esc(evidence)}</pre></details></td></tr>`
  );
}

function probesSection(r: SuiteResult): string {
  const cals = calibrations(r.probes);
  const probeTable = table(
    [
      'probe',
      'kind',
      'verdict',
      'score',
      'raw',
      '95% CI',
      'z',
      'exact JS',
      'exact KL',
      'time',
      'note and evidence',
    ],
    r.probes.map((p, i) => probeRow(p, i, cals[i] ?? null)),
    {
      cls: 'sortable wide probes',
      caption:
        'Score at 2 decimals, raw at 3, z at 2 (as the markdown report); exact JS and KL (full vocabulary, nats) at 4.',
      numeric: [false, false, false, true, true, true, true, true, true, true, false],
    },
  );
  return section('probes', probeTable + `<h3>Null calibration</h3>${nullCalibrationHtml(r, cals)}`);
}

function ablationSection(r: SuiteResult): string {
  const i = r.probes.findIndex((p) => p.kind === 'adapter_ablation' && Array.isArray(p.evidence.lambdas));
  if (i === -1) {
    const any = r.probes.find((p) => p.kind === 'adapter_ablation');
    return section(
      'ablation',
      `<p class="empty">${
        any === undefined
          ? 'No adapter_ablation probe in this suite.'
          : `No curve: ${esc(any.name)} ${esc(any.verdict.toUpperCase())}${any.message ? ` — ${esc(any.message)}` : ''}.`
      }</p>`,
    );
  }
  const p = r.probes[i]!;
  const e = p.evidence;
  const nums = (v: unknown): number[] | null =>
    Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : null;
  const lambdas = nums(e.lambdas) ?? [];
  const cols: [string, string, number[] | null][] = [
    [
      "mean divergence (sway's top-k formula)",
      'mean_divergence_per_lambda',
      nums(e.mean_divergence_per_lambda),
    ],
    ['exact JS (full vocabulary)', 'exact_js_per_lambda', nums(e.exact_js_per_lambda)],
    ['exact KL (full vocabulary)', 'exact_kl_per_lambda', nums(e.exact_kl_per_lambda)],
  ];
  const present = cols.filter(([, , v]) => v !== null) as [string, string, number[]][];
  const series: Series[] = present
    .slice(0, 2)
    .map(([name, , values], k) => ({ name, values, cls: k === 0 ? 'line-a' : 'line-b' }));
  const k = `probes.${i}.evidence`;
  const rows = lambdas.map((l, j) => [
    keyed(`${k}.lambdas.${j}`, l, jsonNumber(l)),
    ...present.map(([, key, v]) =>
      keyed(`${k}.${key}.${j}`, v[j], v[j] === undefined ? MISSING : jsonNumber(v[j])),
    ),
  ]);
  const summary = [
    ['linearity (R²)', 'linearity', e.linearity],
    ['saturation λ', 'saturation_lambda', e.saturation_lambda],
    ['overshoot', 'overshoot', e.overshoot],
  ] as const;
  return section(
    'ablation',
    `<p>${esc(p.name)}: <span class="verdict v-${p.verdict}">${p.verdict.toUpperCase()}</span> — ${esc(p.message)}</p>` +
      table(
        ['', 'value'],
        [
          ...summary.map(([label, key, v]) => [
            `<td>${esc(label)}</td>`,
            keyed(
              `${k}.${key}`,
              typeof v === 'number' ? v : null,
              typeof v === 'number' ? pyFixed(v, 3) : MISSING,
            ),
          ]),
          [
            '<td>saturation</td>',
            `<td>${esc(typeof e.saturation_reason === 'string' ? e.saturation_reason : MISSING)}</td>`,
          ],
        ],
        { cls: 'kv', numeric: [false, true] },
      ) +
      figure(
        'fig-ablation',
        `Divergence from the λ = ${lambdas[0] ?? 0} view as the adapter is scaled by λ (dashed: λ = 1, the adapter as trained).`,
        lineSvg(
          lambdas,
          series,
          `ablation curve: ${series.map((s) => `${s.name}: ${lambdas.map((l, j) => `λ ${l} ${sig(s.values[j] ?? NaN)}`).join(', ')}`).join('; ')}`,
          1,
        ),
        table(['λ', ...present.map(([name]) => name)], rows, { numeric: [true, ...present.map(() => true)] }),
      ),
  );
}

/**
 * The suite result as one self-contained HTML file: inline CSS and SVG, one small hashed inline
 * script (sorting; the report reads the same without it), a CSP that allows no request at all.
 * Every string from the result is escaped; every number that the JSON report holds carries its
 * `data-key` (path in the JSON report) and exact `data-value`.
 */
export function toHtmlReport(result: SuiteResult, extras: HtmlReportExtras = {}): string {
  const meta = [
    result.specPath && `spec <code>${esc(result.specPath)}</code>`,
    `base <code>${esc(result.baseModelId || MISSING)}</code>`,
    `adapter <code>${esc(result.adapterId || MISSING)}</code>`,
    result.startedAt && `started ${esc(result.startedAt)}`,
  ]
    .filter(Boolean)
    .join(' · ');
  return htmlDocument({
    title: `deltascope report — ${result.specPath || 'suite'}`,
    generator: result.swayVersion || 'deltascope',
    heading: 'deltascope report',
    meta,
    sections: HTML_REPORT_SECTIONS,
    main: [
      verdictSection(result),
      categoriesSection(result),
      probesSection(result),
      ablationSection(result),
      section(
        'pins',
        pinsHtml(extras.pins ?? [], {
          pairId: result.provenance?.pair_id ?? null,
          dtype: result.provenance?.dtype ?? null,
        }),
      ),
      section('trace', traceBodyHtml(result, extras.traceSummary)),
      section('provenance', provenanceBodyHtml(result)),
    ],
    footer: `Made by ${esc(result.swayVersion || 'deltascope')}. One self-contained file: it makes no network request. Numbers are the JSON report's; each carries its exact value (data-value).`,
  });
}
