// The sweep's HTML report on the demo sweep (examples/sweep-demo.yaml, run in-process): one point
// per adapter in the spec's order whose value is the JSON's composite score, every keyed number
// equal to the sweep JSON's at its path, a shard's report naming the adapters it lacks; the file
// self-contained (no loadable URL, the hashed script only) and under the size budget; hostile
// labels, names and messages are text, never markup.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';
import { HTML_SWEEP_SECTIONS, toSweepHtmlReport } from '../../src/suite/reports/htmlSweep.ts';
import { HTML_REPORT_SCRIPT_SHA256 } from '../../src/suite/reports/htmlStyle.ts';
import { fmtScore } from '../../src/suite/reports/format.ts';
import type { SweepReport } from '../../src/suite/sweep.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'deltascope-sweep-html-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Dom {
  querySelectorAll(s: string): ArrayLike<Element>;
  querySelector(s: string): Element | null;
  body: HTMLElement;
}

/** jsdom has no bundled types; the specifier is a variable so TypeScript does not look for them. */
async function parse(html: string): Promise<Dom> {
  const name = 'jsdom';
  const { JSDOM } = (await import(name)) as { JSDOM: new (html: string) => { window: { document: Dom } } };
  return new JSDOM(html).window.document;
}

const at = (json: unknown, key: string): unknown =>
  key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | null)?.[k], json);

const HOSTILE = `<script>alert("x")</script> & "quoted" 'single' <img src=x onerror=alert(1)> </textarea></title>`;

let sweep: SweepReport;

beforeAll(async () => {
  const io: CliIo = {
    out: () => {},
    err: () => {},
    cwd: ROOT,
    env: { DELTASCOPE_DISABLE_NULL_CACHE: '1' },
  };
  const out = join(dir, 'sweep.json');
  expect(await runCli(['sweep', 'examples/sweep-demo.yaml', '--quiet', '--json', out], io)).toBe(0);
  sweep = JSON.parse(readFileSync(out, 'utf8')) as SweepReport;
}, 120_000);

/** The composite score's points, in document order. */
const scorePoints = (doc: Dom) => Array.from(doc.querySelectorAll('#fig-sweep-score circle.pt'));

describe('toSweepHtmlReport on the demo sweep', () => {
  it('draws one point per adapter, in spec order, at the JSON composite score, labelled', async () => {
    const html = toSweepHtmlReport(sweep);
    const doc = await parse(html);
    const labels = sweep.sweep.adapters.map((a) => a.label);
    expect(labels).toEqual(['checkpoint-50', 'checkpoint-100', 'final']);
    const pts = scorePoints(doc);
    expect(pts.map((p) => Number(p.getAttribute('data-adapter')))).toEqual([0, 1, 2]);
    const scores = sweep.sweep.adapters.map(
      (a) => at(sweep.results.find((r) => r.index === a.index)!.report, 'score.overall') as number,
    );
    expect(scores.every((s) => typeof s === 'number')).toBe(true);
    expect(pts.map((p) => Number(p.getAttribute('data-value')))).toEqual(scores);
    pts.forEach((p, i) => {
      expect(at(sweep, p.getAttribute('data-key')!)).toBe(scores[i]);
      expect(p.textContent).toContain(labels[i]);
    });
    // Left to right in spec order, higher scores higher up.
    const xs = pts.map((p) => Number(p.getAttribute('cx')));
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    const ys = pts.map((p) => Number(p.getAttribute('cy')));
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) if (scores[i]! > scores[j]!) expect(ys[i]).toBeLessThan(ys[j]!);
    // Each point's value written beside it; the axis names each adapter.
    const svgText = doc.querySelector('#fig-sweep-score svg')!.textContent!;
    for (const s of scores) expect(svgText).toContain(fmtScore(s));
    for (const l of labels) expect(svgText).toContain(l);
    // Band thresholds drawn as guides.
    expect(doc.querySelectorAll('#fig-sweep-score line.guide').length).toBe(3);
  });

  it('keys every number to the sweep JSON: data-value equals the value at data-key', async () => {
    const doc = await parse(toSweepHtmlReport(sweep));
    const keyed = Array.from(doc.querySelectorAll('[data-key][data-value]'));
    expect(keyed.length).toBeGreaterThan(50);
    for (const el of keyed) {
      const key = el.getAttribute('data-key')!;
      expect([key, at(sweep, key)]).toEqual([key, Number(el.getAttribute('data-value'))]);
    }
    // A category line per category, each with a point per adapter.
    const cats = Object.keys(at(sweep.results[0]!.report, 'score.components') as object);
    const catPts = Array.from(doc.querySelectorAll('#fig-sweep-categories circle.pt'));
    expect(catPts.length).toBe(cats.length * 3);
    // Band, hashes and identity as text at their keys.
    for (const key of [
      'results.2.report.score.band',
      'results.0.report.provenance.adapter.name',
      'results.1.report.provenance.files.0.sha256',
      'sweep.identity',
    ])
      expect(doc.querySelector(`[data-key="${key}"]`)!.textContent).toBe(at(sweep, key));
  });

  it('has every section, per-adapter anchors, and the probe matrix against the first adapter', async () => {
    const doc = await parse(toSweepHtmlReport(sweep));
    for (const [id, title] of HTML_SWEEP_SECTIONS)
      expect(doc.querySelector(`section#${id} > h2`)!.textContent).toBe(title);
    const links = Array.from(doc.querySelectorAll('#adapters a')).map((a) => a.getAttribute('href'));
    expect(links).toEqual(['#adapter-0', '#adapter-1', '#adapter-2']);
    for (const l of links) expect(doc.querySelector(l!)).not.toBeNull();
    const head = Array.from(doc.querySelectorAll('#matrix thead th')).map((th) => th.textContent);
    expect(head).toEqual(['probe', 'kind', 'checkpoint-50', 'checkpoint-100', 'final']);
    const probes = (at(sweep.results[0]!.report, 'probes') as { name: string }[]).map((p) => p.name);
    expect(
      Array.from(doc.querySelectorAll('#matrix tbody tr td:first-child')).map((t) => t.textContent),
    ).toEqual(probes);
  });

  it('is self-contained: CSP, the hashed script only, no loadable URL; under 200 KB', async () => {
    const html = toSweepHtmlReport(sweep);
    expect(Buffer.byteLength(html)).toBeLessThan(200_000);
    expect(html).not.toMatch(/\s(src|srcset|action|poster)\s*=/i);
    expect(html).not.toMatch(/\shref\s*=\s*(?!["']?#)/i);
    expect(html).not.toMatch(/url\(|@import/i);
    const doc = await parse(html);
    expect(
      doc.querySelector('meta[http-equiv="Content-Security-Policy"]')!.getAttribute('content'),
    ).toContain("default-src 'none'");
    const scripts = Array.from(doc.querySelectorAll('script'));
    expect(scripts.length).toBe(1);
    expect(createHash('sha256').update(scripts[0]!.textContent!).digest('base64')).toBe(
      HTML_REPORT_SCRIPT_SHA256,
    );
  });

  it("a shard's report shows its adapters and names the others as not in it", async () => {
    const shard: SweepReport = { ...sweep, results: sweep.results.filter((r) => r.index === 1) };
    const doc = await parse(toSweepHtmlReport(shard));
    const pts = scorePoints(doc);
    expect(pts.map((p) => p.getAttribute('data-adapter'))).toEqual(['1']);
    expect(pts[0]!.getAttribute('data-key')).toBe('results.0.report.score.overall');
    expect(Number(pts[0]!.getAttribute('data-value'))).toBe(at(shard, 'results.0.report.score.overall'));
    expect(doc.querySelector('#adapters tbody')!.textContent).toContain('not in this report');
    expect(doc.querySelectorAll('#matrix thead th').length).toBe(3);
  });

  it('escapes hostile labels, refs, spec and base names, probe names and messages', async () => {
    const bad = JSON.parse(JSON.stringify(sweep)) as SweepReport;
    bad.sweep.spec_path = `spec ${HOSTILE}`;
    bad.sweep.base = `base ${HOSTILE}`;
    bad.sweep.adapters.forEach((a, i) => (a.label = `${i} ${HOSTILE}`));
    bad.results.forEach((r) => {
      r.label = `${r.index} ${HOSTILE}`;
      r.ref = `ref ${HOSTILE}`;
      const probes = r.report.probes as { name: string; message: string }[];
      probes[0]!.name = `probe ${HOSTILE}`;
      probes[0]!.message = `message ${HOSTILE}`;
      (r.report.provenance as { adapter: { name: string } }).adapter.name = `name ${HOSTILE}`;
    });
    const html = toSweepHtmlReport(bad);
    const doc = await parse(html);
    expect(doc.querySelectorAll('script').length).toBe(1);
    expect(doc.querySelectorAll('img, textarea').length).toBe(0);
    expect(html).not.toContain('<img src=x');
    expect(doc.querySelector('title')!.textContent).toBe(`deltascope sweep — spec ${HOSTILE}`);
    expect(doc.querySelector('#adapter-1')!.textContent).toContain(`1 ${HOSTILE}`);
    expect(doc.querySelector('#details')!.textContent).toContain(`probe ${HOSTILE}`);
    expect(doc.querySelector('#details')!.textContent).toContain(`message ${HOSTILE}`);
    expect(doc.querySelector('[data-key="results.0.report.provenance.adapter.name"]')!.textContent).toBe(
      `name ${HOSTILE}`,
    );
    expect(scorePoints(doc).length).toBe(3);
  });
});
