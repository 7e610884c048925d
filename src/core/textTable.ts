/**
 * The tables every report draws (trace analysis, suite reports), in plain text and markdown. One
 * escaping rule per format lives here, so a cell that cannot break a table in one report cannot
 * break it in another.
 */

/** Numbers align right, text left. */
export type Align = 'left' | 'right';

/** Text on one line: every line break (`\r\n`, `\n`, `\r`) becomes a space. */
export function oneLine(s: string): string {
  return s.replace(/\r\n|\n|\r/g, ' ');
}

/** A markdown table cell: backslashes and pipes escaped, line breaks flattened to spaces. */
export function markdownCell(s: string): string {
  return oneLine(s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|'));
}

/** A markdown table: the header row, the alignment row (`---` / `---:`) and one row per entry. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[],
): string[] {
  const row = (cells: readonly string[]) => `| ${cells.map(markdownCell).join(' | ')} |`;
  return [
    row(header),
    `|${header.map((_, i) => (align[i] === 'right' ? ' ---: ' : ' --- ')).join('|')}|`,
    ...rows.map(row),
  ];
}

export interface TextTableOptions {
  /** Put before every line (e.g. two spaces to nest the table under a heading). */
  indent?: string;
  /** A line of dashes under the header, one run per column. */
  rule?: boolean;
}

/**
 * A plain-text table: cells on one line, each column padded to its widest cell (right-aligned where
 * `align` says so), columns two spaces apart, no trailing spaces.
 */
export function textTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[],
  opts: TextTableOptions = {},
): string[] {
  const indent = opts.indent ?? '';
  const cells = [header, ...rows].map((r) => r.map(oneLine));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    (
      indent +
      widths
        .map((w, i) => (align[i] === 'right' ? (r[i] ?? '').padStart(w) : (r[i] ?? '').padEnd(w)))
        .join('  ')
    ).trimEnd();
  const [head, ...body] = cells;
  const out = [line(head!)];
  if (opts.rule === true) out.push(indent + widths.map((w) => '-'.repeat(w)).join('  '));
  return [...out, ...body.map(line)];
}
