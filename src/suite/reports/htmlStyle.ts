/**
 * The HTML report's stylesheet and its one small script. The report is a single offline file: a
 * system font stack, no external anything. Light and dark follow `prefers-color-scheme`; the print
 * stylesheet opens every disclosure and drops the interactive bits.
 */
import { esc } from './htmlSvg.ts';

export const HTML_REPORT_CSS = `:root{color-scheme:light dark;--bg:#fff;--fg:#1d2430;--mute:#5b6576;--line:#d5dae3;--panel:#f4f6f9;--accent:#2b59c3;--accent2:#c2410c;--pass:#15803d;--fail:#b91c1c;--warn:#a16207;--skip:#6b7280;--error:#9d174d;--noise:#b91c1c;--partial:#d97706;--healthy:#15803d;--suspicious:#7c3aed;--band:#dbe4f7;--k0:#2b59c3;--k1:#d97706;--k2:#b91c1c}
@media (prefers-color-scheme:dark){:root{--bg:#12151b;--fg:#e4e8ef;--mute:#9aa4b5;--line:#363d4a;--panel:#1a1f28;--accent:#7aa2f7;--accent2:#fb923c;--pass:#4ade80;--fail:#f87171;--warn:#facc15;--skip:#9ca3af;--error:#f472b6;--noise:#f87171;--partial:#fbbf24;--healthy:#4ade80;--suspicious:#c4b5fd;--band:#2a3550;--k0:#7aa2f7;--k1:#fbbf24;--k2:#f87171}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:74rem;padding:1.25rem 1.5rem 3rem;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;background:var(--bg);color:var(--fg)}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin:0 0 .6rem;border-bottom:1px solid var(--line);padding-bottom:.25rem}h3{font-size:1rem;margin:.8rem 0 .4rem}
section{margin:1.6rem 0;break-inside:auto}
nav ol{display:flex;flex-wrap:wrap;gap:.3rem 1rem;padding:0;margin:.5rem 0;list-style:none}
a{color:var(--accent)}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.92em}
pre{white-space:pre-wrap;word-break:break-word;background:var(--panel);padding:.5rem;border-radius:4px;max-height:28rem;overflow:auto;margin:.3rem 0}
.meta,.note,.empty,.pin-pair,figcaption,caption{color:var(--mute)}
.pin .warn{border-left:4px solid var(--warn);padding-left:.5em}
table{border-collapse:collapse;margin:.4rem 0;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
th{font-weight:600;background:var(--panel)}
caption{text-align:left;padding:.2rem 0}
.n{text-align:right;white-space:nowrap}
.n.curve{white-space:normal;min-width:8rem;font-size:.9em}
table.probes td:last-child{min-width:16rem}
.kv tbody th{font-weight:500;background:none}
.wide{width:100%}
.verdict{font-weight:700;letter-spacing:.02em}
.v-pass{color:var(--pass)}.v-fail{color:var(--fail)}.v-warn{color:var(--warn)}.v-skip{color:var(--skip)}.v-error{color:var(--error)}
.headline{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:center}
.headline .big-verdict{font-size:1.6rem}
.band-name{font-weight:700}
.b-noise{color:var(--noise)}.b-partial{color:var(--partial)}.b-healthy{color:var(--healthy)}.b-suspicious{color:var(--suspicious)}
figure{margin:.6rem 0}
.chart{max-width:100%;overflow-x:auto}
.side-by-side{display:flex;flex-wrap:wrap;gap:1rem}
svg{max-width:100%;height:auto;font:11px system-ui,sans-serif;fill:var(--fg)}
svg .big{font-size:22px;font-weight:700}
svg .small{font-size:9px}
svg .mono{font-family:ui-monospace,Menlo,Consolas,monospace}
.track{stroke:var(--line)}
.band-noise{stroke:var(--noise)}.band-partial{stroke:var(--partial)}.band-healthy{stroke:var(--healthy)}.band-suspicious{stroke:var(--suspicious)}
.track-fill{fill:var(--panel);stroke:var(--line)}
.fill-accent{fill:var(--accent)}
.axis{stroke:var(--mute)}
.marker{stroke:var(--mute);stroke-dasharray:3 3}
.line-a{stroke:var(--accent)}.line-b{stroke:var(--accent2)}
.dot.line-a{fill:var(--accent)}.dot.line-b{fill:var(--accent2)}
.line-a-fill{fill:var(--accent)}.line-b-fill{fill:var(--accent2)}
.band-fill{fill:var(--band)}
.sample{fill:var(--mute)}
.raw{stroke:var(--fail)}
.k0{fill:var(--k0)}.k1{fill:var(--k1)}.k2{fill:var(--k2)}
.null-strip{vertical-align:middle;margin-left:.3rem}
details.data summary,details.evidence summary{cursor:pointer;color:var(--accent)}
.pin{border:1px solid var(--line);border-radius:6px;padding:.3rem .9rem .7rem;margin:.8rem 0;break-inside:avoid}
.tokens{line-height:1.9;font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-word}
.tok{padding:1px 0;border-radius:2px}
.tok:focus{outline:2px solid var(--accent)}
button.sort{font:inherit;font-weight:600;background:none;border:0;padding:0;color:inherit;cursor:pointer;text-align:inherit}
button.sort::after{content:" ↕";color:var(--mute)}
th[aria-sort=ascending] button.sort::after{content:" ↑"}th[aria-sort=descending] button.sort::after{content:" ↓"}
button.sort:focus-visible{outline:2px solid var(--accent)}
.hash{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
footer{margin-top:2rem;color:var(--mute);font-size:.85em}
@media print{:root{color-scheme:light}body{max-width:none;padding:0;font-size:11px;background:#fff;color:#000}nav,button.sort::after{display:none}details>summary{display:none}details::details-content{content-visibility:visible;display:contents}pre{max-height:none;overflow:visible}section{break-before:auto}h2{break-after:avoid}figure,table,.pin{break-inside:avoid}a{color:inherit;text-decoration:none}}`;

/**
 * Sortable tables (a button in each header cell; numbers sort by their exact `data-value`) and every
 * disclosure opened before printing. Without it the report reads the same, unsorted.
 */
export const HTML_REPORT_SCRIPT = `(function(){var q=function(s,r){return Array.prototype.slice.call((r||document).querySelectorAll(s))};q('table.sortable').forEach(function(t){var hs=q('thead th',t);hs.forEach(function(th,i){var b=document.createElement('button');b.type='button';b.className='sort';b.textContent=th.textContent;th.textContent='';th.appendChild(b);th.setAttribute('aria-sort','none');b.addEventListener('click',function(){var asc=th.getAttribute('aria-sort')!=='ascending';hs.forEach(function(o){o.setAttribute('aria-sort','none')});th.setAttribute('aria-sort',asc?'ascending':'descending');var tb=t.tBodies[0];var key=function(r){var c=r.cells[i];if(!c)return '';var v=c.getAttribute('data-value');return v===null?c.textContent:Number(v)};Array.prototype.slice.call(tb.rows).sort(function(a,b){var x=key(a),y=key(b),n=typeof x==='number',m=typeof y==='number',d=n&&m?x-y:n?-1:m?1:String(x).localeCompare(String(y));return asc?d:-d}).forEach(function(r){tb.appendChild(r)})})})});window.addEventListener('beforeprint',function(){q('details').forEach(function(d){d.open=true})})})();`;

/**
 * SHA-256 of HTML_REPORT_SCRIPT (base64), for the report's Content-Security-Policy: only this script
 * may run, so even text that escaped escaping could not execute. A unit test recomputes it.
 */
export const HTML_REPORT_SCRIPT_SHA256 = 'GNMozCyNb6AayPcrRkMBGLmwR8doDsk0zsBYBGMG0R8=';

/** No network at all: nothing may load; inline styles and the one hashed script may run. */
export const HTML_REPORT_CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${HTML_REPORT_SCRIPT_SHA256}'; img-src data:; base-uri 'none'; form-action 'none'`;

/** What a report page holds besides its sections: its own title, heading, meta line and footer. */
export interface HtmlPage {
  title: string;
  /** The `generator` meta tag (the version that made it). */
  generator: string;
  heading: string;
  /** The line under the heading (already HTML). */
  meta: string;
  /** Section id → title, for the navigation list. */
  sections: readonly (readonly [string, string])[];
  /** The sections (already HTML), in order. */
  main: readonly string[];
  /** The footer (already HTML). */
  footer: string;
  /** Styles added after the shared stylesheet. */
  css?: string;
}

/**
 * One self-contained report page, as every HTML report writes it: the CSP that allows no request
 * and only the hashed script, the shared stylesheet, header, section navigation, main, footer, and
 * the sorting script.
 */
export function htmlDocument(p: HtmlPage): string {
  const nav = p.sections.map(([id, t]) => `<li><a href="#${id}">${esc(t)}</a></li>`).join('');
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(HTML_REPORT_CSP)}">`,
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    `<meta name="generator" content="${esc(p.generator)}">`,
    `<title>${esc(p.title)}</title>`,
    `<style>${HTML_REPORT_CSS}${p.css !== undefined ? `\n${p.css}` : ''}</style></head><body>`,
    `<header><h1>${esc(p.heading)}</h1><p class="meta">${p.meta}</p></header>`,
    `<nav aria-label="Sections"><ol>${nav}</ol></nav>`,
    '<main>',
    ...p.main,
    '</main>',
    `<footer>${p.footer}</footer>`,
    `<script>${HTML_REPORT_SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
