/**
 * The HTML report's building blocks: escaping, number cells that carry the JSON report's exact value,
 * and the inline SVG charts (gauge, bars, line, null strip). Colours are CSS classes resolved by the
 * report's stylesheet, so every chart follows light and dark mode and prints. Every string that comes
 * from a result goes through `esc` here or in the caller.
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text and attribute values: `& < > " '` escaped, so result text never becomes markup. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** The JSON report's spelling of a number (JSON.stringify's, which is String's for finite values). */
export const jsonNumber = (x: number): string => JSON.stringify(x);

/** ` data-value="x"` with the exact JSON value, so a reader (or a test) can check the shown text. */
export function dataValue(x: number | null | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? ` data-value="${jsonNumber(x)}"` : '';
}

/** A numeric table cell: the formatted text, the exact value in `data-value`. */
export function numCell(x: number | null | undefined, text: string, tag: 'td' | 'th' = 'td'): string {
  return `<${tag} class="n"${dataValue(x)}>${esc(text)}</${tag}>`;
}

/**
 * A cell or span that shows `text` for the JSON report's value at `key` (a dotted path, e.g.
 * `probes.3.score`): `data-key` names it and `data-value` holds the exact number, so anyone can
 * check that the shown text is that number formatted.
 */
export function keyed(
  key: string,
  x: number | null | undefined,
  text: string,
  tag: 'td' | 'span' | 'strong' = 'td',
): string {
  const cls = tag === 'td' ? ' class="n"' : '';
  return `<${tag}${cls} data-key="${esc(key)}"${dataValue(x)}>${esc(text)}</${tag}>`;
}

/** A table: header cells are escaped text; body cells (or whole `<tr>` rows) are HTML the caller built. */
export function table(
  headers: readonly string[],
  rows: readonly (string[] | string)[],
  opts: { caption?: string; cls?: string; numeric?: readonly boolean[] } = {},
): string {
  const head = headers
    .map((h, i) => `<th scope="col"${opts.numeric?.[i] ? ' class="n"' : ''}>${esc(h)}</th>`)
    .join('');
  // Key-value tables name each row by its first cell: a row header.
  const rowHeader = (cell: string) => cell.replace(/^<td/, '<th scope="row"').replace(/<\/td>$/, '</th>');
  const kv = opts.cls?.split(' ').includes('kv') === true;
  const body = rows
    .map((r) =>
      typeof r === 'string'
        ? r
        : `<tr>${r.map((cell, i) => (kv && i === 0 ? rowHeader(cell) : cell)).join('')}</tr>`,
    )
    .join('\n');
  return (
    `<table${opts.cls ? ` class="${opts.cls}"` : ''}>` +
    (opts.caption ? `<caption>${esc(opts.caption)}</caption>` : '') +
    `<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`
  );
}

/** A figure: the chart, its caption and (behind a disclosure) the table with the same numbers. */
export function figure(id: string, caption: string, svg: string, dataTable: string): string {
  return (
    `<figure id="${esc(id)}" class="chart">${svg}<figcaption>${esc(caption)}</figcaption>` +
    `<details class="data"><summary>Data table</summary>${dataTable}</details></figure>`
  );
}

/** Numbers in SVG coordinates: short, fixed, locale-free. */
const c = (x: number): string => (Number.isFinite(x) ? String(Math.round(x * 10) / 10) : '0');

/** Three significant digits for chart labels (tables carry the exact values). */
export function sig(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : x < 0 ? '−∞' : '—';
  return String(Number(x.toPrecision(3)));
}

const svgOpen = (w: number, h: number, label: string, cls = 'svg'): string =>
  `<svg class="${cls}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(label)}" xmlns="http://www.w3.org/2000/svg">`;

/** The overall score on a half-circle with sway's four bands behind it. */
export function gaugeSvg(score: number, band: string, scoreText: string): string {
  const clamped = Number.isFinite(score) ? Math.min(1, Math.max(0, score)) : 0;
  const pt = (v: number, r: number) => {
    const a = Math.PI * (1 - v);
    return `${c(80 + r * Math.cos(a))} ${c(80 - r * Math.sin(a))}`;
  };
  const arc = (from: number, to: number, cls: string, r = 62, width = 6) =>
    `<path d="M ${pt(from, r)} A ${r} ${r} 0 0 1 ${pt(to, r)}" class="${cls}" fill="none" stroke-width="${width}"/>`;
  const bands: [number, number, string][] = [
    [0, 0.3, 'noise'],
    [0.3, 0.6, 'partial'],
    [0.6, 0.85, 'healthy'],
    [0.85, 1, 'suspicious'],
  ];
  return (
    svgOpen(160, 96, `overall score ${scoreText}, band ${band}`, 'svg gauge') +
    bands.map(([a, b, cls]) => arc(a, b, `band-${cls}`, 72, 4)).join('') +
    arc(0, 1, 'track', 60, 12) +
    (clamped > 0 ? arc(0, clamped, `band-${esc(band)}`, 60, 12) : '') +
    `<text x="80" y="78" text-anchor="middle" class="big">${esc(scoreText)}</text></svg>`
  );
}

export interface Bar {
  label: string;
  value: number;
  /** Text after the bar (e.g. the value and a weight). */
  note: string;
}

/** Horizontal bars on a 0..max axis (categories: 0..1). */
export function barsSvg(bars: readonly Bar[], max: number, label: string, fillCls = 'fill-accent'): string {
  const rowH = 22;
  const w = 460;
  const left = 130;
  const right = 110;
  const h = bars.length * rowH + 6;
  const span = w - left - right;
  const inner = bars
    .map((b, i) => {
      const y = 4 + i * rowH;
      const v = Number.isFinite(b.value) ? Math.min(max, Math.max(0, b.value)) : 0;
      return (
        `<g><title>${esc(`${b.label}: ${b.note}`)}</title>` +
        `<text x="${left - 6}" y="${y + 14}" text-anchor="end">${esc(b.label)}</text>` +
        `<rect x="${left}" y="${y + 3}" width="${span}" height="14" class="track-fill"/>` +
        `<rect x="${left}" y="${y + 3}" width="${c((v / (max || 1)) * span)}" height="14" class="${fillCls}"/>` +
        `<text x="${left + span + 6}" y="${y + 14}">${esc(b.note)}</text></g>`
      );
    })
    .join('');
  return svgOpen(w, h, label) + inner + '</svg>';
}

export interface Series {
  name: string;
  values: readonly number[];
  /** CSS class of the stroke: `line-a`, `line-b`. */
  cls: string;
}

/** A line chart over x values (the ablation curve: divergence against λ), λ = 1 marked. */
export function lineSvg(
  xs: readonly number[],
  series: readonly Series[],
  label: string,
  markX: number | null = null,
): string {
  const w = 460;
  const h = 200;
  const left = 56;
  const bottom = 28;
  const top = 12;
  const right = 12;
  const all = series.flatMap((s) => s.values.filter(Number.isFinite));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yMax = Math.max(...all, 1e-12);
  const px = (x: number) => left + ((x - xMin) / (xMax - xMin || 1)) * (w - left - right);
  const py = (y: number) => h - bottom - (Math.max(0, y) / yMax) * (h - bottom - top);
  const axes =
    `<line x1="${left}" y1="${h - bottom}" x2="${w - right}" y2="${h - bottom}" class="axis"/>` +
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${h - bottom}" class="axis"/>` +
    `<text x="${left - 4}" y="${top + 4}" text-anchor="end">${esc(sig(yMax))}</text>` +
    `<text x="${left - 4}" y="${h - bottom}" text-anchor="end">0</text>` +
    xs.map((x) => `<text x="${c(px(x))}" y="${h - 10}" text-anchor="middle">${esc(x)}</text>`).join('');
  const mark =
    markX !== null && xs.includes(markX)
      ? `<line x1="${c(px(markX))}" y1="${top}" x2="${c(px(markX))}" y2="${h - bottom}" class="marker"><title>λ = 1: the adapter as trained</title></line>`
      : '';
  const lines = series
    .map((s) => {
      const pts = xs.map((x, i) => [x, s.values[i] ?? NaN] as const).filter(([, y]) => Number.isFinite(y));
      const d = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'} ${c(px(x))} ${c(py(y))}`).join(' ');
      const dots = pts
        .map(
          ([x, y]) =>
            `<circle cx="${c(px(x))}" cy="${c(py(y))}" r="3" class="dot ${s.cls}"><title>${esc(`${s.name}, λ ${x}: ${sig(y)}`)}</title></circle>`,
        )
        .join('');
      return `<path d="${d}" fill="none" class="${s.cls}" stroke-width="2"/>${dots}`;
    })
    .join('');
  const legend = series
    .map(
      (s, i) =>
        `<g transform="translate(${left + 8} ${top + 4 + i * 14})"><rect width="10" height="3" y="-4" class="${s.cls}-fill"/><text x="14">${esc(s.name)}</text></g>`,
    )
    .join('');
  return svgOpen(w, h, label) + axes + mark + lines + legend + '</svg>';
}

/**
 * A probe's raw value beside its null distribution (as the workbench draws it): each null sample a
 * dot, mean ± std a band, the mean a tick, the raw value a red marker; the axis spans all of them.
 */
export function nullStripSvg(
  raw: number,
  mean: number,
  std: number,
  samples: readonly number[],
  label: string,
  w = 160,
): string {
  const h = 26;
  const xs = [...samples, mean - std, mean + std, raw].filter(Number.isFinite);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const pad = (hi - lo || Math.abs(hi) || 1) * 0.06;
  const px = (v: number) => 4 + ((v - (lo - pad)) / (hi - lo + 2 * pad)) * (w - 8);
  return (
    svgOpen(w, h, label, 'svg null-strip') +
    `<title>${esc(label)}</title>` +
    `<line x1="4" y1="${h - 6}" x2="${w - 4}" y2="${h - 6}" class="axis"/>` +
    `<rect x="${c(px(mean - std))}" y="6" width="${c(Math.max(1, px(mean + std) - px(mean - std)))}" height="${h - 12}" class="band-fill"/>` +
    `<line x1="${c(px(mean))}" y1="4" x2="${c(px(mean))}" y2="${h - 4}" class="line-a" stroke-width="1.5"/>` +
    samples.map((v) => `<circle cx="${c(px(v))}" cy="${h / 2}" r="2.5" class="sample"/>`).join('') +
    `<line x1="${c(px(raw))}" y1="2" x2="${c(px(raw))}" y2="${h - 2}" class="raw" stroke-width="2"/>` +
    '</svg>'
  );
}

/** Grouped horizontal bars (p50/p95/p99 per op), each group a row of three thin bars. */
export function groupedBarsSvg(
  groups: readonly { label: string; values: readonly (number | null)[] }[],
  keys: readonly string[],
  label: string,
  unit: string,
): string {
  const barH = 8;
  const groupH = keys.length * (barH + 2) + 10;
  const w = 460;
  const left = 130;
  const right = 90;
  const span = w - left - right;
  const max = Math.max(...groups.flatMap((g) => g.values.filter((v): v is number => v !== null)), 1e-12);
  const h = groups.length * groupH + 22;
  const body = groups
    .map((g, gi) => {
      const y0 = 4 + gi * groupH;
      return (
        `<text x="${left - 6}" y="${y0 + groupH / 2}" text-anchor="end">${esc(g.label)}</text>` +
        g.values
          .map((v, ki) => {
            const y = y0 + ki * (barH + 2);
            const width = v === null ? 0 : (Math.max(0, v) / max) * span;
            const text = v === null ? '—' : `${sig(v)} ${unit}`;
            return (
              `<g><title>${esc(`${g.label} ${keys[ki]}: ${text}`)}</title>` +
              `<rect x="${left}" y="${y}" width="${c(width)}" height="${barH}" class="k${ki}"/>` +
              `<text x="${c(left + width + 4)}" y="${y + barH}" class="small">${esc(`${keys[ki]} ${text}`)}</text></g>`
            );
          })
          .join('')
      );
    })
    .join('');
  return svgOpen(w, h, label) + body + '</svg>';
}

/** One side of a pinned Compare: the top tokens' probabilities as bars. */
export function distributionSvg(rows: readonly { token: string; p: number }[], label: string): string {
  const rowH = 16;
  const w = 300;
  const left = 110;
  const right = 56;
  const span = w - left - right;
  const max = Math.max(...rows.map((r) => r.p), 1e-12);
  const h = rows.length * rowH + 4;
  const body = rows
    .map((r, i) => {
      const y = 2 + i * rowH;
      const pct = `${(r.p * 100).toFixed(2)}%`;
      return (
        `<g><title>${esc(`${r.token}: ${pct}`)}</title>` +
        `<text x="${left - 4}" y="${y + 11}" text-anchor="end" class="mono">${esc(r.token)}</text>` +
        `<rect x="${left}" y="${y + 2}" width="${c((r.p / max) * span)}" height="11" class="fill-accent"/>` +
        `<text x="${w - 2}" y="${y + 11}" text-anchor="end">${esc(pct)}</text></g>`
      );
    })
    .join('');
  return svgOpen(w, h, label) + body + '</svg>';
}
