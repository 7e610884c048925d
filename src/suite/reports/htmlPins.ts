/**
 * What the workbench pins to a report ("Add to report" in the Probe panel) and how the HTML report
 * draws it: a Compare (both top-k distributions side by side with the exact full-vocabulary
 * divergences), a continuation score, a heatmap (per-token log-prob delta). Plain data (number
 * arrays, no typed arrays) so a pin survives structured clone and IndexedDB as it is.
 */
import { dataValue, distributionSvg, esc, figure, jsonNumber, numCell, table } from './htmlSvg.ts';

export interface PinToken {
  id: number;
  token: string;
  logprob: number;
}

/** The pair a pin was computed on (pins outlive a reload and a change of pair). */
export interface PinPair {
  /** `BackendInfo.pairId`: with the dtype, what a report's suite is matched against. */
  pairId: string;
  /** In words: `<base> vs <ft>`. */
  label: string;
  dtype: string;
  device: string;
}

interface PinBase {
  /** Unique within a page's pins (the remove button's key). */
  id: string;
  /** The pair it was computed on (absent in pins from before it was recorded). */
  pair?: PinPair;
  /** When it was pinned (ISO 8601). */
  pinnedAt: string;
  /** The view set against base: `ft`, `scaled_<λ>` or `null_<seed>`. */
  view: string;
}

export interface ComparePin extends PinBase {
  kind: 'compare';
  prompt: string;
  topK: number;
  base: PinToken[];
  ft: PinToken[];
  /** Exact over the full vocabulary, nats (KL may be Infinity). */
  divergence: { js: number; klFtBase: number; klBaseFt: number; entropyBase: number; entropyFt: number };
  baseMass: number;
  ftMass: number;
}

export interface ContinuationPin extends PinBase {
  kind: 'continuation';
  prompt: string;
  continuation: string;
  /** log p(continuation | prompt), nats, per side; delta = ft − base. */
  base: number;
  ft: number;
  delta: number;
  numTokens: number;
}

export interface HeatmapPin extends PinBase {
  kind: 'heatmap';
  tokens: string[];
  /** log p(tᵢ | t<ᵢ) for i ≥ 1, per side (length tokens − 1). */
  baseLogprobs: number[];
  ftLogprobs: number[];
  baseMeanLogprob: number;
  ftMeanLogprob: number;
  basePerplexity: number;
  ftPerplexity: number;
}

export type ReportPin = ComparePin | ContinuationPin | HeatmapPin;

/** Whitespace made visible, as the workbench shows tokens: space "·", newline "⏎", tab "⇥". */
export function visibleToken(t: string): string {
  return t.replace(/ /g, '·').replace(/\n/g, '⏎').replace(/\t/g, '⇥') || '∅';
}

/** Fixed digits, '∞' for an infinite KL, '—' for NaN. */
export function fixedOrInf(x: number, digits: number): string {
  if (Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  return x.toFixed(digits);
}

const short = (t: string, n = 14): string => (t.length > n ? `${t.slice(0, n - 1)}…` : t);

function comparePin(p: ComparePin, i: number): string {
  const d = p.divergence;
  const divRows: [string, number][] = [
    ['JS divergence', d.js],
    [`KL(${p.view}‖base)`, d.klFtBase],
    [`KL(base‖${p.view})`, d.klBaseFt],
    ['entropy base', d.entropyBase],
    [`entropy ${p.view}`, d.entropyFt],
  ];
  const side = (title: string, rows: PinToken[], which: string) => {
    const probs = rows.map((r) => ({ token: short(visibleToken(r.token)), p: Math.exp(r.logprob) }));
    const data = table(
      ['rank', 'token id', 'token', 'log-prob', 'probability'],
      rows.map((r, k) => [
        numCell(k + 1, String(k + 1)),
        numCell(r.id, String(r.id)),
        `<td><code>${esc(visibleToken(r.token))}</code></td>`,
        numCell(r.logprob, jsonNumber(r.logprob)),
        `<td class="n">${esc(`${(Math.exp(r.logprob) * 100).toFixed(2)}%`)}</td>`,
      ]),
      { numeric: [true, true, false, true, true] },
    );
    return figure(
      `pin-${i}-${which}`,
      `${title}: top ${rows.length} next tokens`,
      distributionSvg(probs, `${title} next-token distribution`),
      data,
    );
  };
  return (
    `<article class="pin" data-pin="compare"><h3>Compare: base vs <code>${esc(p.view)}</code></h3>` +
    `<p class="prompt">Prompt: <q>${esc(p.prompt)}</q></p>` +
    table(
      ['divergence (exact, full vocabulary)', 'nats'],
      divRows.map(([name, v]) => [`<td>${esc(name)}</td>`, numCell(v, fixedOrInf(v, 6))]),
      { cls: 'kv', numeric: [false, true] },
    ) +
    `<p class="note">Top ${esc(p.topK)} rows drawn, covering <span${dataValue(p.baseMass)}>${esc(`${(p.baseMass * 100).toFixed(1)}%`)}</span> of base's probability and <span${dataValue(p.ftMass)}>${esc(`${(p.ftMass * 100).toFixed(1)}%`)}</span> of ${esc(p.view)}'s. The divergences are over the full vocabulary.</p>` +
    `<div class="side-by-side">${side('base', p.base, 'base')}${side(p.view, p.ft, 'ft')}</div></article>`
  );
}

function continuationPin(p: ContinuationPin): string {
  return (
    `<article class="pin" data-pin="continuation"><h3>Continuation score: base vs <code>${esc(p.view)}</code></h3>` +
    `<p class="prompt">Prompt: <q>${esc(p.prompt)}</q> · continuation: <q>${esc(p.continuation)}</q></p>` +
    table(
      ['', 'log p(continuation | prompt), nats'],
      [
        ['<td>base</td>', numCell(p.base, p.base.toFixed(4))],
        [`<td>${esc(p.view)}</td>`, numCell(p.ft, p.ft.toFixed(4))],
        [`<td>Δ (${esc(p.view)} − base)</td>`, numCell(p.delta, p.delta.toFixed(4))],
        ['<td>tokens</td>', numCell(p.numTokens, String(p.numTokens))],
      ],
      { cls: 'kv', numeric: [false, true] },
    ) +
    '</article>'
  );
}

/** Blue where the view likes a token more than base, red where less (as the workbench's heatmap). */
function deltaBackground(delta: number): string {
  const a = (Math.min(1, Math.abs(delta) / 3) * 0.55).toFixed(3);
  return delta >= 0 ? `rgba(37,99,235,${a})` : `rgba(220,38,38,${a})`;
}

function heatmapPin(p: HeatmapPin, i: number): string {
  const n = Math.min(p.baseLogprobs.length, p.ftLogprobs.length);
  const meanDelta = p.ftMeanLogprob - p.baseMeanLogprob;
  const spans = p.tokens
    .map((t, k) => {
      const scored = k >= 1 && k - 1 < n;
      if (!scored) return `<span class="tok">${esc(visibleToken(t))}</span>`;
      const b = p.baseLogprobs[k - 1]!;
      const f = p.ftLogprobs[k - 1]!;
      const d = f - b;
      return `<span class="tok" tabindex="0" style="background:${deltaBackground(d)}" title="${esc(`base ${b.toFixed(3)} · ${p.view} ${f.toFixed(3)} · Δ ${d.toFixed(3)} nats`)}" data-delta="${d.toFixed(4)}">${esc(visibleToken(t))}</span>`;
    })
    .join('');
  const rows = p.tokens.slice(1, n + 1).map((t, k) => {
    const b = p.baseLogprobs[k]!;
    const f = p.ftLogprobs[k]!;
    return [
      numCell(k + 1, String(k + 1)),
      `<td><code>${esc(visibleToken(t))}</code></td>`,
      numCell(b, b.toFixed(4)),
      numCell(f, f.toFixed(4)),
      numCell(f - b, (f - b).toFixed(4)),
    ];
  });
  const id = `pin-${i}-heatmap`;
  return (
    `<article class="pin" data-pin="heatmap"><h3>Heatmap: base vs <code>${esc(p.view)}</code></h3>` +
    `<p class="summary">mean Δ log-prob (${esc(p.view)} − base): <strong${dataValue(meanDelta)}>${esc(meanDelta.toFixed(3))} nats/token</strong> · perplexity base <span${dataValue(p.basePerplexity)}>${esc(p.basePerplexity.toFixed(2))}</span> → ${esc(p.view)} <span${dataValue(p.ftPerplexity)}>${esc(p.ftPerplexity.toFixed(2))}</span></p>` +
    `<figure id="${id}" class="chart"><p class="tokens" aria-describedby="${id}-caption">${spans}</p>` +
    `<figcaption id="${id}-caption">Per-token log-prob delta (${esc(p.view)} − base): blue where ${esc(p.view)} gives the token more probability, red where less; the first token has no prediction.</figcaption>` +
    `<details class="data"><summary>Data table</summary>${table(['position', 'token', 'base log-prob', `${p.view} log-prob`, 'Δ'], rows, { numeric: [true, false, true, true, true] })}</details></figure></article>`
  );
}

/** The report's own pair, as its provenance names it (null: unknown, nothing is flagged). */
export interface ReportPair {
  pairId: string | null;
  dtype: string | null;
}

/** Whether a pin was computed on another pair (or dtype) than the report's suite. */
export function pinFromOtherPair(p: ReportPin, report: ReportPair | null): boolean {
  if (p.pair === undefined || report === null || report.pairId === null) return false;
  return p.pair.pairId !== report.pairId || (report.dtype !== null && p.pair.dtype !== report.dtype);
}

/** The line under a pin's heading: which pair it came from, and a warning when not the report's. */
function pairLine(p: ReportPin, report: ReportPair | null): string {
  const on =
    p.pair === undefined
      ? 'Pair not recorded (pinned before deltascope kept it).'
      : `Computed on ${esc(p.pair.label)} · ${esc(p.pair.dtype)} · ${esc(p.pair.device)} · pinned ${esc(p.pinnedAt)}`;
  const other = pinFromOtherPair(p, report)
    ? `<p class="warn" role="note">Not the pair this report's suite ran on: these numbers come from <code>${esc(p.pair!.pairId)}</code> (${esc(p.pair!.dtype)}).</p>`
    : '';
  return `<p class="pin-pair">${on}</p>${other}`;
}

/** The pinned snapshots, in the order they were pinned, each naming the pair it was computed on. */
export function pinsHtml(pins: readonly ReportPin[], report: ReportPair | null = null): string {
  if (pins.length === 0) {
    return '<p class="empty">Nothing pinned. In the workbench, “Add to report” on a Compare, a continuation score or a heatmap puts it here.</p>';
  }
  return pins
    .map((p, i) => {
      const html =
        p.kind === 'compare'
          ? comparePin(p, i)
          : p.kind === 'continuation'
            ? continuationPin(p)
            : heatmapPin(p, i);
      // After the heading: which pair, and whether it is the report's.
      return html.replace('</h3>', `</h3>${pairLine(p, report)}`);
    })
    .join('\n');
}
