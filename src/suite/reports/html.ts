import { pyFixed } from '../../core/index.ts';
import type { TraceAnalysis } from '../../core/traceAnalysis.ts';
import { sortedJsonValue } from '../../core/sortedJson.ts';
import { CATEGORIES, type ProbeResult, type Verdict } from '../../probes/types.ts';
import { hygieneLines } from '../promptHygiene.ts';
import type { SuiteResult } from '../types.ts';
import { MISSING, fmtCi, fmtDuration, fmtRaw, fmtScore, fmtZ } from './format.ts';
import { pinsHtml, type ReportPin } from './htmlPins.ts';
import { HTML_REPORT_CSP, HTML_REPORT_CSS, HTML_REPORT_SCRIPT } from './htmlStyle.ts';
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

interface Calibration {
  key: string;
  mean: number;
  std: number;
  n: number;
  samples: number[];
  /** Where the statistics came from: the null_adapter's index, for `data-key`s. */
  from: number;
}

const isStats = (v: unknown): v is { mean: number; std: number; n: number } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { mean: unknown }).mean === 'number' &&
  typeof (v as { std: unknown }).std === 'number' &&
  typeof (v as { n: unknown }).n === 'number';

/**
 * For each probe, the null calibration its z-score was measured against (the workbench's rule,
 * ui/nullCalibration.ts): statistics accumulate in run order from each result that produced
 * `null_stats`, keyed by kind (`<kind>@exact` under `method: exact`), with that result's raw samples.
 */
function calibrations(probes: readonly ProbeResult[]): (Calibration | null)[] {
  const known = new Map<string, Calibration>();
  return probes.map((p, i) => {
    let out: Calibration | null = null;
    if (p.zScore !== null && p.raw !== null) {
      out = known.get(p.evidence.method === 'exact' ? `${p.kind}@exact` : p.kind) ?? null;
    }
    const produced = p.evidence.null_stats;
    if (typeof produced === 'object' && produced !== null) {
      const raws = p.evidence.per_kind_raw_samples as Record<string, unknown> | undefined;
      for (const [key, s] of Object.entries(produced as Record<string, unknown>)) {
        if (!isStats(s)) continue;
        const xs = raws?.[key];
        const samples = Array.isArray(xs) && xs.every((x) => typeof x === 'number') ? (xs as number[]) : [];
        known.set(key, { key, mean: s.mean, std: s.std, n: s.n, samples, from: i });
      }
    }
    return out;
  });
}

const nullLabel = (raw: number, c: Calibration, z: number): string =>
  `raw ${sig(raw)} vs null ${sig(c.mean)} ± ${sig(c.std)} (n=${c.n}), z = ${sig(z)}`;

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

function nullCalibrationHtml(r: SuiteResult, cals: (Calibration | null)[]): string {
  const figures = r.probes
    .map((p, i) => {
      const c = cals[i];
      if (c === null || c === undefined || p.raw === null || p.zScore === null) return '';
      const src = `probes.${c.from}.evidence`;
      const rows = [
        ...c.samples.map((v, j) => [
          `<td>null sample ${j + 1}</td>`,
          keyed(`${src}.per_kind_raw_samples.${c.key}.${j}`, v, jsonNumber(v)),
        ]),
        [`<td>null mean</td>`, keyed(`${src}.null_stats.${c.key}.mean`, c.mean, jsonNumber(c.mean))],
        [`<td>null std</td>`, keyed(`${src}.null_stats.${c.key}.std`, c.std, jsonNumber(c.std))],
        [`<td>null n</td>`, keyed(`${src}.null_stats.${c.key}.n`, c.n, String(c.n))],
        [`<td>${esc(p.name)} raw</td>`, keyed(`probes.${i}.raw`, p.raw, fmtRaw(p.raw))],
        [`<td>${esc(p.name)} z</td>`, keyed(`probes.${i}.z_score`, p.zScore, fmtZ(p.zScore))],
      ];
      return figure(
        `fig-null-${i}`,
        `${p.name}: raw value (red) against the null distribution of ${c.key} (dots: null adapters; band: mean ± std). ${nullLabel(p.raw, c, p.zScore)}.`,
        nullStripSvg(p.raw, c.mean, c.std, c.samples, nullLabel(p.raw, c, p.zScore), 420),
        table(['', 'value'], rows, { cls: 'kv', numeric: [false, true] }),
      );
    })
    .join('');
  const stats = Object.entries(r.nullStats).filter(([, s]) => isStats(s)) as [
    string,
    { mean: number; std: number; n: number },
  ][];
  const statsTable =
    stats.length === 0
      ? ''
      : table(
          ['kind', 'mean', 'std', 'n'],
          stats.map(([kind, s]) => [
            `<td><code>${esc(kind)}</code></td>`,
            keyed(`null_stats.${kind}.mean`, s.mean, jsonNumber(s.mean)),
            keyed(`null_stats.${kind}.std`, s.std, jsonNumber(s.std)),
            keyed(`null_stats.${kind}.n`, s.n, String(s.n)),
          ]),
          {
            caption: 'Null statistics the z-scores were measured against',
            numeric: [false, true, true, true],
          },
        );
  if (figures === '' && statsTable === '') {
    return '<p class="empty">No z-scores: no null calibration ran (null_adapter needs a base + adapter pair; it SKIPs on a merged pair).</p>';
  }
  return statsTable + figures;
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

/** The run's facts from the report itself, then its provenance (or "not recorded" for each). */
function provenanceSection(r: SuiteResult): string {
  const NR = 'not recorded';
  const text = (key: string, v: string | null | undefined) =>
    `<td data-key="${esc(key)}">${v ? esc(v) : `<span class="empty">${NR}</span>`}</td>`;
  const run: string[][] = [
    ['<td>producer</td>', text('sway_version', r.swayVersion)],
    ['<td>spec</td>', text('spec_path', r.specPath)],
    ['<td>base model</td>', text('base_model_id', r.baseModelId)],
    ['<td>adapter / fine-tune</td>', text('adapter_id', r.adapterId)],
    ['<td>started</td>', text('started_at', r.startedAt)],
    ['<td>finished</td>', text('finished_at', r.finishedAt)],
    ['<td>wall</td>', keyed('wall_seconds', r.wallSeconds, fmtDuration(r.wallSeconds))],
    ['<td>determinism</td>', text('determinism.class', r.determinism.class)],
    ['<td>seed</td>', keyed('determinism.seed', r.determinism.seed, String(r.determinism.seed))],
  ];
  const runTable = table(['run', ''], run, { cls: 'kv', caption: 'From the report' });
  const p = r.provenance;
  if (p === undefined) {
    return section(
      'provenance',
      runTable +
        `<p class="empty" data-testid="provenance-missing">Provenance ${NR}: this report carries no model revisions, file hashes, dtype or device (it was made before they were recorded, or by a tool that does not record them).</p>`,
    );
  }
  const rows: string[][] = [
    ['<td>deltascope version</td>', text('provenance.deltascope_version', p.deltascope_version)],
    ['<td>created</td>', text('provenance.created_at', p.created_at)],
    ['<td>base model</td>', text('provenance.base.id', p.base.id)],
    ['<td>base revision</td>', text('provenance.base.revision', p.base.revision)],
    ['<td>fine-tuned model</td>', text('provenance.ft.id', p.ft?.id)],
    ['<td>fine-tuned revision</td>', text('provenance.ft.revision', p.ft?.revision)],
    ['<td>adapter</td>', text('provenance.adapter.id', p.adapter?.id)],
    ['<td>adapter revision</td>', text('provenance.adapter.revision', p.adapter?.revision)],
    ['<td>adapter name</td>', text('provenance.adapter.name', p.adapter?.name)],
    ['<td>dtype</td>', text('provenance.dtype', p.dtype)],
    ['<td>device</td>', text('provenance.device', p.device)],
    ['<td>spec</td>', text('provenance.spec_path', p.spec_path)],
    [
      '<td>spec SHA-256</td>',
      text('provenance.spec_sha256', p.spec_sha256).replace('<td', '<td class="hash"'),
    ],
    ['<td>seed</td>', keyed('provenance.seed', p.seed, String(p.seed))],
  ];
  const files =
    p.files.length === 0
      ? `<p class="empty">File hashes ${NR}.</p>`
      : table(
          ['role', 'file', 'bytes', 'SHA-256'],
          p.files.map((f, i) => [
            `<td>${esc(f.role)}</td>`,
            `<td><code>${esc(f.path)}</code></td>`,
            keyed(`provenance.files.${i}.bytes`, f.bytes, String(f.bytes)),
            `<td class="hash" data-key="provenance.files.${i}.sha256">${esc(f.sha256)}</td>`,
          ]),
          {
            caption: 'Model files read, with the SHA-256 of the exact bytes',
            numeric: [false, false, true, false],
          },
        );
  return section('provenance', runTable + table(['provenance', ''], rows, { cls: 'kv' }) + files);
}

/**
 * The suite result as one self-contained HTML file: inline CSS and SVG, one small hashed inline
 * script (sorting; the report reads the same without it), a CSP that allows no request at all.
 * Every string from the result is escaped; every number that the JSON report holds carries its
 * `data-key` (path in the JSON report) and exact `data-value`.
 */
export function toHtmlReport(result: SuiteResult, extras: HtmlReportExtras = {}): string {
  const title = `deltascope report — ${result.specPath || 'suite'}`;
  const nav = HTML_REPORT_SECTIONS.map(([id, t]) => `<li><a href="#${id}">${esc(t)}</a></li>`).join('');
  const meta = [
    result.specPath && `spec <code>${esc(result.specPath)}</code>`,
    `base <code>${esc(result.baseModelId || MISSING)}</code>`,
    `adapter <code>${esc(result.adapterId || MISSING)}</code>`,
    result.startedAt && `started ${esc(result.startedAt)}`,
  ]
    .filter(Boolean)
    .join(' · ');
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(HTML_REPORT_CSP)}">`,
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    `<meta name="generator" content="${esc(result.swayVersion || 'deltascope')}">`,
    `<title>${esc(title)}</title>`,
    `<style>${HTML_REPORT_CSS}</style></head><body>`,
    `<header><h1>deltascope report</h1><p class="meta">${meta}</p></header>`,
    `<nav aria-label="Sections"><ol>${nav}</ol></nav>`,
    '<main>',
    verdictSection(result),
    categoriesSection(result),
    probesSection(result),
    ablationSection(result),
    section('pins', pinsHtml(extras.pins ?? [])),
    section('trace', traceBodyHtml(result, extras.traceSummary)),
    provenanceSection(result),
    '</main>',
    `<footer>Made by ${esc(result.swayVersion || 'deltascope')}. One self-contained file: it makes no network request. Numbers are the JSON report's; each carries its exact value (data-value).</footer>`,
    `<script>${HTML_REPORT_SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
