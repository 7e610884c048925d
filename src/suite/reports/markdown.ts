import { markdownTable, oneLine } from '../../core/index.ts';
import type { SuiteResult } from '../types.ts';
import { MISSING, PROBE_ALIGN, PROBE_HEADER, exactRows, formatReport, fmtDuration } from './format.ts';
import { hygieneLines } from '../promptHygiene.ts';

function backendLine(stats: SuiteResult['backendStats'], cache: string): string {
  if (!('forward_passes' in stats)) return cache;
  return `${cache} | forward passes: ${stats.forward_passes} | scoring: ${fmtDuration(stats.scoring_wall_s)}`;
}

/**
 * sway's markdown report: summary lines (Overall, Base, Adapter, Wall, Determinism, Backend), the
 * Components and Probes tables (cells escaped by core's `markdownCell`), Top findings and Skipped
 * probes.
 */
export function toMarkdownReport(r: SuiteResult): string {
  const f = formatReport(r);
  const out: string[] = [
    `# deltascope report${r.swayVersion ? ` (${r.swayVersion})` : ''}`,
    '',
    `- **Overall:** ${f.overall}`,
    `- **Base:** \`${f.base}\``,
    `- **Adapter:** \`${f.adapter}\``,
    `- **Wall:** ${f.wall}`,
    `- **Determinism:** ${f.determinism}`,
    `- **Backend:** ${backendLine(r.backendStats, f.cache)}`,
    '',
    '## Components',
    '',
    ...markdownTable(
      ['category', 'score', 'weight'],
      f.components.map((c) => [c.category, c.scoreText, c.weightText]),
      ['left', 'right', 'right'],
    ),
    '',
    '## Probes',
    '',
    ...markdownTable(
      [...PROBE_HEADER, 'duration', 'note'],
      f.probes.map((p) => [...p.cells, p.duration, p.message]),
      [...PROBE_ALIGN, 'right', 'left'],
    ),
    '',
    '## Top findings',
    '',
  ];
  if (r.score.findings.length === 0) out.push('- none');
  for (const finding of r.score.findings) out.push(`- ${oneLine(finding)}`);
  const exact = exactRows(r);
  if (exact.length > 0) {
    out.push('', '## Exact divergences (full vocabulary)', '');
    out.push(
      ...markdownTable(
        ['name', 'kind', 'JS', 'KL(ft‖base)'],
        exact.map((e) => [e.name, e.kind, e.js, e.kl]),
        ['left', 'left', 'right', 'right'],
      ),
    );
  }
  const hygiene = r.hygiene === undefined ? [] : hygieneLines(r.hygiene);
  if (hygiene.length > 0) {
    out.push('', '## Prompt hygiene', '');
    for (const line of hygiene) out.push(`- ${oneLine(line)}`);
  }
  const skipped = r.probes.filter((p) => p.verdict === 'skip');
  if (skipped.length > 0) {
    out.push('', '## Skipped probes', '');
    for (const p of skipped) out.push(`- \`${p.name}\` (${p.kind}): ${oneLine(p.message) || MISSING}`);
  }
  return out.join('\n') + '\n';
}
