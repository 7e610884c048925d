// `deltascope compare` in-process on two reports of the demo suite: one written by `deltascope run`
// on the bundled demo pair, the other the same report with one probe changed by hand.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/errors.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DEMO_SUITE = join(ROOT, 'examples/demo-suite.yaml');
const dir = mkdtempSync(join(tmpdir(), 'deltascope-compare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[]): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { out: (t) => (stdout += t), err: (t) => (stderr += t), cwd: dir, env: {} };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

interface ReportJson {
  probes: { name: string; verdict: string; score: number | null; raw: number | null }[];
  score: { overall: number };
}

let report: ReportJson;
/** The probe changed by hand: the demo suite's document_shift (a PASS with a score). */
const CHANGED = 'document_shift';

function writeVariant(file: string, edit: (p: ReportJson['probes'][number]) => void): void {
  const copy = structuredClone(report);
  edit(copy.probes.find((p) => p.name === CHANGED)!);
  writeFileSync(join(dir, file), JSON.stringify(copy, null, 2));
}

/** The hand-changed probe left out of the report. */
function writeWithout(file: string): void {
  const copy = structuredClone(report);
  copy.probes = copy.probes.filter((p) => p.name !== CHANGED);
  writeFileSync(join(dir, file), JSON.stringify(copy, null, 2));
}

beforeAll(async () => {
  const run = await cli(['run', DEMO_SUITE, '--json', 'a.json', '--quiet']);
  expect(run.code).toBe(0);
  report = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as ReportJson;
  const p = report.probes.find((q) => q.name === CHANGED)!;
  expect(p.verdict).toBe('pass');
  expect(p.score).toBeGreaterThan(0.12);
  // Regressed: its verdict to FAIL and its score 0.12 lower.
  writeVariant('regressed.json', (q) => {
    q.verdict = 'fail';
    q.score = q.score! - 0.12;
  });
  // Changed, not regressed: the score 0.05 lower, the verdict the same.
  writeVariant('nudged.json', (q) => {
    q.score = q.score! - 0.05;
  });
  // One rule each: the verdict only (PASS → WARN, same score); the score only (0.12 lower, still
  // PASS); the probe gone; the probe skipped; the raw only (×10, same verdict and score).
  writeVariant('verdict-only.json', (q) => {
    q.verdict = 'warn';
  });
  writeVariant('score-only.json', (q) => {
    q.score = q.score! - 0.12;
  });
  writeWithout('missing.json');
  writeVariant('skipped.json', (q) => {
    q.verdict = 'skip';
    q.score = null;
    q.raw = null;
  });
  writeVariant('raw-only.json', (q) => {
    q.raw = (q.raw ?? 1) * 10 + 1;
  });
}, 180_000);

const probeRows = (stdout: string): string[] =>
  stdout
    .split('\n')
    .filter((l) => /^ {2}[!* ] {2}\S/.test(l))
    .filter((l) => !/^ {5}(probe|composite) /.test(l));

describe('deltascope compare', () => {
  it('the hand-changed probe is the only change; --fail-on-regression exits 1, without it 0', async () => {
    const plain = await cli(['compare', 'a.json', 'regressed.json']);
    expect(plain.code).toBe(EXIT.ok);
    const rows = probeRows(plain.stdout);
    expect(rows.length).toBe(report.probes.length);
    const marked = rows.filter((l) => !l.startsWith('     '));
    expect(marked).toHaveLength(1);
    expect(marked[0]).toMatch(new RegExp(`^ {2}! {2}${CHANGED} +PASS .* FAIL .* -0\\.12$`));
    expect(plain.stdout).toContain(`regressed.json: ${CHANGED}: PASS → FAIL, score -0.120`);

    const only = await cli(['compare', 'a.json', 'regressed.json', '--only-changed']);
    expect(probeRows(only.stdout).map((l) => l.trim().split(/\s+/)[1])).toEqual([CHANGED]);

    const gate = await cli(['compare', 'a.json', 'regressed.json', '--fail-on-regression']);
    expect(gate.code).toBe(EXIT.regression);
    expect(gate.code).toBe(1);
    expect(gate.stderr).toContain('compare: FAIL — 1 regression against the baseline a.json');
  });

  it('a change that is not a regression passes --fail-on-regression; the same report twice shows no change', async () => {
    const nudged = await cli(['compare', 'a.json', 'nudged.json', '--fail-on-regression', '--json', '-']);
    expect(nudged.code).toBe(EXIT.ok);
    const j = JSON.parse(nudged.stdout) as {
      probes: { name: string; changed: boolean; regressed: boolean }[];
      regressions: unknown[];
    };
    expect(j.probes.filter((p) => p.changed).map((p) => p.name)).toEqual([CHANGED]);
    expect(j.regressions).toEqual([]);

    const same = await cli(['compare', 'a.json', 'a.json', '--fail-on-regression']);
    expect(same.code).toBe(EXIT.ok);
    expect(probeRows(same.stdout).every((l) => l.startsWith('     '))).toBe(true);
    expect(same.stdout).toContain('no regressions against the baseline');
  });

  it('each rule alone fails the gate, naming its reason: verdict only, score drop only, a missing probe, pass → skip', async () => {
    const cases: [string, string, string][] = [
      ['verdict-only.json', 'verdict', `${CHANGED}: PASS → WARN, score 0.000`],
      ['score-only.json', 'score', `${CHANGED}: score -0.120`],
      ['missing.json', 'missing', `${CHANGED}: missing (was PASS)`],
      ['skipped.json', 'skipped', `${CHANGED}: PASS → SKIP`],
    ];
    for (const [file, reason, words] of cases) {
      const gate = await cli(['compare', 'a.json', file, '--fail-on-regression', '--json', '-']);
      expect(gate.code, file).toBe(EXIT.regression);
      expect(gate.stderr).toContain(`compare: FAIL — 1 regression against the baseline a.json`);
      const j = JSON.parse(gate.stdout) as { regressions: { probe: string; reasons: string[] }[] };
      expect(j.regressions, file).toEqual([expect.objectContaining({ probe: CHANGED, reasons: [reason] })]);
      const table = await cli(['compare', 'a.json', file]);
      expect(table.code).toBe(EXIT.ok);
      expect(table.stdout).toContain(`${file}: ${words}`);
    }
  });

  it('a raw change alone shows as changed (so "only changed" keeps it) and passes the gate', async () => {
    const raw = await cli(['compare', 'a.json', 'raw-only.json', '--fail-on-regression', '--only-changed']);
    expect(raw.code).toBe(EXIT.ok);
    expect(probeRows(raw.stdout).map((l) => l.trim().split(/\s+/)[1])).toEqual([CHANGED]);
    expect(raw.stdout).toContain('no regressions against the baseline');
  });

  it('a file that is not a report is refused naming it (exit 2), never compared as an empty report', async () => {
    const inputs: [string, unknown, RegExp][] = [
      ['empty.json', {}, /empty\.json is not a report: `probes` is missing/],
      [
        'object-probes.json',
        { probes: { a: 1 } },
        /object-probes\.json is not a report: `probes` is an object/,
      ],
      [
        'junk-probes.json',
        { probes: [1, null, 'x'] },
        /junk-probes\.json is not a report: probes\[0\] is a number/,
      ],
      [
        'sweep-bad.json',
        {
          results: [
            { index: 0, label: 'c1', report: report },
            { index: 1, label: 'c2', report: { probes: [] } },
          ],
        },
        /sweep-bad\.json \(results\[1\]\) is not a report: `score\.overall` is missing/,
      ],
    ];
    for (const [file, value, message] of inputs) {
      writeFileSync(join(dir, file), JSON.stringify(value));
      const out = await cli(['compare', 'a.json', file, '--fail-on-regression']);
      expect(out.code, file).toBe(EXIT.usage);
      expect(out.stderr).toMatch(message);
      expect(out.stdout).toBe('');
    }
  });

  it('refuses an output on an input, markdown/HTML to a .json path, and two outputs on one file: exit 2, nothing written', async () => {
    const before = readFileSync(join(dir, 'nudged.json'), 'utf8');
    const baseline = readFileSync(join(dir, 'a.json'), 'utf8');
    // `--html` takes a value: this once wrote HTML over nudged.json.
    const slip = await cli(['compare', '--html', 'nudged.json', 'a.json', 'regressed.json']);
    expect(slip.code).toBe(EXIT.usage);
    expect(slip.stderr).toContain('--html nudged.json: refusing to write HTML to a .json file');
    expect(slip.stderr).toContain('Usage: deltascope compare');
    const md = await cli(['compare', 'a.json', 'regressed.json', '--markdown', 'out/cmp.JSON']);
    expect(md.code).toBe(EXIT.usage);
    expect(md.stderr).toContain('refusing to write markdown to a .json file');
    expect(existsSync(join(dir, 'out/cmp.JSON'))).toBe(false);
    // The JSON output may be a .json file, but not one of the inputs (resolved: ./x and x are one file).
    const json = await cli(['compare', 'a.json', 'nudged.json', '--json', `./sub/../nudged.json`]);
    expect(json.code).toBe(EXIT.usage);
    expect(json.stderr).toContain('--json ./sub/../nudged.json is the input report nudged.json');
    const abs = await cli(['compare', 'a.json', 'nudged.json', '--json', join(dir, 'a.json')]);
    expect(abs.code).toBe(EXIT.usage);
    expect(abs.stderr).toContain('is the input report a.json');
    const twice = await cli(['compare', 'a.json', 'nudged.json', '--markdown', 'o.html', '--html', 'o.html']);
    expect(twice.code).toBe(EXIT.usage);
    expect(twice.stderr).toContain('--markdown and --html both write o.html');
    expect(existsSync(join(dir, 'o.html'))).toBe(false);
    expect(readFileSync(join(dir, 'nudged.json'), 'utf8')).toBe(before);
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe(baseline);
    // A JSON output elsewhere is fine.
    const ok = await cli(['compare', 'a.json', 'nudged.json', '--json', 'out/matrix.json']);
    expect(ok.code).toBe(EXIT.ok);
    expect(existsSync(join(dir, 'out/matrix.json'))).toBe(true);
  });

  it('writes markdown and a self-contained HTML page', async () => {
    const out = await cli([
      'compare',
      'a.json',
      'regressed.json',
      '--markdown',
      'out/cmp.md',
      '--html',
      'out/cmp.html',
    ]);
    expect(out.code).toBe(EXIT.ok);
    const md = readFileSync(join(dir, 'out/cmp.md'), 'utf8');
    expect(md).toMatch(new RegExp(`\\| regressed \\| ${CHANGED} \\| PASS`));
    const html = readFileSync(join(dir, 'out/cmp.html'), 'utf8');
    expect(html).toMatch(new RegExp(`<tr class="regressed"><td>regressed</td><td>${CHANGED}</td>`));
    expect(html).not.toMatch(/https?:|<script/i);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;`,
    );
  });

  it('bad input: a missing file, text that is not JSON, one report only, two outputs on stdout', async () => {
    const missing = await cli(['compare', 'a.json', 'nope.json']);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toContain('cannot read report nope.json: no such file');

    writeFileSync(join(dir, 'broken.json'), '{"probes": [');
    const broken = await cli(['compare', 'a.json', 'broken.json']);
    expect(broken.code).toBe(EXIT.usage);
    expect(broken.stderr).toMatch(/broken\.json is not valid JSON/);

    const one = await cli(['compare', 'a.json']);
    expect(one.code).toBe(EXIT.usage);
    expect(one.stderr).toContain('compare needs at least two runs, got 1 (a.json)');
    expect(one.stderr).toContain('Usage: deltascope compare');

    const two = await cli(['compare', 'a.json', 'a.json', '--json', '-', '--markdown', '-']);
    expect(two.code).toBe(EXIT.usage);
    expect(two.stderr).toContain('only one format can go to stdout');

    const threshold = await cli(['compare', 'a.json', 'a.json', '--threshold', '2']);
    expect(threshold.code).toBe(EXIT.usage);
    expect(threshold.stderr).toContain('--threshold must be a number in (0, 1], got "2"');
  });
});
