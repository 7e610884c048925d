// The sweep examples stay true: examples/sweep-demo.yaml expands to its two committed checkpoints
// (the demo adapter with lora_B × 1/3 and × 2/3, byte for byte what the test helper writes) and the
// shipped adapter; the Kubernetes manifest is an Indexed Job whose completions, parallelism and
// DELTASCOPE_SHARD_COUNT agree and whose merge waits for that many reports; the GitHub Actions
// matrix lists as many shards as SHARDS says.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { loadSweep } from '../../src/cli/sweepCommand.ts';
import { writeScaledDemoAdapter } from '../backend/adapterSwapFixtures.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'deltascope-sweep-examples-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('sweep examples', () => {
  it('sweep-demo.yaml: checkpoint-50, checkpoint-100 (natural order), then the shipped adapter', () => {
    const { plan } = loadSweep('examples/sweep-demo.yaml', { cwd: ROOT, env: {} });
    expect(plan.adapters.map((a) => [a.label, a.ref])).toEqual([
      ['checkpoint-50', 'sweep-demo-checkpoints/checkpoint-50'],
      ['checkpoint-100', 'sweep-demo-checkpoints/checkpoint-100'],
      ['final', '../public/models/deltascope-demo/adapter'],
    ]);
    expect(plan.suitePath).toBe('demo-adapter.yaml');
    expect(plan.suite.suite.map((p) => p.kind)).toEqual(['null_adapter', 'delta_kl', 'adapter_ablation']);
    for (const [step, factor] of [
      [50, 1 / 3],
      [100, 2 / 3],
    ] as const) {
      const fresh = writeScaledDemoAdapter(join(scratch, String(step)), factor);
      const committed = join(ROOT, 'examples/sweep-demo-checkpoints', `checkpoint-${step}`);
      for (const f of ['adapter_config.json', 'adapter_model.safetensors'])
        expect(readFileSync(join(committed, f)).equals(readFileSync(join(fresh, f)))).toBe(true);
    }
  });

  it('k8s-sweep-job.yaml: an Indexed Job of N shards, its count given to deltascope, and a merge of N reports', () => {
    const [job, merge] = parseAllDocuments(
      readFileSync(join(ROOT, 'examples/k8s-sweep-job.yaml'), 'utf8'),
    ).map(
      (d) => d.toJS() as Record<string, any>, // eslint-disable-line @typescript-eslint/no-explicit-any -- a manifest read for a few fields
    );
    expect(job!.spec.completionMode).toBe('Indexed');
    const n = job!.spec.completions as number;
    expect(job!.spec.parallelism).toBe(n);
    const container = job!.spec.template.spec.containers[0];
    const env = Object.fromEntries(
      (container.env as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    );
    expect(Number(env.DELTASCOPE_SHARD_COUNT)).toBe(n);
    expect(container.args[0]).toMatch(
      /^i=\$\(\(JOB_COMPLETION_INDEX \+ 1\)\);.*deltascope\.mjs sweep .* --json \/results\/shard-\$i\.json/,
    );
    expect(container.args[0]).not.toContain('--shard ');
    const wait = merge!.spec.template.spec.initContainers[0].command.join(' ');
    expect(wait).toContain(`-ge ${n} ]`);
    // The wait ends: on every shard's exit marker, or with a failure when the time runs out.
    expect(wait).toMatch(/shard-\*\.exit/);
    expect(wait).toMatch(/-ge "\$deadline" ]; then[\s\S]*exit 1/);
    // Each shard writes its marker after the try that is its last (the per-index retry limit).
    expect(container.args[0]).toMatch(/echo \$rc > \/results\/shard-\$i\.exit/);
    expect(container.args[0]).toContain(`"\${FAILURES:-0}" -ge ${job!.spec.backoffLimitPerIndex}`);
    const failures = (
      container.env as { name: string; valueFrom?: { fieldRef: { fieldPath: string } } }[]
    ).find((e) => e.name === 'FAILURES');
    expect(failures?.valueFrom?.fieldRef.fieldPath).toBe(
      "metadata.annotations['batch.kubernetes.io/job-index-failure-count']",
    );
    expect(merge!.spec.template.spec.containers[0].command.slice(2, 4)).toEqual([
      'merge',
      '/results/shard-*.json',
    ]);
  });

  it('github-actions-sweep.yml: the matrix lists shards 1..SHARDS, each passed as --shard i/SHARDS, then merged', () => {
    const wf = parse(readFileSync(join(ROOT, 'examples/github-actions-sweep.yml'), 'utf8')) as {
      env: { SHARDS: number; SPEC: string };
      jobs: {
        shard: {
          strategy: { matrix: { shard: number[] } };
          steps: { run?: string; if?: string; uses?: string }[];
        };
        merge: { needs: string; if?: string; steps: { run?: string }[] };
      };
    };
    const n = wf.env.SHARDS;
    expect(wf.jobs.shard.strategy.matrix.shard).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(wf.jobs.shard.steps.map((s) => s.run ?? '').join('\n')).toContain(
      '--shard ${{ matrix.shard }}/$SHARDS',
    );
    expect(wf.jobs.merge.needs).toBe('shard');
    // A failed shard's report is uploaded and merged too, so the merge names what failed.
    expect(wf.jobs.shard.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))?.if).toBe(
      '${{ !cancelled() }}',
    );
    expect(wf.jobs.merge.if).toBe('${{ !cancelled() }}');
    expect(wf.jobs.merge.steps.map((s) => s.run ?? '').join('\n')).toContain("merge 'out/shard-*.json'");
    expect(loadSweep(wf.env.SPEC, { cwd: ROOT, env: {} }).plan.adapters).toHaveLength(3);
  });
});
