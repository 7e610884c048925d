// `deltascope probe` in-process on the demo pair: the JSON shape the README documents, the exact
// divergences the Compare panel shows, and usage errors.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPair } from '../../src/backend/index.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';
import type { ProbePromptJson } from '../../src/cli/probeCommand.ts';
import { compare } from '../../src/worker/interactiveOps.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DEMO = 'public/models/deltascope-demo';

function memoryIo(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
    cwd: ROOT,
    env: {},
  };
  return io;
}

describe('deltascope probe', () => {
  it('--json: per prompt, the token ids fed to the model, each view’s top-k and the exact divergences', async () => {
    const io = memoryIo();
    const prompts = ['The keeper of the old lighthouse', 'It was a sunny day and'];
    const args = ['probe', '--base', `${DEMO}/base`, '--ft', `${DEMO}/ft`, '--top-k', '4', '--json'];
    const code = await runCli([...args, ...prompts.flatMap((p) => ['--prompt', p])], io);
    expect(io.stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(io.stdout) as { prompts: ProbePromptJson[] };
    expect(out.prompts.map((p) => p.prompt)).toEqual(prompts);
    const pair = await openPair({ kind: 'demo' }, { warmup: false });
    try {
      for (const p of out.prompts) {
        expect(Object.keys(p)).toEqual(['prompt', 'token_ids', 'views', 'js', 'kl_ft_base', 'kl_base_ft']);
        expect(p.token_ids[0]).toBe(1); // BOS: special tokens included, as the model sees them
        expect(p.token_ids).toEqual((await pair.base.tokenize(p.prompt)).ids);
        for (const v of ['base', 'ft'] as const) {
          expect(Object.keys(p.views[v]!)).toEqual(['token_ids', 'tokens', 'logprobs', 'entropy']);
          expect(p.views[v]!.token_ids).toHaveLength(4);
          expect(p.views[v]!.tokens).toHaveLength(4);
        }
        // The same numbers as the Compare panel (one code path: exact, full vocabulary).
        const c = await compare(pair, p.prompt, 4);
        expect(p.js).toBe(c.divergence.js);
        expect(p.kl_ft_base).toBe(c.divergence.klFtBase);
        expect(p.kl_base_ft).toBe(c.divergence.klBaseFt);
        expect(p.views.base!.entropy).toBe(c.divergence.entropyBase);
        expect(p.views.ft!.token_ids).toEqual(c.ft.map((r) => r.id));
      }
    } finally {
      await pair.dispose();
    }
  });

  it('text output from a spec’s models', async () => {
    const io = memoryIo();
    const code = await runCli(['probe', '--spec', 'examples/minimal.yaml', '--prompt', 'Hello there'], io);
    expect(code).toBe(0);
    expect(io.stdout).toMatch(/exact \(full vocabulary\): JS \d\.\d{4} · KL\(ft‖base\) \d+\.\d{4}/);
    expect(io.stdout.split('\n').filter((l) => /^\s+\d+ "/.test(l))).toHaveLength(10);
  });

  it('usage errors: no prompt, both or neither model source, a bad --top-k', async () => {
    for (const args of [
      ['probe', '--base', `${DEMO}/base`, '--ft', `${DEMO}/ft`],
      ['probe', '--prompt', 'x'],
      ['probe', '--spec', 'examples/minimal.yaml', '--base', 'a/b', '--ft', 'c/d', '--prompt', 'x'],
      ['probe', '--spec', 'examples/minimal.yaml', '--prompt', 'x', '--top-k', '0'],
    ]) {
      const io = memoryIo();
      expect(await runCli(args, io)).toBe(2);
      expect(io.stderr).toMatch(/Usage: deltascope probe/);
    }
  });
});
