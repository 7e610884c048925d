/**
 * A sweep report (`deltascope sweep` / `merge`) as one self-contained HTML file, built as the suite's
 * HTML report is (html.ts): inline CSS and SVG, the same hashed sorting script and CSP (no request
 * at all), every string escaped, every chart a captioned figure with its data table, light and dark,
 * a print stylesheet. It shows the composite score per checkpoint as a line (spec order, the band
 * thresholds as guides), the category scores likewise, the probe × adapter matrix against the first
 * adapter, and per adapter a compact section (verdicts, probes, provenance with file hashes).
 *
 * Every number the sweep's JSON holds carries its `data-key` (path in the sweep JSON, e.g.
 * `results.2.report.score.overall`) and exact `data-value`, in the charts' points and in the tables.
 */
import { CATEGORIES, type Verdict } from '../../probes/types.ts';
import type { SweepReport } from '../sweep.ts';
import { sweepToLabelledResults } from '../sweep.ts';
import type { SuiteResult } from '../types.ts';
import { buildCompareMatrix, type CompareCell } from './compare.ts';
import { fmtDelta } from './compareRender.ts';
import { MISSING, fmtDuration, fmtRaw, fmtScore, fmtZ } from './format.ts';
import { suiteVerdict } from './html.ts';
import { htmlDocument } from './htmlStyle.ts';
import { dataValue, esc, figure, keyed, sig, table } from './htmlSvg.ts';

/** The sweep report's sections, in order: each a `<section id>` with an `<h2>` of this title. */
export const HTML_SWEEP_SECTIONS = [
  ['scores', 'Composite score per adapter'],
  ['categories', 'Category scores per adapter'],
  ['adapters', 'Adapters'],
  ['matrix', 'Probe × adapter scores'],
  ['details', 'Per adapter'],
  ['sweep', 'Sweep and shards'],
] as const;

const VERDICTS: readonly Verdict[] = ['pass', 'fail', 'warn', 'skip', 'error'];

/** sway's bands, as the gauge draws them: noise < 0.30 ≤ partial < 0.60 ≤ healthy ≤ 0.85 < suspicious. */
const BAND_GUIDES: readonly [number, string][] = [
  [0.3, 'partial'],
  [0.6, 'healthy'],
  [0.85, 'suspicious'],
];

/** What the sweep report adds to the suite report's stylesheet: series colours, matrix marks. */
const SWEEP_CSS = `.s0{stroke:var(--accent)}.s1{stroke:var(--accent2)}.s2{stroke:var(--pass)}.s3{stroke:var(--suspicious)}.s4{stroke:var(--error)}.s5{stroke:var(--warn)}
.dot.s0{fill:var(--accent)}.dot.s1{fill:var(--accent2)}.dot.s2{fill:var(--pass)}.dot.s3{fill:var(--suspicious)}.dot.s4{fill:var(--error)}.dot.s5{fill:var(--warn)}
.d1{stroke-dasharray:6 3}.d2{stroke-dasharray:2 3}.d3{stroke-dasharray:8 3 2 3}
.guide{stroke-width:1;stroke-dasharray:2 4;opacity:.55}
.guide-label{font-size:9px;fill:var(--mute)}
tr.regressed td{background:color-mix(in srgb,var(--fail) 14%,transparent)}
tr.changed td{background:color-mix(in srgb,var(--warn) 12%,transparent)}
td.cell-regressed{color:var(--fail);font-weight:700}
td.cell-changed{font-weight:600}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.adapter{border-top:1px solid var(--line);padding-top:.4rem;margin-top:1rem}
@media print{tr.regressed td,tr.changed td{background:none}}`;

/** One adapter of the sweep with its result, where this report holds one. */
interface Entry {
  index: number;
  label: string;
  ref: string;
  /** Position in the JSON's `results` (for `data-key`), or null: not in this report (a shard's). */
  pos: number | null;
  result: SuiteResult | null;
}

function entries(sweep: SweepReport): Entry[] {
  const labelled = sweepToLabelledResults(sweep);
  const byIndex = new Map(
    [...sweep.results.entries()]
      .sort(([, a], [, b]) => a.index - b.index)
      .map(([pos, r], k) => [r.index, { pos, result: labelled[k]!.result }] as const),
  );
  return sweep.sweep.adapters.map((a) => {
    const hit = byIndex.get(a.index);
    return { index: a.index, label: a.label, ref: a.ref, pos: hit?.pos ?? null, result: hit?.result ?? null };
  });
}

const key = (e: Entry, path: string) => `results.${e.pos}.report.${path}`;
const anchor = (e: Entry) => `adapter-${e.index}`;

function section(id: string, body: string): string {
  const title = HTML_SWEEP_SECTIONS.find(([s]) => s === id)?.[1] ?? id;
  return `<section id="${id}" aria-labelledby="h-${id}"><h2 id="h-${id}">${esc(title)}</h2>\n${body}\n</section>`;
}

/** SVG coordinates: short, fixed, locale-free. */
const c = (x: number): string => (Number.isFinite(x) ? String(Math.round(x * 10) / 10) : '0');

interface Line {
  name: string;
  /** One per adapter, in order; null where it has no value (not in this report). */
  points: ({ value: number; key: string } | null)[];
}

/**
 * Lines over the adapters (a categorical x axis, in spec order) on a 0..1 score axis, with the band
 * thresholds as faint guides. Each point is a circle carrying its `data-key` and exact `data-value`;
 * with `labelPoints`, its value is written beside it.
 */
function scoreLinesSvg(
  labels: readonly string[],
  lines: readonly Line[],
  ariaLabel: string,
  opts: { labelPoints: boolean; guides: boolean; height?: number },
): string {
  const n = labels.length;
  const legendRows = lines.length < 2 ? 0 : Math.ceil(lines.length / 3);
  // Points sit inside the axes, the first one far enough right for its slanted label; the band
  // guides are named in the right margin.
  const left = 40;
  const inset = 56;
  const right = 96;
  const top = 14;
  const bottom = 58 + legendRows * 14;
  const w = Math.max(520, Math.min(1100, left + inset + right + n * 60));
  const h = (opts.height ?? 220) + legendRows * 14;
  const x0 = left + inset;
  const x1 = w - right - 16;
  const px = (i: number) => (n <= 1 ? (x0 + x1) / 2 : x0 + (i / (n - 1)) * (x1 - x0));
  const py = (y: number) => h - bottom - Math.min(1, Math.max(0, y)) * (h - bottom - top);
  const every = Math.max(1, Math.ceil(n / 24));
  const axes =
    `<line x1="${left}" y1="${h - bottom}" x2="${w - right}" y2="${h - bottom}" class="axis"/>` +
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${h - bottom}" class="axis"/>` +
    [0, 0.5, 1]
      .map((y) => `<text x="${left - 4}" y="${c(py(y) + 4)}" text-anchor="end">${y}</text>`)
      .join('') +
    (opts.guides ? BAND_GUIDES : [])
      .map(
        ([y, band]) =>
          `<line x1="${left}" y1="${c(py(y))}" x2="${w - right}" y2="${c(py(y))}" class="guide band-${band}"><title>${esc(`${band} from ${y}`)}</title></line>` +
          `<text x="${w - right + 4}" y="${c(py(y) + 3)}" class="guide-label">${esc(`${band} ≥ ${y}`)}</text>`,
      )
      .join('') +
    labels
      .map((l, i) =>
        i % every === 0
          ? `<text x="${c(px(i))}" y="${h - bottom + 14}" text-anchor="end" transform="rotate(-30 ${c(px(i))} ${h - bottom + 14})">${esc(l.length > 18 ? `${l.slice(0, 17)}…` : l)}</text>`
          : '',
      )
      .join('');
  const body = lines
    .map((line, k) => {
      const cls = seriesCls(k);
      const pts = line.points.flatMap((p, i) =>
        p === null || !Number.isFinite(p.value) ? [] : [{ ...p, i }],
      );
      const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'} ${c(px(p.i))} ${c(py(p.value))}`).join(' ');
      const dots = pts
        .map(
          (p) =>
            `<circle cx="${c(px(p.i))}" cy="${c(py(p.value))}" r="3.5" class="dot pt ${cls}" data-series="${esc(line.name)}" data-adapter="${p.i}" data-key="${esc(p.key)}"${dataValue(p.value)}><title>${esc(`${labels[p.i]}, ${line.name}: ${sig(p.value)}`)}</title></circle>` +
            (opts.labelPoints
              ? `<text x="${c(px(p.i))}" y="${c(py(p.value) - 7)}" text-anchor="middle" class="small">${esc(fmtScore(p.value))}</text>`
              : ''),
        )
        .join('');
      return `<g class="series"><path d="${d}" fill="none" class="${cls}" stroke-width="2"/>${dots}</g>`;
    })
    .join('');
  const legend =
    lines.length < 2
      ? ''
      : lines
          .map((line, k) => {
            const cls = seriesCls(k);
            const x = left + (k % 3) * 130;
            const y = h - legendRows * 14 + 6 + Math.floor(k / 3) * 14;
            return `<g transform="translate(${x} ${y})"><line x1="0" y1="-3" x2="16" y2="-3" class="${cls}" stroke-width="2"/><text x="20">${esc(line.name)}</text></g>`;
          })
          .join('');
  return (
    `<svg class="svg sweep-lines" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(ariaLabel)}" xmlns="http://www.w3.org/2000/svg">` +
    axes +
    body +
    legend +
    '</svg>'
  );
}

/** A series' stroke: a colour, and a dash pattern too so lines differ without colour (print). */
const seriesCls = (k: number) => `s${k % 6}${k % 4 === 0 ? '' : ` d${k % 4}`}`;

const counts = (r: SuiteResult) => VERDICTS.map((v) => r.probes.filter((p) => p.verdict === v).length);

function scoresSection(es: readonly Entry[]): string {
  const held = es.filter((e) => e.result !== null);
  const line: Line = {
    name: 'composite score',
    points: es.map((e) =>
      e.result === null ? null : { value: e.result.score.overall, key: key(e, 'score.overall') },
    ),
  };
  const aria = `composite score per adapter: ${held.map((e) => `${e.label} ${fmtScore(e.result!.score.overall)} (${e.result!.score.band})`).join(', ')}`;
  return section(
    'scores',
    held.length === 0
      ? '<p class="empty">This report holds no adapter’s result.</p>'
      : figure(
          'fig-sweep-score',
          `Composite score (0–1) of each adapter, in the sweep spec’s order; dotted guides at the band thresholds (noise < 0.30 ≤ partial < 0.60 ≤ healthy ≤ 0.85 < suspicious).`,
          scoreLinesSvg(
            es.map((e) => e.label),
            [line],
            aria,
            { labelPoints: true, guides: true },
          ),
          table(
            ['#', 'adapter', 'overall', 'band'],
            held.map((e) => [
              `<td class="n">${e.index + 1}</td>`,
              `<td><a href="#${anchor(e)}">${esc(e.label)}</a></td>`,
              keyed(key(e, 'score.overall'), e.result!.score.overall, fmtScore(e.result!.score.overall)),
              `<td data-key="${esc(key(e, 'score.band'))}" class="band-name b-${esc(e.result!.score.band)}">${esc(e.result!.score.band)}</td>`,
            ]),
            { numeric: [true, false, true, false] },
          ),
        ),
  );
}

function categoriesSection(es: readonly Entry[]): string {
  const held = es.filter((e) => e.result !== null);
  const cats = CATEGORIES.filter((cat) => held.some((e) => e.result!.score.components[cat] !== undefined));
  if (held.length === 0 || cats.length === 0)
    return section('categories', '<p class="empty">No category scores.</p>');
  const lines: Line[] = cats.map((cat) => ({
    name: cat,
    points: es.map((e) => {
      const v = e.result?.score.components[cat];
      return v === undefined ? null : { value: v, key: key(e, `score.components.${cat}`) };
    }),
  }));
  const aria = `category scores per adapter: ${cats
    .map(
      (cat) =>
        `${cat}: ${held.map((e) => `${e.label} ${fmtScore(e.result!.score.components[cat] ?? NaN)}`).join(', ')}`,
    )
    .join('; ')}`;
  return section(
    'categories',
    figure(
      'fig-sweep-categories',
      'Score per category (0–1) of each adapter, in the sweep spec’s order; one line per category.',
      scoreLinesSvg(
        es.map((e) => e.label),
        lines,
        aria,
        { labelPoints: false, guides: false, height: 240 },
      ),
      table(
        ['adapter', ...cats],
        held.map((e) => [
          `<td>${esc(e.label)}</td>`,
          ...cats.map((cat) => {
            const v = e.result!.score.components[cat];
            return keyed(key(e, `score.components.${cat}`), v, fmtScore(v ?? NaN));
          }),
        ]),
        { numeric: [false, ...cats.map(() => true)] },
      ),
    ),
  );
}

function adaptersSection(es: readonly Entry[]): string {
  const rows = es.map((e) => {
    if (e.result === null)
      return [
        `<td class="n">${e.index + 1}</td>`,
        `<td>${esc(e.label)}</td>`,
        `<td colspan="${3 + VERDICTS.length}" class="empty">not in this report (another shard’s)</td>`,
      ];
    const r = e.result;
    const v = suiteVerdict(r);
    return [
      `<td class="n">${e.index + 1}</td>`,
      `<td><a href="#${anchor(e)}">${esc(e.label)}</a></td>`,
      `<td class="verdict v-${v}">${v.toUpperCase()}</td>`,
      keyed(key(e, 'score.overall'), r.score.overall, fmtScore(r.score.overall)),
      `<td class="band-name b-${esc(r.score.band)}">${esc(r.score.band)}</td>`,
      ...counts(r).map((n) => `<td class="n">${n}</td>`),
    ];
  });
  return section(
    'adapters',
    table(['#', 'adapter', 'verdict', 'overall', 'band', ...VERDICTS], rows, {
      cls: 'sortable',
      caption:
        'Each adapter in the sweep spec’s order: its suite verdict, composite score, band and probes by verdict.',
      numeric: [true, false, false, true, false, ...VERDICTS.map(() => true)],
    }),
  );
}

function matrixCell(e: Entry, c: CompareCell, name: string, first: boolean): string {
  if (!c.present) return `<td class="n empty">${MISSING}</td>`;
  const i = e.result!.probes.findIndex((p) => p.name === name);
  const text =
    (c.score === null ? (c.verdict ?? MISSING) : fmtScore(c.score)) +
    (first || c.deltaScore === null ? '' : ` (${fmtDelta(c.deltaScore)})`);
  const cls = c.regression.length > 0 ? ' cell-regressed' : c.changed ? ' cell-changed' : '';
  const mark =
    c.regression.length > 0 ? `<span class="sr"> regressed (${c.regression.join(', ')})</span>` : '';
  const title = c.verdict === null ? '' : ` title="${esc(c.verdict.toUpperCase())}"`;
  return i === -1 || c.score === null
    ? `<td class="n${cls}"${title}>${esc(text)}${mark}</td>`
    : `<td class="n${cls}"${title} data-key="${esc(key(e, `probes.${i}.score`))}"${dataValue(c.score)}>${esc(text)}${mark}</td>`;
}

function matrixSection(es: readonly Entry[]): string {
  const held = es.filter((e) => e.result !== null);
  if (held.length === 0) return section('matrix', '<p class="empty">No results.</p>');
  const runs = held.map((e) => ({ label: e.label, result: e.result! }));
  // One adapter (a shard's report) is compared with itself: one column, nothing changed.
  const m = buildCompareMatrix(runs.length === 1 ? [runs[0]!, runs[0]!] : runs);
  const rows = m.rows
    .filter((r) => r.name !== '__preflight__')
    .map(
      (r) =>
        `<tr class="${r.regressed ? 'regressed' : r.changed ? 'changed' : 'same'}"><td>${esc(r.name)}</td><td><code>${esc(r.kind)}</code></td>` +
        r.cells
          .slice(0, held.length)
          .map((cell, k) => matrixCell(held[k]!, cell, r.name, k === 0))
          .join('') +
        '</tr>',
    );
  const regressions =
    m.regressions.length === 0
      ? '<p>No probe regressed against the first adapter.</p>'
      : `<ul>${m.regressions
          .map(
            (r) =>
              `<li>${esc(r.probe)} in ${esc(r.label)}: ${esc(r.reasons.join(' and '))}` +
              (r.fromVerdict !== null && r.toVerdict !== null && r.fromVerdict !== r.toVerdict
                ? ` (${esc(r.fromVerdict.toUpperCase())} → ${esc(r.toVerdict.toUpperCase())})`
                : '') +
              (r.deltaScore !== null ? `, score ${esc(fmtDelta(r.deltaScore))}` : '') +
              '</li>',
          )
          .join('')}</ul>`;
  return section(
    'matrix',
    table(['probe', 'kind', ...held.map((e) => e.label)], rows, {
      cls: 'sortable wide',
      caption: `Each probe’s score per adapter (its verdict where it has no score), with the change against the first adapter (${held[0]!.label}); rows tinted where a later adapter changed (≥ ${m.changeTolerance}) or regressed (score down ≥ ${m.regressionThreshold}, or a worse verdict).`,
      numeric: [false, false, ...held.map(() => true)],
    }) + `<h3>Regressions against ${esc(held[0]!.label)}</h3>${regressions}`,
  );
}

function adapterDetail(e: Entry): string {
  const head = `<h3 id="${anchor(e)}">${e.index + 1}. ${esc(e.label)} <code>${esc(e.ref)}</code></h3>`;
  if (e.result === null)
    return `<div class="adapter">${head}<p class="empty">Not in this report: another shard ran it.</p></div>`;
  const r = e.result;
  const v = suiteVerdict(r);
  const countText = VERDICTS.map((verdict, k) => [verdict, counts(r)[k]!] as const)
    .filter(([, n]) => n > 0)
    .map(([verdict, n]) => `${n} ${verdict}`)
    .join(' · ');
  const probes = table(
    ['probe', 'kind', 'verdict', 'score', 'raw', 'z', 'time', 'note'],
    r.probes.map((p, i) => [
      `<td>${esc(p.name)}</td>`,
      `<td><code>${esc(p.kind)}</code></td>`,
      `<td class="verdict v-${p.verdict}">${p.verdict.toUpperCase()}</td>`,
      keyed(key(e, `probes.${i}.score`), p.score, fmtScore(p.score)),
      keyed(key(e, `probes.${i}.raw`), p.raw, fmtRaw(p.raw)),
      keyed(key(e, `probes.${i}.z_score`), p.zScore, fmtZ(p.zScore)),
      keyed(key(e, `probes.${i}.duration_s`), p.durationS, fmtDuration(p.durationS)),
      `<td>${esc(p.message)}</td>`,
    ]),
    { cls: 'sortable', numeric: [false, false, false, true, true, true, true, false] },
  );
  const p = r.provenance;
  const text = (k: string, value: string | null | undefined) =>
    `<td data-key="${esc(key(e, k))}">${value ? esc(value) : '<span class="empty">not recorded</span>'}</td>`;
  const prov =
    p === undefined
      ? '<p class="empty">Provenance not recorded.</p>'
      : table(
          ['provenance', ''],
          [
            ['<td>adapter name</td>', text('provenance.adapter.name', p.adapter?.name)],
            ['<td>adapter</td>', text('provenance.adapter.id', p.adapter?.id)],
            ['<td>adapter revision</td>', text('provenance.adapter.revision', p.adapter?.revision)],
            ['<td>device</td>', text('provenance.device', p.device)],
            ['<td>created</td>', text('provenance.created_at', p.created_at)],
          ],
          { cls: 'kv' },
        ) +
        (p.files.length === 0
          ? '<p class="empty">File hashes not recorded.</p>'
          : table(
              ['role', 'file', 'bytes', 'SHA-256'],
              p.files.map((f, i) => [
                `<td>${esc(f.role)}</td>`,
                `<td><code>${esc(f.path)}</code></td>`,
                keyed(key(e, `provenance.files.${i}.bytes`), f.bytes, String(f.bytes)),
                `<td class="hash" data-key="${esc(key(e, `provenance.files.${i}.sha256`))}">${esc(f.sha256)}</td>`,
              ]),
              {
                caption: 'Files read, with the SHA-256 of the exact bytes',
                numeric: [false, false, true, false],
              },
            ));
  return (
    `<div class="adapter">${head}` +
    `<p><span class="verdict v-${v}">${v.toUpperCase()}</span> — ${esc(countText || 'no probes')}; overall ` +
    `${keyed(key(e, 'score.overall'), r.score.overall, fmtScore(r.score.overall), 'strong')}, band <span class="band-name b-${esc(r.score.band)}">${esc(r.score.band)}</span>; ` +
    `ran in ${keyed(key(e, 'wall_seconds'), r.wallSeconds, fmtDuration(r.wallSeconds), 'span')}.</p>` +
    (r.score.findings.length > 0
      ? `<ul>${r.score.findings.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>`
      : '') +
    probes +
    prov +
    '</div>'
  );
}

function sweepSection(sweep: SweepReport, es: readonly Entry[]): string {
  const s = sweep.sweep;
  const held = es.filter((e) => e.result !== null).length;
  const kv = (label: string, k: string, v: string | number | null, cls = '') => [
    `<td>${esc(label)}</td>`,
    typeof v === 'number'
      ? keyed(k, v, String(v))
      : `<td data-key="${esc(k)}"${cls ? ` class="${cls}"` : ''}>${v === null || v === '' ? MISSING : esc(v)}</td>`,
  ];
  const ident = table(
    ['sweep', ''],
    [
      kv('spec', 'sweep.spec_path', s.spec_path),
      kv('identity', 'sweep.identity', s.identity, 'hash'),
      kv('base', 'sweep.base', s.base),
      kv('base revision', 'sweep.base_revision', s.base_revision),
      kv('dtype', 'sweep.dtype', s.dtype),
      kv('seed', 'sweep.seed', s.seed),
      kv('suite', 'sweep.suite_path', s.suite_path),
      ['<td>adapters</td>', `<td>${held} of ${s.adapters.length} in this report</td>`],
    ],
    { cls: 'kv' },
  );
  const labelOf = new Map(s.adapters.map((a) => [a.index, a.label]));
  const runs = table(
    ['shard', 'adapters', 'started', 'finished', 'deltascope', 'device', 'loads'],
    sweep.runs.map((r, k) => [
      `<td>${r.shard.index}/${r.shard.count}</td>`,
      `<td>${esc(r.adapters.map((i) => labelOf.get(i) ?? String(i)).join(', ') || MISSING)}</td>`,
      `<td data-key="runs.${k}.started_at">${esc(r.started_at)}</td>`,
      `<td data-key="runs.${k}.finished_at">${esc(r.finished_at)}</td>`,
      `<td>${esc(r.deltascope_version)}</td>`,
      `<td>${esc(r.device ?? MISSING)}</td>`,
      `<td>${esc(r.loads.map((l) => `${labelOf.get(l.index) ?? l.index} ${l.how} ${(l.ms / 1000).toFixed(1)} s`).join('; ') || MISSING)}</td>`,
    ]),
    { caption: 'Runs: each shard, where and when it ran, how each adapter got onto the base', numeric: [] },
  );
  return section('sweep', ident + runs);
}

/**
 * A sweep report (one shard's or merged) as one self-contained HTML file. A shard's report shows
 * its own adapters and names the others as not in it.
 */
export function toSweepHtmlReport(sweep: SweepReport): string {
  const es = entries(sweep);
  const s = sweep.sweep;
  const version = sweep.runs[0]?.deltascope_version ?? 'deltascope';
  const meta = [
    `spec <code>${esc(s.spec_path)}</code>`,
    `base <code>${esc(s.base)}</code>`,
    `${s.adapters.length} adapter${s.adapters.length === 1 ? '' : 's'}`,
    `shards ${esc(sweep.runs.map((r) => `${r.shard.index}/${r.shard.count}`).join(', ') || MISSING)}`,
    `identity <code>${esc(s.identity.slice(0, 12))}</code>`,
  ].join(' · ');
  return htmlDocument({
    title: `deltascope sweep — ${s.spec_path || 'sweep'}`,
    generator: version,
    heading: 'deltascope sweep report',
    meta,
    sections: HTML_SWEEP_SECTIONS,
    main: [
      scoresSection(es),
      categoriesSection(es),
      adaptersSection(es),
      matrixSection(es),
      section('details', es.map(adapterDetail).join('\n')),
      sweepSection(sweep, es),
    ],
    footer: `Made by ${esc(version)}. One self-contained file: it makes no network request. Numbers are the sweep JSON report’s; each carries its path (data-key) and exact value (data-value).`,
    css: SWEEP_CSS,
  });
}
