// `deltascope compare` in-process on two reports of the demo suite: one written by `deltascope run`
// on the bundled demo pair, the other the same report with one probe changed by hand.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  probes: { name: string; verdict: string; score: number | null }[];
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
