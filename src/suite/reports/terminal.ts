import { oneLine, textTable } from '../../core/index.ts';
import type { SuiteResult } from '../types.ts';
import { MISSING, PROBE_ALIGN, PROBE_HEADER, exactRows, formatReport, scoreBar } from './format.ts';
import { hygieneLines } from '../promptHygiene.ts';

const INDENT = { indent: '  ' };

/**
 * The plain-text report for a terminal (sway's rich report without colour): header, overall score
 * and band, the component table with 10-character bars, one row per probe, findings, and the footer
 * `wall | version | det: class (seed=…) | cache: hits/total = pct%[ | batches: K (avg=X.X)]`.
 */
export function toTerminalReport(r: SuiteResult): string {
  const f = formatReport(r);
  const out: string[] = [
    `deltascope report${r.specPath ? `: ${r.specPath}` : ''}`,
    `base:    ${f.base}`,
    `adapter: ${f.adapter}`,
    '',
    `overall: ${f.overall}`,
    '',
  ];
  const components = f.components.map((c) => [
    c.category,
    c.scoreText,
    scoreBar(c.score),
    c.category === 'baseline' || c.weight === 0 ? `(informational, weight=${c.weight})` : c.weightText,
  ]);
  if (components.length > 0) {
    const header = ['category', 'score', 'bar', 'weight'];
    out.push(...textTable(header, components, ['left', 'right', 'left', 'left'], INDENT), '');
  }
  const probes = f.probes.map((p) => [...p.cells, p.message]);
  out.push(...textTable([...PROBE_HEADER, 'note'], probes, [...PROBE_ALIGN, 'left'], INDENT), '');
  const exact = exactRows(r);
  if (exact.length > 0) {
    out.push("exact divergences (full vocabulary; sway's top-k formula is the raw above):");
    const rows = exact.map((e) => [e.name, e.kind, e.js, e.kl]);
    out.push(
      ...textTable(['name', 'kind', 'JS', 'KL(ft‖base)'], rows, ['left', 'left', 'right', 'right'], INDENT),
      '',
    );
  }
  if (r.score.findings.length > 0) {
    out.push('findings:', ...r.score.findings.map((finding) => `  - ${oneLine(finding)}`), '');
  }
  const hygiene = r.hygiene === undefined ? [] : hygieneLines(r.hygiene);
  if (hygiene.length > 0) out.push('prompt hygiene:', ...hygiene.map((l) => `  - ${oneLine(l)}`), '');
  out.push([`wall ${f.wall}`, r.swayVersion || MISSING, `det: ${f.determinism}`, f.cache].join(' | '));
  return out.join('\n') + '\n';
}
