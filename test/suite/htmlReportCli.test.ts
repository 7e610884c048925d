// `deltascope run … --html` in-process on the bundled demo pair (merged) and on the demo base +
// adapter (null calibration and an ablation curve): the file is self-contained and under the size
// budget, every section is there, and every number it keys to the JSON report equals the JSON
// report's, as value and as text.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';
import { HTML_REPORT_SECTIONS } from '../../src/suite/reports/html.ts';
import { fmtCi, fmtDuration, fmtRaw, fmtScore, fmtZ } from '../../src/suite/reports/format.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'deltascope-html-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Dom {
  querySelectorAll(s: string): ArrayLike<Element>;
  querySelector(s: string): Element | null;
}

/** jsdom has no bundled types; the specifier is a variable so TypeScript does not look for them. */
async function parse(html: string): Promise<Dom> {
  const name = 'jsdom';
  const { JSDOM } = (await import(name)) as { JSDOM: new (html: string) => { window: { document: Dom } } };
  return new JSDOM(html).window.document;
}

const at = (json: unknown, key: string): unknown =>
  key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | null)?.[k], json);

interface Run {
  html: string;
  json: Record<string, unknown>;
  doc: Dom;
}

async function runSuite(spec: string, name: string): Promise<Run> {
  let stderr = '';
  const io: CliIo = {
    out: () => {},
    err: (t) => (stderr += t),
    cwd: dir,
    env: { DELTASCOPE_NULL_CACHE_DIR: join(dir, 'null-stats') },
  };
  const code = await runCli(
    [
      'run',
      join(ROOT, 'examples', spec),
      '--json',
      `out/${name}.json`,
      '--html',
      `out/${name}.html`,
      '--trace',
      `out/${name}.jsonl`,
    ],
    io,
  );
  expect(stderr).not.toMatch(/Error|error:/);
  expect(code).toBe(0);
  const html = readFileSync(join(dir, `out/${name}.html`), 'utf8');
  const json = JSON.parse(readFileSync(join(dir, `out/${name}.json`), 'utf8')) as Record<string, unknown>;
  return { html, json, doc: await parse(html) };
}

let demo: Run;
let adapter: Run;
beforeAll(async () => {
  demo = await runSuite('demo-suite.yaml', 'demo');
  adapter = await runSuite('demo-adapter.yaml', 'adapter');
}, 240_000);

/** The formatter each probe field's text must come from (the markdown report's). */
const TEXT_OF: Record<string, (x: number | null) => string> = {
  score: fmtScore,
  raw: fmtRaw,
  z_score: fmtZ,
  duration_s: fmtDuration,
};

function checkKeyedNumbers(run: Run): number {
  const keyed = Array.from(run.doc.querySelectorAll('[data-key]'));
  let numbers = 0;
  for (const el of keyed) {
    const key = el.getAttribute('data-key')!;
    const value = at(run.json, key);
    const shown = el.getAttribute('data-value');
    if (typeof value === 'number') {
      numbers++;
      expect(shown, key).not.toBeNull();
      expect(Number(shown), key).toBe(value);
      expect(shown, key).toBe(JSON.stringify(value));
      const field = /^probes\.\d+\.(\w+)$/.exec(key)?.[1];
      if (field !== undefined && TEXT_OF[field] !== undefined) {
        expect(el.textContent, key).toBe(TEXT_OF[field](value));
      }
    } else {
      // Strings are shown as they are; nulls (and absent values) carry no data-value.
      expect(shown, key).toBeNull();
      const text = key.endsWith('.verdict') ? String(value).toUpperCase() : value;
      if (typeof value === 'string' && value !== '') expect(el.textContent, key).toBe(text);
    }
  }
  return numbers;
}

describe('deltascope run --html', () => {
  it('writes one self-contained file under 200 KB with every section', () => {
    for (const run of [demo, adapter]) {
      expect(Buffer.byteLength(run.html, 'utf8')).toBeLessThan(200_000);
      expect(run.html.startsWith('<!doctype html>')).toBe(true);
      // Nothing that could load: no src/href other than in-page anchors, no CSS url(), no @import.
      expect(run.html).not.toMatch(/\s(src|srcset|action|poster)\s*=/i);
      expect(run.html).not.toMatch(/\shref\s*=\s*(?!["']?#)/i);
      expect(run.html).not.toMatch(/url\(|@import|<link|<iframe|<object|<embed|<img/i);
      for (const [id, title] of HTML_REPORT_SECTIONS) {
        const h2 = run.doc.querySelector(`section#${id} > h2`);
        expect(h2?.textContent, id).toBe(title);
      }
      expect(run.doc.querySelectorAll('script')).toHaveLength(1);
    }
  });

  it('shows every number of the JSON report it names, exactly, with the markdown report’s formatting', () => {
    const probes = demo.json.probes as { name: string; score: number | null; ci_95: number[] | null }[];
    // Every probe's score, raw, z and duration cell is keyed.
    for (const [i] of probes.entries()) {
      for (const f of ['score', 'raw', 'z_score', 'duration_s', 'verdict'])
        expect(demo.doc.querySelector(`[data-key="probes.${i}.${f}"]`), `${i}.${f}`).not.toBeNull();
    }
    expect(checkKeyedNumbers(demo)).toBeGreaterThan(60);
    expect(checkKeyedNumbers(adapter)).toBeGreaterThan(40);
    // The CI reads as the markdown report's.
    const withCi = probes.findIndex((p) => p.ci_95 !== null);
    if (withCi !== -1) {
      const cell = demo.doc.querySelector(`[data-key="probes.${withCi}.ci_95.0"]`)!.parentElement!;
      expect(cell.textContent).toBe(fmtCi(probes[withCi]!.ci_95 as [number, number]));
    }
    const score = demo.json.score as { overall: number; band: string };
    expect(demo.doc.querySelector('[data-key="score.overall"]')!.textContent).toBe(fmtScore(score.overall));
    expect(demo.doc.querySelector('[data-key="score.band"]')!.textContent).toBe(score.band);
    // The run's metrics: p50/p95/p99 per op, keyed to the report's metrics.
    const ops = (demo.json.metrics as { ops: { op: string }[] }).ops;
    expect(ops.length).toBeGreaterThan(0);
    for (const [i] of ops.entries())
      for (const q of ['p50_ms', 'p95_ms', 'p99_ms'])
        expect(demo.doc.querySelector(`[data-key="metrics.ops.${i}.${q}"]`)).not.toBeNull();
    expect(demo.doc.querySelector('[data-key="backend_stats.forward_passes"]')).not.toBeNull();
  });

  it('draws the ablation curve from the probe’s evidence, with the same numbers in its table', () => {
    const probes = adapter.json.probes as { kind: string; evidence: Record<string, number[]> }[];
    const i = probes.findIndex((p) => p.kind === 'adapter_ablation');
    const e = probes[i]!.evidence;
    const fig = adapter.doc.querySelector('#fig-ablation')!;
    const rows = Array.from(fig.querySelectorAll('tbody tr'));
    expect(rows).toHaveLength(e.lambdas!.length);
    rows.forEach((row, j) => {
      const cells = Array.from(row.querySelectorAll('td')).map((c) => Number(c.textContent));
      expect(cells[0]).toBe(e.lambdas![j]);
      expect(cells[1]).toBe(e.mean_divergence_per_lambda![j]);
      expect(cells[2]).toBe(e.exact_js_per_lambda![j]);
    });
    // One point per λ per series drawn.
    expect(fig.querySelectorAll('svg circle')).toHaveLength(2 * e.lambdas!.length);
    // The merged pair has no curve and says why.
    expect(demo.doc.querySelector('#ablation')!.textContent).toMatch(/lambda_sweep SKIP/);
  });

  it('draws the category bars to the scores in their table', () => {
    const comps = (demo.json.score as { components: Record<string, number> }).components;
    const fig = demo.doc.querySelector('#fig-categories')!;
    const groups = Array.from(fig.querySelectorAll('svg g'));
    expect(groups).toHaveLength(Object.keys(comps).length);
    for (const g of groups) {
      const [track, fill] = Array.from(g.querySelectorAll('rect'));
      const name = g.querySelector('text')!.textContent!;
      const drawn = Number(fill!.getAttribute('width')) / Number(track!.getAttribute('width'));
      expect(drawn, name).toBeCloseTo(comps[name]!, 2);
    }
  });

  it('puts a z-score beside its null distribution, whose table holds the null samples', () => {
    const probes = adapter.json.probes as {
      name: string;
      z_score: number | null;
      raw: number | null;
      evidence: Record<string, unknown>;
    }[];
    const i = probes.findIndex((p) => p.z_score !== null);
    expect(i).toBeGreaterThan(-1);
    const strip = adapter.doc.querySelector(`#probe-${i} svg.null-strip`)!;
    const nulls = probes.find((p) => p.evidence.null_stats !== undefined)!;
    const samples = (nulls.evidence.per_kind_raw_samples as Record<string, number[]>).delta_kl!;
    expect(strip.querySelectorAll('circle')).toHaveLength(samples.length);
    const fig = adapter.doc.querySelector(`#fig-null-${i}`)!;
    const shown = Array.from(fig.querySelectorAll('[data-key*="per_kind_raw_samples"]')).map((c) =>
      Number(c.getAttribute('data-value')),
    );
    expect(shown).toEqual(samples);
    // The merged pair has no calibration and says so.
    expect(demo.doc.querySelector('#probes')!.textContent).toContain('No z-scores');
  });

  it('summarises the run’s trace per probe and op: the events the --trace file holds', () => {
    const lines = readFileSync(join(dir, 'out/demo.jsonl'), 'utf8').trimEnd().split('\n');
    const events = lines.map((l) => JSON.parse(l) as { probe?: string | null; op: string });
    const trace = demo.doc.querySelector('#trace')!;
    expect(trace.textContent).toContain('Trace by probe and op');
    expect(trace.textContent).toContain(`${events.length} events,`);
    const perProbe = new Map<string, number>();
    for (const e of events) if (e.probe) perProbe.set(e.probe, (perProbe.get(e.probe) ?? 0) + 1);
    for (const [probe, n] of perProbe) {
      const row = Array.from(trace.querySelectorAll('tr')).find(
        (r) => r.querySelector('td')?.textContent === probe,
      );
      expect(row, probe).toBeDefined();
      expect(row!.textContent, probe).toContain(String(n));
    }
  });

  it('is listed in run --help', async () => {
    let out = '';
    const code = await runCli(['run', '--help'], {
      out: (t) => (out += t),
      err: () => {},
      cwd: dir,
      env: {},
    });
    expect(code).toBe(0);
    expect(out).toContain('--html FILE');
  });
});
