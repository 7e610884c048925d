/**
 * A sweep report for people: score per adapter (the overall with its band and a bar, verdict
 * counts), then each probe's score per adapter, in the terminal and in markdown.
 */
import { markdownTable, textTable, type Align } from '../core/textTable.ts';
import { fmtScore, scoreBar } from './reports/format.ts';
import { sweepToLabelledResults, type LabelledSuiteResult, type SweepReport } from './sweep.ts';

const VERDICTS = ['pass', 'warn', 'fail', 'skip', 'error'] as const;

interface SweepTables {
  title: string;
  lines: string[];
  summary: { header: string[]; rows: string[][]; align: Align[] };
  probes: { header: string[]; rows: string[][]; align: Align[] };
}

function tables(sweep: SweepReport, bars: boolean): SweepTables {
  const results: LabelledSuiteResult[] = sweepToLabelledResults(sweep);
  const indexOf = new Map(sweep.results.map((r) => [r.label, r.index]));
  const total = sweep.sweep.adapters.length;
  const shards = sweep.runs.map((r) => `${r.shard.index}/${r.shard.count}`).join(', ');
  const summaryHeader = ['#', 'adapter', 'overall', ...(bars ? ['bar'] : []), 'band', ...VERDICTS];
  const summaryRows = results.map(({ label, result }) => {
    const counts = VERDICTS.map((v) => String(result.probes.filter((p) => p.verdict === v).length));
    const overall = result.score.overall;
    return [
      String((indexOf.get(label) ?? 0) + 1),
      label,
      fmtScore(overall),
      ...(bars ? [scoreBar(overall)] : []),
      result.score.band,
      ...counts,
    ];
  });
  // Probes in the order the first result lists them (every adapter runs the same suite).
  const names = results[0]?.result.probes.map((p) => p.name).filter((n) => n !== '__preflight__') ?? [];
  const probeRows = names.map((name) => [
    name,
    ...results.map(({ result }) => {
      const p = result.probes.find((q) => q.name === name);
      return p === undefined ? '' : p.score === null ? p.verdict : fmtScore(p.score);
    }),
  ]);
  return {
    title: `deltascope sweep: ${sweep.sweep.spec_path}`,
    lines: [
      `base: ${sweep.sweep.base}${sweep.sweep.base_revision !== null ? `@${sweep.sweep.base_revision}` : ''} (${sweep.sweep.dtype}, seed ${sweep.sweep.seed})`,
      `adapters: ${results.length} of ${total}` +
        (shards !== '' ? ` (shard${sweep.runs.length === 1 ? '' : 's'} ${shards})` : ''),
      `sweep identity: ${sweep.sweep.identity.slice(0, 12)}`,
      ...sweep.runs.flatMap((r) =>
        (r.failed ?? []).map(
          (f) =>
            `failed: ${f.label} (index ${f.index}, shard ${r.shard.index}/${r.shard.count}): ${f.code}: ${f.message}`,
        ),
      ),
    ],
    summary: {
      header: summaryHeader,
      rows: summaryRows,
      align: summaryHeader.map((h) => (h === 'adapter' || h === 'band' || h === 'bar' ? 'left' : 'right')),
    },
    probes: {
      header: ['probe', ...results.map((r) => r.label)],
      rows: probeRows,
      align: ['left', ...results.map((): Align => 'right')],
    },
  };
}

/** The terminal summary: score per adapter with bars, then probe × adapter scores. */
export function toSweepTerminal(sweep: SweepReport): string {
  const t = tables(sweep, true);
  const out = [t.title, ...t.lines, ''];
  out.push(...textTable(t.summary.header, t.summary.rows, t.summary.align, { indent: '  ' }), '');
  if (t.probes.rows.length > 0) {
    out.push('score per probe (a verdict where the probe has no score):');
    out.push(...textTable(t.probes.header, t.probes.rows, t.probes.align, { indent: '  ' }), '');
  }
  return out.join('\n');
}

/** The markdown report: the same two tables. */
export function toSweepMarkdown(sweep: SweepReport): string {
  const t = tables(sweep, false);
  const out = [`# ${t.title}`, '', ...t.lines.map((l) => `- ${l}`), '', '## Score per adapter', ''];
  out.push(...markdownTable(t.summary.header, t.summary.rows, t.summary.align), '');
  if (t.probes.rows.length > 0) {
    out.push('## Score per probe', '', '(a verdict where the probe has no score)', '');
    out.push(...markdownTable(t.probes.header, t.probes.rows, t.probes.align), '');
  }
  return out.join('\n');
}
