import { markdownTable, oneLine, pyFixed, textTable, type Align } from '../../core/index.ts';
import {
  RAW_CHANGE_RTOL,
  uniqueLabels,
  visibleRows,
  type CompareCell,
  type CompareMatrix,
  type Regression,
} from './compare.ts';
import { MISSING, fmtRaw, fmtScore } from './format.ts';
import { esc } from './htmlSvg.ts';

/** A row's standing against the baseline, the same word in every renderer. */
export type RowStatus = 'regressed' | 'changed' | 'same';

/** The matrix as cells: what the terminal, markdown, HTML and the workbench lay out. */
export interface CompareTable {
  /** Column labels (unique). */
  labels: string[];
  header: string[];
  align: Align[];
  rows: { name: string; status: RowStatus; cells: string[] }[];
  /** The composite row: overall and band per run, then its deltas. */
  composite: string[];
  /** How many rows the filter left out. */
  hidden: number;
}

/** A signed delta at two decimals as sway writes it: `+0.05`, `-0.30`, `0.00`, `—`. */
export function fmtDelta(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return MISSING;
  if (Math.abs(v) < 5e-5) return '0.00';
  return `${v > 0 ? '+' : ''}${pyFixed(v, 2)}`;
}

/** `PASS  0.70`: the verdict (padded so scores line up) and the score; `—` where the probe is absent. */
export function fmtVerdictScore(c: CompareCell): string {
  if (!c.present) return MISSING;
  return `${(c.verdict ?? '').toUpperCase().padEnd(5)} ${fmtScore(c.score)}`;
}

const statusOf = (row: { regressed: boolean; changed: boolean }): RowStatus =>
  row.regressed ? 'regressed' : row.changed ? 'changed' : 'same';

/**
 * Columns: status, probe, then per run its verdict + score and its raw, then per later run the score
 * delta against the baseline. `onlyChanged` drops the rows that did not change.
 */
export function compareTable(m: CompareMatrix, onlyChanged = false): CompareTable {
  const labels = uniqueLabels(m.runs.map((r) => r.label));
  const later = labels.slice(1);
  const header = ['status', 'probe', ...labels.flatMap((l) => [l, 'raw']), ...later.map((l) => `Δ ${l}`)];
  const align: Align[] = [
    'left',
    'left',
    ...labels.flatMap((): Align[] => ['left', 'right']),
    ...later.map((): Align => 'right'),
  ];
  const shown = visibleRows(m, onlyChanged);
  const rows = shown.map((row) => ({
    name: row.name,
    status: statusOf(row),
    cells: [
      statusOf(row) === 'same' ? '' : statusOf(row),
      row.name,
      ...row.cells.flatMap((c) => [fmtVerdictScore(c), c.present ? fmtRaw(c.raw) : MISSING]),
      ...row.cells.slice(1).map((c) => fmtDelta(c.deltaScore)),
    ],
  }));
  const composite = [
    '',
    'composite',
    ...m.runs.flatMap((r) => [`${fmtScore(r.overall)} ${r.band}`, '']),
    ...m.runs.slice(1).map((r) => fmtDelta(r.deltaOverall)),
  ];
  return { labels, header, align, rows, composite, hidden: m.rows.length - shown.length };
}

/**
 * One regression in words: `document_shift: PASS → FAIL, score -0.300`; `kl: missing (was PASS)`;
 * `kl: PASS → SKIP`; `kl: score → none`; `kl: new, FAIL`.
 */
export function describeRegression(r: Regression): string {
  const parts: string[] = [];
  const from = (r.fromVerdict ?? '').toUpperCase();
  const to = (r.toVerdict ?? '').toUpperCase();
  if (r.reasons.includes('missing')) parts.push(`missing (was ${from})`);
  if (r.reasons.includes('verdict') || r.reasons.includes('skipped')) parts.push(`${from} → ${to}`);
  if (r.reasons.includes('new-failure'))
    parts.push(r.fromVerdict === null ? `new, ${to}` : `${from} → ${to}`);
  if (r.reasons.includes('no-score')) parts.push('score → none');
  if (r.deltaScore !== null) {
    const d = pyFixed(r.deltaScore, 3);
    parts.push(`score ${r.deltaScore > 0 ? '+' : ''}${d}`);
  }
  return `${r.probe}: ${parts.join(', ')}`;
}

/** What counts as a regression (compare.ts's module doc), in one sentence for every renderer. */
export function regressionRule(m: CompareMatrix): string {
  return (
    `a verdict worse than the baseline's (pass → warn → fail/error), a score ≥ ${pyFixed(m.regressionThreshold, 2)} below it, ` +
    'a probe missing from the later run, skipped where the baseline ran it, or without a score where the baseline had one, ' +
    'or a fail/error where the baseline has no result for the probe (absent or skipped)'
  );
}

/** What counts as a change, in one phrase for every renderer. */
export function changeRule(m: CompareMatrix): string {
  return `a different verdict, a score moved by ≥ ${pyFixed(m.changeTolerance, 3)}, a raw moved by more than ${RAW_CHANGE_RTOL}·max(1, |a|, |b|), a probe or a score in one run only, or a regression`;
}

/**
 * The compare page's Content-Security-Policy: as the HTML report's (html.ts, HTML_REPORT_CSP) but
 * with no script at all — nothing may load, only the inline stylesheet applies.
 */
export const COMPARE_HTML_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

function regressionLines(m: CompareMatrix, labels: string[]): string[] {
  return m.regressions.map((r) => `${labels[r.run]}: ${describeRegression(r)}`);
}

/** The plain-text matrix for a terminal, regressions marked `!` and changes `*`. */
export function toTerminalCompare(m: CompareMatrix, opts: { onlyChanged?: boolean } = {}): string {
  const t = compareTable(m, opts.onlyChanged === true);
  const mark = (s: string) => (s === 'regressed' ? '!' : s === 'changed' ? '*' : '');
  const rows = [...t.rows.map((r) => [mark(r.cells[0]!), ...r.cells.slice(1)]), t.composite];
  const out = [
    `deltascope compare — ${m.runs.length} runs, baseline ${t.labels[0]}`,
    '',
    ...textTable(['', ...t.header.slice(1)], rows, t.align, { indent: '  ' }),
    '',
    `  ! regressed   * changed (${changeRule(m)})` +
      (t.hidden > 0 ? `   ${t.hidden} unchanged probe${t.hidden === 1 ? '' : 's'} not shown` : ''),
  ];
  if (t.rows.length === 0) out.push('  no probe changed against the baseline');
  if (m.regressions.length > 0) {
    out.push('', `regressions (${regressionRule(m)}):`, ...regressionLines(m, t.labels).map((l) => `  ${l}`));
  } else {
    out.push('', 'no regressions against the baseline');
  }
  return out.map(oneLine).join('\n') + '\n';
}

/** The runs table (markdown and HTML): one row per run, its score against the baseline's. */
const RUN_COLUMNS = ['run', 'finished_at', 'base', 'adapter', 'overall', 'band', 'Δ overall'];
const RUN_ALIGN: Align[] = ['left', 'left', 'left', 'left', 'right', 'left', 'right'];

function runCells(m: CompareMatrix, labels: readonly string[]): string[][] {
  return m.runs.map((r, i) => [
    labels[i]!,
    r.finishedAt || MISSING,
    r.baseModelId || MISSING,
    r.adapterId || MISSING,
    fmtScore(r.overall),
    r.band,
    fmtDelta(r.deltaOverall),
  ]);
}

/** The markdown matrix: a runs table, the probe table, and the regressions. */
export function toMarkdownCompare(m: CompareMatrix, opts: { onlyChanged?: boolean } = {}): string {
  const t = compareTable(m, opts.onlyChanged === true);
  const out = [
    `# deltascope compare — ${m.runs.length} runs`,
    '',
    `Baseline: **${t.labels[0]!.replace(/[\\*_`[\]|]/g, '\\$&')}**. Deltas are against the baseline.`,
    '',
    '## Runs',
    '',
    ...markdownTable(RUN_COLUMNS, runCells(m, t.labels), RUN_ALIGN),
    '',
    '## Probes',
    '',
    ...markdownTable(
      t.header,
      [...t.rows.map((r) => r.cells), t.composite.map((c, i) => (i === 1 ? `**${c}**` : c))],
      t.align,
    ),
    '',
  ];
  if (t.hidden > 0) out.push(`${t.hidden} unchanged probe${t.hidden === 1 ? '' : 's'} not shown.`, '');
  out.push('## Regressions', '', `A regression is ${regressionRule(m)}.`, '');
  if (m.regressions.length === 0) out.push('None.');
  else out.push(...regressionLines(m, t.labels).map((l) => `- ${l.replace(/[\\*_`[\]|]/g, '\\$&')}`));
  return out.join('\n') + '\n';
}

const CSS = `
:root { color-scheme: light dark; --fg:#1d2330; --bg:#fff; --muted:#566074; --line:#e4e7ed;
  --bad:#b42318; --bad-bg:#fef3f2; --chg:#8a5a00; --chg-bg:#fffaeb; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6e9ef; --bg:#14171c; --muted:#9aa3b2; --line:#2c323c;
  --bad:#ff8a80; --bad-bg:#3a1714; --chg:#ffd166; --chg-bg:#332a10; } }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 24px; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: left; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.regressed td { background: var(--bad-bg); } tr.regressed td:first-child { color: var(--bad); font-weight: 600; }
tr.changed td { background: var(--chg-bg); } tr.changed td:first-child { color: var(--chg); }
tr.composite td { font-weight: 600; border-top: 2px solid var(--line); }
.muted { color: var(--muted); }
#only-changed:checked ~ table tr.same { display: none; }
@media print { label[for=only-changed], #only-changed { display: none; } }
`;

/**
 * A small self-contained HTML page of the matrix: inline CSS only (light and dark), no script, no
 * external request. "Show only what changed" is a checkbox styled by CSS; `onlyChanged` ticks it.
 */
export function toHtmlCompare(m: CompareMatrix, opts: { onlyChanged?: boolean } = {}): string {
  const t = compareTable(m, false);
  const cls = (align: readonly Align[], i: number) => (align[i] === 'right' ? ' class="num"' : '');
  const head = (header: readonly string[], align: readonly Align[]) =>
    header.map((h, i) => `<th scope="col"${cls(align, i)}>${esc(h)}</th>`).join('');
  const tr = (align: readonly Align[], cells: string[], rowClass: string) =>
    `<tr class="${rowClass}">${cells.map((c, i) => `<td${cls(align, i)}>${esc(c)}</td>`).join('')}</tr>`;
  const runRows = runCells(m, t.labels)
    .map((cells) => tr(RUN_ALIGN, cells, 'run'))
    .join('\n');
  const regressions =
    m.regressions.length === 0
      ? '<p>None.</p>'
      : `<ul>${regressionLines(m, t.labels)
          .map((l) => `<li>${esc(l)}</li>`)
          .join('')}</ul>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(COMPARE_HTML_CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>deltascope compare — ${m.runs.length} runs</title>
<style>${CSS}</style>
</head>
<body>
<h1>deltascope compare — ${m.runs.length} runs</h1>
<p>Baseline: <strong>${esc(t.labels[0]!)}</strong>. Deltas are against the baseline.</p>
<h2>Runs</h2>
<table>
<thead><tr>${head(RUN_COLUMNS, RUN_ALIGN)}</tr></thead>
<tbody>
${runRows}
</tbody>
</table>
<h2>Probes</h2>
<input type="checkbox" id="only-changed"${opts.onlyChanged === true ? ' checked' : ''}> <label for="only-changed">Show only what changed</label>
<table>
<thead><tr>${head(t.header, t.align)}</tr></thead>
<tbody>
${t.rows.map((r) => tr(t.align, r.cells, r.status)).join('\n')}
${tr(t.align, t.composite, 'composite')}
</tbody>
</table>
<p class="muted">regressed: ${esc(regressionRule(m))}; changed: ${esc(changeRule(m))}.</p>
<h2>Regressions</h2>
${regressions}
</body>
</html>
`;
}
