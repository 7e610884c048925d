// `deltascope run` on a spec whose ft is the demo base plus its PEFT adapter (sway's
// `ft: {kind: hf, base, adapter}`), in-process: null_adapter and adapter_ablation run instead of
// SKIPping, and the calibrated delta_kl gets its z-score; `deltascope probe --base B --adapter A`
// prints what the merged pair prints. Null statistics go to a cache folder of the test's own.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import type { ProbePromptJson } from '../../src/cli/probeCommand.ts';
import { runCli } from '../../src/cli/main.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SPEC = join(ROOT, 'examples/demo-adapter.yaml');
const dir = mkdtempSync(join(tmpdir(), 'deltascope-adapter-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('deltascope run on base + adapter', () => {
  const cacheDir = join(dir, 'null-stats');
  const runOnce = async (report: string) => {
    let stdout = '';
    let stderr = '';
    const env = { DELTASCOPE_NULL_CACHE_DIR: cacheDir };
    const io: CliIo = { out: (t) => (stdout += t), err: (t) => (stderr += t), cwd: dir, env };
    const code = await runCli(['run', SPEC, '--json', report], io);
    expect(stderr).not.toMatch(/Error|error:/);
    expect(code).toBe(0);
    const parsed = JSON.parse(readFileSync(join(dir, report), 'utf8')) as {
      metrics?: {
        lookups: number;
        tokens_per_s: number | null;
        load_ms: number | null;
        heap_peak_bytes: number | null;
        ops: { op: string; p50_ms: number | null }[];
      };
      probes: {
        name: string;
        verdict: string;
        z_score: number | null;
        message: string;
        evidence: Record<string, unknown>;
      }[];
    };
    return {
      stdout,
      metrics: parsed.metrics,
      byName: Object.fromEntries(parsed.probes.map((p) => [p.name, p])),
    };
  };

  it('runs null_adapter and adapter_ablation on the demo base + adapter, and z-scores delta_kl; a second run reads the null stats from the cache folder', async () => {
    const { stdout, byName, metrics } = await runOnce('report.json');
    // The run's metrics are in the report: lookups, tokens/s, load time, heap, per-op latency.
    expect(metrics!.lookups).toBeGreaterThan(0);
    expect(metrics!.tokens_per_s).toBeGreaterThan(0);
    expect(metrics!.load_ms).toBeGreaterThan(0);
    expect(metrics!.heap_peak_bytes).toBeGreaterThan(0);
    expect(metrics!.ops.find((o) => o.op === 'next_token_dist')?.p50_ms).toBeGreaterThan(0);
    expect(byName.nulls!.verdict).toBe('pass');
    expect(byName.nulls!.evidence.calibrated_kinds).toEqual(['delta_kl']);
    expect(byName.nulls!.evidence.from_cache).toBe(false);
    expect(byName.lambda_sweep!.verdict).not.toBe('skip');
    expect(byName.lambda_sweep!.verdict).not.toBe('error');
    // The curve grows with λ from the λ=0 view (the adapter is on lm_head only: a smooth rise).
    const divs = byName.lambda_sweep!.evidence.mean_divergence_per_lambda as number[];
    expect(divs[0]).toBe(0);
    for (let i = 1; i < divs.length; i++) expect(divs[i]!).toBeGreaterThan(divs[i - 1]!);
    expect(byName.topic_shift!.z_score).not.toBeNull();
    expect(stdout).toMatch(/lambda_sweep +adapter_ablation/);
    // One entry, named by the key the report gives.
    const key = byName.nulls!.evidence.cache_key as string;
    expect(readdirSync(cacheDir)).toEqual([`${key}.json`]);

    const again = await runOnce('report2.json');
    expect(again.byName.nulls!.evidence.from_cache).toBe(true);
    expect(again.byName.nulls!.message).toContain(`from cache: ${cacheDir}`);
    expect(again.byName.nulls!.evidence.null_stats).toEqual(byName.nulls!.evidence.null_stats);
    expect(again.byName.topic_shift!.z_score).toBe(byName.topic_shift!.z_score);
  }, 180_000);
});

describe('deltascope probe --adapter', () => {
  const DEMO = join(ROOT, 'public/models/deltascope-demo');
  const probe = async (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const io: CliIo = { out: (t) => (stdout += t), err: (t) => (stderr += t), cwd: ROOT, env: {} };
    const code = await runCli(['probe', ...args], io);
    return { code, stdout, stderr };
  };
  const prompts = ['--prompt', 'The keeper of the old lighthouse', '--prompt', 'hello'];

  it('base + adapter gives the merged pair’s views and divergences (1e-4)', async () => {
    const lora = await probe([
      '--base',
      `${DEMO}/base`,
      '--adapter',
      `${DEMO}/adapter`,
      '--json',
      ...prompts,
    ]);
    const merged = await probe(['--base', `${DEMO}/base`, '--ft', `${DEMO}/ft`, '--json', ...prompts]);
    expect(lora.stderr).toBe('');
    expect(lora.code).toBe(0);
    const a = (JSON.parse(lora.stdout) as { prompts: ProbePromptJson[] }).prompts;
    const b = (JSON.parse(merged.stdout) as { prompts: ProbePromptJson[] }).prompts;
    expect(a).toHaveLength(2);
    a.forEach((p, i) => {
      const q = b[i]!;
      expect(p.views.ft!.token_ids).toEqual(q.views.ft!.token_ids);
      expect(p.views.base!.token_ids).toEqual(q.views.base!.token_ids);
      p.views.ft!.logprobs.forEach((lp, k) =>
        expect(Math.abs(lp - q.views.ft!.logprobs[k]!)).toBeLessThan(1e-4),
      );
      expect(Math.abs(p.js - q.js)).toBeLessThan(1e-4);
      expect(p.js).toBeGreaterThan(0);
    });
  });

  it('refuses --ft with --adapter, and a folder that is not an adapter, by name', async () => {
    const both = await probe([
      '--base',
      `${DEMO}/base`,
      '--ft',
      `${DEMO}/ft`,
      '--adapter',
      `${DEMO}/adapter`,
      ...prompts,
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give --ft or --adapter, not both/);
    const notAdapter = await probe(['--base', `${DEMO}/base`, '--adapter', `${DEMO}/ft`, ...prompts]);
    expect(notAdapter.code).not.toBe(0);
    expect(notAdapter.stderr).toMatch(/adapter_config\.json is missing/);
  });
});
