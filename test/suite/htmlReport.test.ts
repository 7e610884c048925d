// The HTML report as a pure function: everything from the result (probe names, kinds, messages,
// evidence, findings, model ids, pinned prompts and tokens) is text, never markup; the sections,
// pins, provenance and "not recorded" fallbacks; the CSP's script hash.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HTML_REPORT_SECTIONS, toHtmlReport } from '../../src/suite/reports/html.ts';
import type { ReportPin } from '../../src/suite/reports/htmlPins.ts';
import {
  HTML_REPORT_CSP,
  HTML_REPORT_SCRIPT,
  HTML_REPORT_SCRIPT_SHA256,
} from '../../src/suite/reports/htmlStyle.ts';
import type { SuiteResult } from '../../src/suite/types.ts';
import { fixtureResult } from './reportFixture.ts';

interface Dom {
  querySelectorAll(s: string): ArrayLike<Element>;
  querySelector(s: string): Element | null;
  body: HTMLElement;
}

type JsdomCtor = new (html: string) => { window: { document: Dom } };
let JSDOM: JsdomCtor | null = null;
/** jsdom has no bundled types; the specifier is a variable so TypeScript does not look for them. */
async function parse(html: string): Promise<Dom> {
  const name = 'jsdom';
  JSDOM ??= ((await import(name)) as { JSDOM: JsdomCtor }).JSDOM;
  return new JSDOM(html).window.document;
}

const HOSTILE = `<script>alert("x")</script> & "quoted" 'single' <img src=x onerror=alert(1)> </textarea></title>`;

function hostileResult(): SuiteResult {
  const r = fixtureResult();
  r.specPath = `spec ${HOSTILE}.yaml`;
  r.baseModelId = `base ${HOSTILE}`;
  r.adapterId = `adapter ${HOSTILE}`;
  r.score.findings = [`finding ${HOSTILE}`];
  r.determinism.notes = [`note ${HOSTILE}`];
  r.nullStats = { [`kind ${HOSTILE}`]: { mean: 0.5, std: 0.1, n: 3 } };
  r.probes[0] = {
    ...r.probes[0]!,
    name: `probe ${HOSTILE}`,
    kind: `kind ${HOSTILE}`,
    message: `message ${HOSTILE}`,
    evidence: { [`key ${HOSTILE}`]: `value ${HOSTILE}`, exact_js: 0.25 },
  };
  r.probes.push({
    name: `ablate ${HOSTILE}`,
    kind: 'adapter_ablation',
    verdict: 'pass',
    score: 0.9,
    raw: 0.95,
    zScore: null,
    baseValue: null,
    ftValue: null,
    evidence: {
      lambdas: [0, 0.5, 1, 1.25],
      mean_divergence_per_lambda: [0, 0.1, 0.2, 0.26],
      exact_js_per_lambda: [0, 0.05, 0.1, 0.13],
      saturation_reason: `found ${HOSTILE}`,
    },
    message: `curve ${HOSTILE}`,
    durationS: 1,
    ci95: null,
  });
  r.provenance = {
    deltascope_version: `0.1.0 ${HOSTILE}`,
    created_at: '2025-01-02T03:04:05.000Z',
    base: { id: `base ${HOSTILE}`, revision: 'main' },
    ft: null,
    adapter: { id: 'org/adapter', revision: null, name: `name ${HOSTILE}` },
    dtype: null,
    device: 'cpu',
    files: [{ role: 'base', path: `onnx/${HOSTILE}.onnx`, bytes: 1234, sha256: 'ab'.repeat(32) }],
    spec_path: `spec ${HOSTILE}`,
    spec_sha256: null,
    seed: 7,
  };
  return r;
}

function pins(): ReportPin[] {
  return [
    {
      kind: 'compare',
      id: 'p1',
      pinnedAt: '2025-01-02T03:04:05.000Z',
      view: `scaled_0.50`,
      prompt: `prompt ${HOSTILE}`,
      topK: 2,
      base: [
        { id: 1, token: ` ${HOSTILE}`, logprob: Math.log(0.5) },
        { id: 2, token: '&amp;', logprob: Math.log(0.25) },
      ],
      ft: [
        { id: 2, token: '&amp;', logprob: Math.log(0.7) },
        { id: 1, token: ` ${HOSTILE}`, logprob: Math.log(0.1) },
      ],
      divergence: { js: 0.123456789, klFtBase: Infinity, klBaseFt: 0.5, entropyBase: 1.2, entropyFt: 0.9 },
      baseMass: 0.75,
      ftMass: 0.8,
    },
    {
      kind: 'continuation',
      id: 'p2',
      pinnedAt: '2025-01-02T03:04:05.000Z',
      view: 'ft',
      prompt: `prompt ${HOSTILE}`,
      continuation: ` cont ${HOSTILE}`,
      base: -12.5,
      ft: -3.25,
      delta: 9.25,
      numTokens: 4,
    },
    {
      kind: 'heatmap',
      id: 'p3',
      pinnedAt: '2025-01-02T03:04:05.000Z',
      view: 'ft',
      tokens: ['<s>', ' a', ` ${HOSTILE}`, '\n'],
      baseLogprobs: [-1, -2, -3],
      ftLogprobs: [-0.5, -2.5, -3],
      baseMeanLogprob: -2,
      ftMeanLogprob: -2,
      basePerplexity: 7.389,
      ftPerplexity: 7.389,
    },
  ];
}

/** No markup came from the result: one script (the report's own), no img, no event handlers. */
function expectInert(doc: Dom) {
  const scripts = Array.from(doc.querySelectorAll('script'));
  expect(scripts).toHaveLength(1);
  expect(scripts[0]!.textContent).toBe(HTML_REPORT_SCRIPT);
  expect(doc.querySelectorAll('img, iframe, object, embed, link, textarea')).toHaveLength(0);
  for (const el of Array.from(doc.querySelectorAll('*'))) {
    for (const attr of Array.from(el.attributes)) {
      expect(attr.name.startsWith('on'), `${el.tagName} ${attr.name}`).toBe(false);
      expect(attr.name, el.tagName).not.toBe('src');
    }
  }
}

describe('toHtmlReport', () => {
  it('keeps every string from the result as text: markup, quotes and ampersands survive as written', async () => {
    const html = toHtmlReport(hostileResult(), { pins: pins() });
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    const doc = await parse(html);
    expectInert(doc);
    const text = doc.body.textContent!;
    for (const what of [
      'probe',
      'kind',
      'message',
      'finding',
      'note',
      'base',
      'adapter',
      'curve',
      'prompt',
    ]) {
      expect(text, what).toContain(`${what} ${HOSTILE}`);
    }
    expect(doc.querySelector('title')!.textContent).toContain(HOSTILE);
    // Evidence keys and values, tokens (whitespace made visible), file paths.
    expect(doc.querySelector('#probe-0 pre')!.textContent).toContain(`"key ${HOSTILE.replace(/"/g, '\\"')}"`);
    expect(text).toContain(`·${HOSTILE.replace(/ /g, '·')}`);
    expect(text).toContain('&amp;');
    expect(text).toContain(`onnx/${HOSTILE}.onnx`);
    // The probe table's first cell is the name, as text.
    expect(doc.querySelector('#probe-0 td')!.textContent).toBe(`probe ${HOSTILE}`);
  });

  it('stays inert for any probe name, message and evidence string (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), fc.string(), async (name, message, value) => {
        const r = fixtureResult();
        r.probes[0] = { ...r.probes[0]!, name, message, evidence: { [value]: value } };
        const doc = await parse(toHtmlReport(r, { pins: [{ ...pins()[1]!, prompt: value } as ReportPin] }));
        expectInert(doc);
        expect(doc.querySelector('#probe-0 td')!.textContent).toBe(name);
      }),
      { numRuns: 40 },
    );
  });

  it('has every section, pins included, in order, each with its heading', async () => {
    const doc = await parse(toHtmlReport(hostileResult(), { pins: pins() }));
    const ids = Array.from(doc.querySelectorAll('main > section')).map((s) => s.id);
    expect(ids).toEqual(HTML_REPORT_SECTIONS.map(([id]) => id));
    // Every chart is a figure with a caption and a data table behind it.
    const figures = Array.from(doc.querySelectorAll('figure.chart'));
    expect(figures.length).toBeGreaterThanOrEqual(6);
    for (const f of figures) {
      expect(f.querySelector('figcaption')?.textContent, f.id).toBeTruthy();
      expect(f.querySelector('details.data table'), f.id).not.toBeNull();
    }
    for (const svg of Array.from(doc.querySelectorAll('svg'))) {
      expect(svg.getAttribute('role')).toBe('img');
      expect(svg.getAttribute('aria-label')).toBeTruthy();
    }
  });

  it('draws pinned snapshots: both distributions, the exact divergences (∞ for an infinite KL), the continuation, the heatmap', async () => {
    const doc = await parse(toHtmlReport(fixtureResult(), { pins: pins() }));
    const compare = doc.querySelector('[data-pin="compare"]')!;
    expect(compare.querySelectorAll('figure.chart')).toHaveLength(2);
    const cells = Array.from(compare.querySelectorAll('table.kv td.n')).map((c) => c.textContent);
    expect(cells).toEqual(['0.123457', '∞', '0.500000', '1.200000', '0.900000']);
    expect(compare.querySelector('table.kv td.n')!.getAttribute('data-value')).toBe('0.123456789');
    const baseRows = Array.from(compare.querySelectorAll('figure')[0]!.querySelectorAll('tbody tr'));
    expect(baseRows.map((r) => r.querySelectorAll('td')[4]!.textContent)).toEqual(['50.00%', '25.00%']);
    const cont = doc.querySelector('[data-pin="continuation"]')!;
    expect(Array.from(cont.querySelectorAll('td.n')).map((c) => c.textContent)).toEqual([
      '-12.5000',
      '-3.2500',
      '9.2500',
      '4',
    ]);
    const heat = doc.querySelector('[data-pin="heatmap"]')!;
    expect(heat.querySelectorAll('.tok')).toHaveLength(4);
    expect(
      Array.from(heat.querySelectorAll('.tok[data-delta]')).map((t) => t.getAttribute('data-delta')),
    ).toEqual(['0.5000', '-0.5000', '0.0000']);
    expect(heat.querySelectorAll('tbody tr')).toHaveLength(3);
  });

  it('says what is not recorded: no pins, no metrics, no provenance, no ablation probe', async () => {
    const r = fixtureResult();
    r.probes = r.probes.filter((p) => p.kind !== 'adapter_ablation');
    r.backendStats = {};
    const doc = await parse(toHtmlReport(r));
    expect(doc.querySelector('#pins')!.textContent).toContain('Nothing pinned');
    expect(doc.querySelector('#trace')!.textContent).toContain('Run metrics not recorded');
    expect(doc.querySelector('#trace')!.textContent).toContain('Backend stats not recorded');
    expect(doc.querySelector('[data-testid="provenance-missing"]')).not.toBeNull();
    expect(doc.querySelector('#ablation')!.textContent).toContain('No adapter_ablation probe');
  });

  it('names the pair each pin was computed on, and flags a pin from another pair than the suite’s', async () => {
    const r = hostileResult();
    r.provenance = { ...r.provenance!, pair_id: 'demo:deltascope-demo', dtype: 'fp32' };
    const pair = (pairId: string, dtype = 'fp32') => ({
      pairId,
      label: `base vs ft ${HOSTILE}`,
      dtype,
      device: 'webgpu',
    });
    const [compare, continuation, heatmap] = pins();
    const doc = await parse(
      toHtmlReport(r, {
        pins: [
          { ...compare!, pair: pair('demo:deltascope-demo') },
          { ...continuation!, pair: pair(`hub:other ${HOSTILE}`) },
          { ...heatmap!, pair: pair('demo:deltascope-demo', 'q4') },
        ],
      }),
    );
    const articles = Array.from(doc.querySelectorAll('#pins article.pin'));
    expect(articles.map((a) => a.querySelector('.pin-pair')!.textContent)).toEqual([
      `Computed on base vs ft ${HOSTILE} · fp32 · webgpu · pinned 2025-01-02T03:04:05.000Z`,
      expect.stringContaining(`Computed on base vs ft ${HOSTILE} · fp32`),
      expect.stringContaining(`Computed on base vs ft ${HOSTILE} · q4`),
    ]);
    expect(articles.map((a) => a.querySelector('.warn') !== null)).toEqual([false, true, true]);
    expect(articles[1]!.querySelector('.warn code')!.textContent).toBe(`hub:other ${HOSTILE}`);
    // A pin from before pairs were recorded, or a report that names no pair, flags nothing.
    const old = await parse(toHtmlReport(hostileResult(), { pins: [{ ...compare!, pair: pair('x') }] }));
    expect(old.querySelector('#pins .warn')).toBeNull();
    const unknown = await parse(toHtmlReport(r, { pins: [compare!] }));
    expect(unknown.querySelector('#pins .pin-pair')!.textContent).toContain('Pair not recorded');
    expect(unknown.querySelector('#pins .warn')).toBeNull();
  });

  it('shows the provenance it has and "not recorded" for each field it lacks', async () => {
    const doc = await parse(toHtmlReport(hostileResult()));
    const cell = (key: string) => doc.querySelector(`#provenance [data-key="${key}"]`)!.textContent;
    expect(cell('provenance.device')).toBe('cpu');
    expect(cell('provenance.dtype')).toBe('not recorded');
    expect(cell('provenance.spec_sha256')).toBe('not recorded');
    expect(cell('provenance.base.revision')).toBe('main');
    expect(cell('provenance.adapter.name')).toBe(`name ${HOSTILE}`);
    expect(cell('provenance.files.0.sha256')).toBe('ab'.repeat(32));
    expect(doc.querySelector('[data-testid="provenance-missing"]')).toBeNull();
  });

  it('allows only its own script: the CSP carries the SHA-256 of the inline script', () => {
    const hash = createHash('sha256').update(HTML_REPORT_SCRIPT, 'utf8').digest('base64');
    expect(HTML_REPORT_SCRIPT_SHA256).toBe(hash);
    expect(HTML_REPORT_CSP).toContain(`'sha256-${hash}'`);
    expect(HTML_REPORT_CSP).toContain("default-src 'none'");
  });
});
