// A sweep whose shard meets a broken adapter (a checkpoint folder still being written: its weights
// cut short) in the middle: the adapter is recorded as failed with its error, the others run, the
// report is written and the exit code is a load failure's; merge then names the adapter with the
// shard it failed on and its error. Ctrl-C during the base's load still writes the (empty) report.
// The report's header pins the suite file the spec points to (its SHA-256).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';
import { sha256Hex } from '../../src/core/sha256.ts';
import type { SweepReport } from '../../src/suite/sweep.ts';
import { writeDemoCheckpoints } from '../backend/adapterSwapFixtures.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'deltascope-sweep-fail-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SUITE = [
  'version: 1',
  'models: {base: {base: b}, ft: {base: b}}',
  'suite:',
  "  - {name: kl, kind: delta_kl, prompts: ['The town of', 'The most famous lantern is called the']}",
  '',
].join('\n');

beforeAll(() => {
  const [, second] = writeDemoCheckpoints(join(dir, 'run'), [
    [1, 0.5],
    [2, 1],
    [3, 1.5],
  ]);
  // checkpoint-2 as a trainer leaves it mid-write: the config there, the weights cut short.
  const weights = join(second!, 'adapter_model.safetensors');
  const bytes = readFileSync(weights);
  writeFileSync(weights, bytes.subarray(0, Math.floor(bytes.length / 2)));
  writeFileSync(join(dir, 'suite.yaml'), SUITE);
  writeFileSync(
    join(dir, 'sweep.yaml'),
    [
      'version: 1',
      `base: ${join(ROOT, 'public/models/deltascope-demo/base')}`,
      'suite: suite.yaml',
      'adapters:',
      '  - glob: run/checkpoint-*',
      '',
    ].join('\n'),
  );
});

async function cli(args: string[], signal?: AbortSignal, onErr?: (t: string) => void) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    out: (t) => (stdout += t),
    err: (t) => {
      stderr += t;
      onErr?.(t);
    },
    cwd: dir,
    env: { DELTASCOPE_DISABLE_NULL_CACHE: '1' },
    ...(signal !== undefined ? { signal } : {}),
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

const read = (f: string): SweepReport => JSON.parse(readFileSync(join(dir, f), 'utf8')) as SweepReport;

describe('deltascope sweep with an adapter that fails', () => {
  it('records the broken adapter, runs the rest, writes the report, exits 3; merge names it with its shard and error', async () => {
    const r = await cli(['sweep', 'sweep.yaml', '--json', 'fail.json', '--markdown', 'fail.md']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\[2\/3\] checkpoint-2 failed \(model-load\/[a-z-]+\): adapter "checkpoint-2"/);
    const report = read('fail.json');
    expect(report.results.map((x) => x.label)).toEqual(['checkpoint-1', 'checkpoint-3']);
    expect(report.runs[0]!.loads.map((l) => `${l.index}:${l.how}`)).toEqual(['0:loaded', '2:swapped']);
    const failed = report.runs[0]!.failed!;
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ index: 1, label: 'checkpoint-2' });
    expect(failed[0]!.code).toMatch(/^model-load\//);
    expect(failed[0]!.message).toContain('adapter_model.safetensors');
    expect(r.stdout).toContain('failed: checkpoint-2 (index 1, shard 1/1): model-load/');
    expect(readFileSync(join(dir, 'fail.md'), 'utf8')).toContain('failed: checkpoint-2');
    // The suite file the spec points to is pinned by its hash.
    expect(report.sweep.suite_sha256).toBe(sha256Hex(SUITE));

    const merged = await cli(['merge', 'fail.json']);
    expect(merged.code).toBe(2);
    expect(merged.stderr).toContain(
      `1 of 3 adapters have no result in these reports: "checkpoint-2" (index 1) failed on shard 1/1 (fail.json) with ${failed[0]!.code}: `,
    );
    expect(merged.stderr).toContain('fix what failed and rerun its shard');

    // A malformed shard is refused as input (exit 2) naming the file and the run, not a crash.
    for (const run of [{}, null]) {
      writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...report, runs: [run] }));
      const bad = await cli(['merge', 'bad.json']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/bad\.json is not a sweep report \(runs\[0\]/);
      expect(bad.stderr).not.toContain('TypeError');
    }
  }, 180_000);

  it('Ctrl-C while the base loads: exit 130 and the report is written, naming no failure', async () => {
    const ctl = new AbortController();
    const r = await cli(['sweep', 'sweep.yaml', '--shard', '1/2', '--json', 'cut.json'], ctl.signal, (t) => {
      if (t.startsWith('loading the base')) ctl.abort();
    });
    expect(r.code).toBe(130);
    const report = read('cut.json');
    expect(report.results).toEqual([]);
    expect(report.runs[0]!.failed).toBeUndefined();
    expect(r.stderr).toContain("cancelled: 2 of this shard's adapters did not run");
  }, 60_000);
});
