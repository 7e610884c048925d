// `deltascope probe --view`: any of the pair's views (base, ft, scaled_<λ>, null_<seed>) on the demo
// base + PEFT adapter, each against base with compare()'s exact numbers; bad names and adapter views
// on two full models are usage errors naming the view.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPair } from '../../src/backend/index.ts';
import { EXIT } from '../../src/cli/errors.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { runCli } from '../../src/cli/main.ts';
import type { ProbePromptJson, ProbeViewsJson } from '../../src/cli/probeCommand.ts';
import { compare, compareViews } from '../../src/worker/interactiveOps.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DEMO = 'public/models/deltascope-demo';
const ADAPTER_PAIR = ['--base', `${DEMO}/base`, '--adapter', `${DEMO}/adapter`];
const MERGED_PAIR = ['--base', `${DEMO}/base`, '--ft', `${DEMO}/ft`];
const PROMPTS = ['The keeper of the old lighthouse', 'It was a sunny day and'];
const VIEW_KEYS = ['token_ids', 'tokens', 'logprobs', 'entropy'];

async function probe(args: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { out: (t) => (stdout += t), err: (t) => (stderr += t), cwd: ROOT, env: {} };
  const code = await runCli(['probe', ...args, ...PROMPTS.flatMap((p) => ['--prompt', p])], io);
  return { code, stdout, stderr };
}

async function probeJson(args: string[]): Promise<(ProbeViewsJson | ProbePromptJson)[]> {
  const r = await probe([...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(EXIT.ok);
  return (JSON.parse(r.stdout) as { prompts: (ProbeViewsJson | ProbePromptJson)[] }).prompts;
}

const views = (names: string[]) => names.flatMap((v) => ['--view', v]);

describe('deltascope probe --view', () => {
  it('base, ft, scaled_0, scaled_1, null_1000 on base + adapter: keys, identities, against base', async () => {
    const args = [
      ...ADAPTER_PAIR,
      '--top-k',
      '5',
      ...views(['base', 'ft', 'scaled_0', 'scaled_1', 'null_1000']),
    ];
    const out = await probeJson(args);
    expect(out.map((p) => p.prompt)).toEqual(PROMPTS);
    const pair = await openPair(
      {
        kind: 'pair',
        base: { kind: 'dir', path: resolve(ROOT, DEMO, 'base') },
        ft: {
          kind: 'adapter',
          base: { kind: 'dir', path: resolve(ROOT, DEMO, 'base') },
          adapter: { kind: 'dir', path: resolve(ROOT, DEMO, 'adapter') },
        },
      },
      { warmup: false },
    );
    try {
      for (const p of out) {
        // base and ft both listed: their divergences at the top level, as without --view.
        expect(Object.keys(p)).toEqual(['prompt', 'token_ids', 'views', 'js', 'kl_ft_base', 'kl_base_ft']);
        const q = p as ProbePromptJson;
        // Keyed by view id (two decimals), in the order listed.
        expect(Object.keys(q.views)).toEqual(['base', 'ft', 'scaled_0.00', 'scaled_1.00', 'null_1000']);
        expect(Object.keys(q.views.base!)).toEqual(VIEW_KEYS);
        expect(Object.keys(q.views.ft!)).toEqual(VIEW_KEYS);
        for (const id of ['scaled_0.00', 'scaled_1.00', 'null_1000'])
          expect(Object.keys(q.views[id]!)).toEqual([...VIEW_KEYS, 'js', 'kl_view_base']);
        const { base, ft } = q.views;
        const s0 = q.views['scaled_0.00']!;
        const s1 = q.views['scaled_1.00']!;
        const nul = q.views.null_1000!;
        // λ = 0 is base: the same rows, the same logprobs, no divergence.
        expect(s0.token_ids).toEqual(base!.token_ids);
        expect(s0.logprobs).toEqual(base!.logprobs);
        expect(s0.entropy).toBe(base!.entropy);
        expect(s0.js).toBe(0);
        expect(s0.kl_view_base).toBe(0);
        // λ = 1 is ft.
        expect(s1.token_ids).toEqual(ft!.token_ids);
        s1.logprobs.forEach((lp, i) => expect(Math.abs(lp - ft!.logprobs[i]!)).toBeLessThanOrEqual(1e-6));
        expect(Math.abs(s1.js! - q.js)).toBeLessThanOrEqual(1e-6);
        expect(Math.abs(s1.kl_view_base! - q.kl_ft_base)).toBeLessThanOrEqual(1e-6);
        expect(q.js).toBeGreaterThan(0);
        // A seeded null adapter moves the distribution a little.
        expect(nul.js!).toBeGreaterThan(0);
        expect(nul.kl_view_base!).toBeGreaterThan(0);
        // compare()'s numbers, to the bit (one implementation).
        const cFt = await compare(pair, q.prompt, 5);
        expect(q.js).toBe(cFt.divergence.js);
        expect(q.kl_ft_base).toBe(cFt.divergence.klFtBase);
        expect(q.kl_base_ft).toBe(cFt.divergence.klBaseFt);
        expect(base!.entropy).toBe(cFt.divergence.entropyBase);
        const cNull = await compare(pair, q.prompt, 5, 'null_1000');
        expect(cNull.view).toBe('null_1000');
        expect(nul.js).toBe(cNull.divergence.js);
        expect(nul.kl_view_base).toBe(cNull.divergence.klFtBase);
        expect(nul.entropy).toBe(cNull.divergence.entropyFt);
        expect(nul.token_ids).toEqual(cNull.ft.map((r) => r.id));
        expect(nul.logprobs).toEqual(cNull.ft.map((r) => r.logprob));
      }
    } finally {
      await pair.dispose();
    }
    // The null adapter is seeded: a second run (a fresh process-level pair) gives the same numbers.
    const again = await probeJson([...ADAPTER_PAIR, '--top-k', '5', ...views(['null_1000'])]);
    again.forEach((p, i) => {
      expect(p.views.null_1000).toEqual(out[i]!.views.null_1000);
    });
  }, 120_000);

  it('without base or ft listed, the top-level ft divergences are left out', async () => {
    const out = await probeJson([
      ...ADAPTER_PAIR,
      '--top-k',
      '3',
      ...views(['ft', 'scaled_0.5', 'scaled_0.50']),
    ]);
    for (const p of out) {
      expect(Object.keys(p)).toEqual(['prompt', 'token_ids', 'views']);
      // scaled_0.5 and scaled_0.50 are one view.
      expect(Object.keys(p.views)).toEqual(['ft', 'scaled_0.50']);
      expect(Object.keys(p.views.ft!)).toEqual(VIEW_KEYS);
      const half = p.views['scaled_0.50']!;
      expect(half.token_ids).toHaveLength(3);
      expect(half.js!).toBeGreaterThan(0);
    }
  }, 60_000);

  it('the default is base and ft, the same output as --view base --view ft', async () => {
    const plain = await probe([...MERGED_PAIR, '--json']);
    const listed = await probe([...MERGED_PAIR, '--json', ...views(['base', 'ft'])]);
    expect(plain.code).toBe(EXIT.ok);
    expect(listed.stdout).toBe(plain.stdout);
  }, 60_000);

  it('--spec whose ft is base + adapter takes adapter views; the text shows every view’s column', async () => {
    const r = await probe([
      '--spec',
      'examples/demo-adapter.yaml',
      '--top-k',
      '3',
      ...views(['base', 'scaled_0.5']),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(
      /exact \(full vocabulary\), scaled_0\.50 against base: JS \d\.\d{4} · KL\(scaled_0\.50‖base\) \d+\.\d{4} nats; entropy scaled_0\.50 \d\.\d{3}/,
    );
    expect(r.stdout).toMatch(/entropy base \d\.\d{3} nats/);
    expect(r.stdout).not.toMatch(/KL\(ft‖base\)/);
    expect(r.stdout).toMatch(/^ {2}base +scaled_0\.50$/m);
    // Per prompt, 3 rows of two columns each.
    const rows = r.stdout
      .split('\n')
      .filter((l) => /^\s+\d+ ".*"\s+-?\d+\.\d{4}\s+\d+ ".*"\s+-?\d+\.\d{4}$/.test(l));
    expect(rows).toHaveLength(3 * PROMPTS.length);
  }, 60_000);

  it('a name that is no view, and an adapter view on two full models, are usage errors naming it', async () => {
    for (const [args, message] of [
      [[...ADAPTER_PAIR, '--view', 'scaled_x'], /--view: unknown view "scaled_x": give base, ft, scaled_<λ>/],
      [[...MERGED_PAIR, '--view', 'scaled_0.5'], /--view: view scaled_0\.5 needs runtime LoRA/],
      [[...MERGED_PAIR, '--view', 'ft', '--view', 'null_7'], /--view: view null_7 needs runtime LoRA/],
    ] as const) {
      const r = await probe([...args]);
      expect(r.code).toBe(EXIT.usage);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/Usage: deltascope probe/);
      expect(r.stdout).toBe('');
    }
  }, 60_000);
});

describe('compareViews', () => {
  it('is compare() for each view, base looked up once', async () => {
    const pair = await openPair(
      {
        kind: 'pair',
        base: { kind: 'dir', path: resolve(ROOT, DEMO, 'base') },
        ft: {
          kind: 'adapter',
          base: { kind: 'dir', path: resolve(ROOT, DEMO, 'base') },
          adapter: { kind: 'dir', path: resolve(ROOT, DEMO, 'adapter') },
        },
      },
      { warmup: false },
    );
    try {
      const prompt = PROMPTS[0]!;
      const before = pair.instrumentation.stats.toDict();
      const many = await compareViews(pair, prompt, 4, ['ft', 'base', 'scaled_0.25', 'null_3']);
      const after = pair.instrumentation.stats.toDict();
      // One lookup per distinct view (base once although it is the reference and listed): 4 passes.
      expect(after.forward_passes - before.forward_passes).toBe(4);
      expect(after.cache_misses - before.cache_misses).toBe(4);
      expect(after.cache_hits - before.cache_hits).toBe(0);
      expect(many.map((c) => c.view)).toEqual(['ft', 'base', 'scaled_0.25', 'null_3']);
      for (const c of many) expect(c).toEqual(await compare(pair, prompt, 4, c.view));
      expect(many[1]!.divergence.js).toBe(0);
    } finally {
      await pair.dispose();
    }
  }, 60_000);
});
