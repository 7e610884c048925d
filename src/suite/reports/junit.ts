import { pyFixed } from './format.ts';
import { CATEGORIES } from '../../probes/types.ts';
import type { SuiteResult } from '../types.ts';

/** Escapes text for an XML attribute or text node; drops characters XML 1.0 cannot carry. */
export function xmlEscape(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex -- XML 1.0 forbids these control characters outright.
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
      .replace(/\n/g, '&#10;')
  );
}

const num = (x: number | null | undefined): string =>
  typeof x === 'number' && Number.isFinite(x) ? String(x) : '';
const secs = (x: number): string => (Number.isFinite(x) ? pyFixed(x, 3) : '0.000');

/**
 * sway's JUnit XML: one `<testsuite name="sway">` with the overall score, band and per-category
 * components as properties, one `<testcase classname=kind name=name>` per probe, and a
 * `<failure>`, `<error>` or `<skipped>` child for FAIL, ERROR and SKIP (WARN passes, with its
 * message in `<system-out>`), so CI dashboards show probes as tests.
 */
export function toJunitXml(r: SuiteResult): string {
  const count = (v: string) => r.probes.filter((p) => p.verdict === v).length;
  const attrs = [
    `name="sway"`,
    `tests="${r.probes.length}"`,
    `failures="${count('fail')}"`,
    `errors="${count('error')}"`,
    `skipped="${count('skip')}"`,
    `time="${secs(r.wallSeconds)}"`,
  ];
  if (r.startedAt) attrs.push(`timestamp="${xmlEscape(r.startedAt)}"`);
  const out: string[] = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<testsuite ${attrs.join(' ')}>`,
    '  <properties>',
  ];
  const prop = (name: string, value: string) =>
    out.push(`    <property name="${xmlEscape(name)}" value="${xmlEscape(value)}"/>`);
  prop('overall', num(r.score.overall));
  prop('band', r.score.band);
  for (const cat of CATEGORIES) {
    const s = r.score.components[cat];
    if (s !== undefined) prop(`component.${cat}`, num(s));
  }
  out.push('  </properties>');
  for (const p of r.probes) {
    const open = `  <testcase classname="${xmlEscape(p.kind)}" name="${xmlEscape(p.name)}" time="${secs(p.durationS)}"`;
    const message = xmlEscape(p.message);
    const child =
      p.verdict === 'fail'
        ? `<failure message="${message}"/>`
        : p.verdict === 'error'
          ? `<error message="${message}"/>`
          : p.verdict === 'skip'
            ? `<skipped message="${message}"/>`
            : p.verdict === 'warn'
              ? `<system-out>WARN: ${message}</system-out>`
              : null;
    out.push(child === null ? `${open}/>` : `${open}>\n    ${child}\n  </testcase>`);
  }
  out.push('</testsuite>');
  return out.join('\n') + '\n';
}
