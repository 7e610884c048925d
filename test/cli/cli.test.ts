// The CLI end to end as a child process (`node bin/deltascope.mjs …`, which runs the bundled build
// in dist-cli/) against the bundled demo pair, run from a temporary working directory so the bin's
// any-cwd startup is exercised too; and its error → exit code mapping in-process.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, exitCodeFor } from '../../src/cli/errors.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';
import { TRACE_FIELDS } from '../../src/core/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/deltascope.mjs');
const DEMO_SUITE = join(ROOT, 'examples/demo-suite.yaml');
const MINIMAL = join(ROOT, 'examples/minimal.yaml');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd: string): Promise<Outcome> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      done({ code, stdout, stderr });
    });
  });
}

let dir: string;
let run: Outcome;

beforeAll(async () => {
  // Build once up front (the bin would rebuild a stale build itself, once per process).
  execFileSync(process.execPath, [join(ROOT, 'scripts/buildCli.mjs'), '--quiet'], { cwd: ROOT });
  dir = mkdtempSync(join(tmpdir(), 'deltascope-cli-'));
  run = await cli(
    [
      'run',
      DEMO_SUITE,
      '--json',
      'out/report.json',
      '--markdown',
      'out/report.md',
      '--junit',
      'out/junit.xml',
      '--trace',
      'out/trace.jsonl',
    ],
    dir,
  );
}, 90_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('deltascope run', () => {
  it('runs the demo suite, prints the terminal report and writes every requested file', () => {
    expect(run.stderr).toContain('loading models');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^deltascope report: .*demo-suite\.yaml\n/);
    expect(run.stdout).toMatch(/\n {2}document_shift +delta_kl +PASS /);
    expect(run.stdout).toMatch(
      /\nwall [\d.]+s \| deltascope 0\.1\.0 \| det: best_effort \(seed=0\) \| cache: \d+\/\d+ = \d+% \| batches: \d+ \(avg=[\d.]+\)\n$/,
    );

    const report = JSON.parse(readFileSync(join(dir, 'out/report.json'), 'utf8')) as {
      schema_version: number;
      probes: { name: string; kind: string; verdict: string }[];
      backend_stats: { forward_passes: number };
      score: { overall: number; band: string };
    };
    expect(report.schema_version).toBe(1);
    // The demo pair's composite lands at least in sway's "partial" band.
    expect(['partial', 'healthy', 'suspicious']).toContain(report.score.band);
    expect(report.score.overall).toBeGreaterThanOrEqual(0.3);
    expect(report.probes.map((p) => p.name)).toContain('document_shift');
    expect(report.probes.find((p) => p.name === 'document_shift')!.verdict).toBe('pass');
    expect(report.probes.find((p) => p.kind === 'adapter_ablation')!.verdict).toBe('skip');
    expect(report.backend_stats.forward_passes).toBeGreaterThan(0);

    const xml = readFileSync(join(dir, 'out/junit.xml'), 'utf8');
    expect(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>\n<testsuite name="sway" ')).toBe(true);
    expect(xml.trimEnd().endsWith('</testsuite>')).toBe(true);
    expect(xml.match(/<testcase /g)).toHaveLength(report.probes.length);

    const md = readFileSync(join(dir, 'out/report.md'), 'utf8');
    expect(md).toContain('## Probes');
    expect(md).toContain('| document_shift | delta_kl | PASS |');
  });

  it("writes the trace as JSONL with sway's eight keys first, in order", () => {
    const lines = readFileSync(join(dir, 'out/trace.jsonl'), 'utf8').trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      const keys = Object.keys(JSON.parse(line) as object);
      expect(keys.slice(0, 8)).toEqual([...TRACE_FIELDS]);
    }
    const probes = new Set(lines.map((l) => (JSON.parse(l) as { probe: string | null }).probe));
    expect(probes).toContain('document_shift');
  });
});

describe('deltascope trace', () => {
  it('analyses the trace from run, in text, markdown and JSON', async () => {
    const text = await cli(['trace', 'out/trace.jsonl', '--slowest', '3'], dir);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^events: \d+/);
    expect(text.stdout).toContain('per probe');
    expect(text.stdout).toContain('document_shift');
    expect(text.stdout).toContain('slowest 3 events');
    expect(text.stderr).toBe('');

    const json = await cli(['trace', 'out/trace.jsonl', '--format', 'json'], dir);
    expect(json.code).toBe(0);
    const a = JSON.parse(json.stdout) as { total_events: number; per_probe: { probe: string }[] };
    expect(a.total_events).toBe(
      readFileSync(join(dir, 'out/trace.jsonl'), 'utf8').trimEnd().split('\n').length,
    );
    expect(a.per_probe.map((g) => g.probe)).toContain('document_shift');
  });

  it('skips malformed lines and says which', async () => {
    const path = join(dir, 'broken.jsonl');
    writeFileSync(
      path,
      readFileSync(join(dir, 'out/trace.jsonl'), 'utf8').split('\n').slice(0, 2).join('\n') + '\n',
    );
    // `{"wall_ms": null}` is refused as sway refuses it (float(None)); a bare {"op": …} is not.
    appendFileSync(path, 'not json\n\n{"wall_ms": null}\n');
    const md = await cli(['trace', path, '--format', 'md'], dir);
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/^# Trace analysis/);
    expect(md.stderr).toContain('skipped 2 malformed lines (lines 3, 5)');
  });
});

describe('deltascope gate', () => {
  it('passes on the demo pair with a low threshold', async () => {
    const r = await cli(['gate', MINIMAL, '--threshold', '0.1', '--quiet'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/gate: PASS \(overall 0\.\d{4} ≥ threshold 0\.1, no FAIL\)\n$/);
  });

  it('fails with --threshold 0.99 and says why', async () => {
    const r = await cli(['gate', MINIMAL, '--threshold', '0.99', '--quiet'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/gate: FAIL\n {2}- overall score 0\.\d{4} is below the threshold 0\.99\n$/);
  });
});

describe('deltascope errors', () => {
  it('a malformed spec exits 2 and prints every issue with its line number, before any model loads', async () => {
    const spec = join(dir, 'bad.yaml');
    writeFileSync(
      spec,
      [
        'version: 1',
        'models:',
        '  base: {kind: hf, base: ./nowhere}',
        '  ft: {kind: hf, base: ./nowhere}',
        'suite:',
        '  - name: a',
        '    kind: delta_kl',
        '    prompts: 3',
        '  - name: b',
        '    kind: delta_kll',
        '',
      ].join('\n'),
    );
    const r = await cli(['run', 'bad.yaml'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.yaml: 2 problems in the suite spec');
    expect(r.stderr).toContain('suite[0].prompts (line 8:5): expected a list, got number 3');
    expect(r.stderr).toContain('suite[1].kind (line 10:5): unknown probe kind "delta_kll"; known kinds: ');
    expect(r.stderr).not.toContain('loading models');
    expect(r.stdout).toBe('');
  });

  it('a missing model folder exits 3 with the path; an unknown flag exits 2 with the usage', async () => {
    const spec = join(dir, 'nomodel.yaml');
    writeFileSync(
      spec,
      'version: 1\nmodels:\n  base: {base: ./nowhere/base}\n  ft: {base: ./nowhere/ft}\nsuite: []\n',
    );
    const missing = await cli(['gate', spec], dir);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`models.base.base: folder ${join(dir, 'nowhere/base')} does not exist`);

    const flag = await cli(['run', MINIMAL, '--jsno', 'x.json'], dir);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("deltascope: Unknown option '--jsno'");
    expect(flag.stderr).toContain('Usage: deltascope run <spec.yaml>');

    const help = await cli(['--help'], dir);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('deltascope gate <spec.yaml>');
  });
});

/** An in-process `CliIo` that records what the CLI prints. */
function memoryIo(cwd: string): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
    cwd,
    env: {},
  };
  return io;
}

describe('exit codes', () => {
  it('are decided by the error code alone', () => {
    expect(exitCodeFor('usage')).toBe(EXIT.usage);
    expect(exitCodeFor('input/unreadable')).toBe(EXIT.usage);
    expect(exitCodeFor('input/invalid')).toBe(EXIT.usage);
    expect(exitCodeFor('spec/invalid')).toBe(EXIT.usage);
    expect(exitCodeFor('model-load/missing-file')).toBe(EXIT.modelLoad);
    expect(exitCodeFor('model-load/mismatch')).toBe(EXIT.modelLoad);
    expect(exitCodeFor('cancelled')).toBe(130);
    expect(exitCodeFor('device/lost')).toBe(EXIT.internal);
    expect(exitCodeFor('backend/contract')).toBe(EXIT.internal);
    expect(exitCodeFor('internal')).toBe(EXIT.internal);
  });

  it('usage errors print the usage of the command they are about', async () => {
    const bad = memoryIo(dir);
    expect(await runCli(['gate', MINIMAL, '--threshold', '2'], bad)).toBe(2);
    expect(bad.stderr).toContain('deltascope: --threshold must be a number between 0 and 1, got "2"');
    expect(bad.stderr).toContain('Usage: deltascope gate <spec.yaml>');
    expect(bad.stdout).toBe('');

    const unknown = memoryIo(dir);
    expect(await runCli(['constructor'], unknown)).toBe(2);
    expect(unknown.stderr).toContain('unknown command "constructor"');
    expect(unknown.stderr).toContain('Commands:');

    const help = memoryIo(dir);
    expect(await runCli(['help', 'toString'], help)).toBe(0);
    expect(help.stdout).toMatch(/^deltascope — /);

    const none = memoryIo(dir);
    expect(await runCli([], none)).toBe(2);
    expect(none.stdout).toContain('Usage:');
  });

  it('an unreadable input exits 2 naming the file', async () => {
    const io = memoryIo(dir);
    expect(await runCli(['trace', 'missing.jsonl'], io)).toBe(2);
    expect(io.stderr).toMatch(/^deltascope: cannot read trace .*missing\.jsonl/);
    expect(io.stderr).not.toContain('Usage:');
  });
});
