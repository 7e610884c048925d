// Prompt hygiene before a suite runs: empty prompts refused by probe and index, duplicates dropped
// and counted, line endings and lone surrogates fixed and counted, exclude patterns, prompts past the
// context window refused; the summary reaches every report format and survives a JSON round trip.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openPair } from '../../src/backend/index.ts';
import { DeltascopeError } from '../../src/core/errors.ts';
import {
  checkContext,
  cleanPromptList,
  cleanText,
  promptHygiene,
  PromptHygieneError,
} from '../../src/suite/promptHygiene.ts';
import {
  fromJsonReport,
  toJsonReport,
  toMarkdownReport,
  toTerminalReport,
} from '../../src/suite/reports/index.ts';
import { runSuite } from '../../src/suite/runner.ts';
import { parseSuiteSpec, SpecError } from '../../src/suite/spec.ts';

const entry = (prompts: string[], name = 'p') => ({
  name,
  kind: 'delta_kl',
  enabled: true,
  weight: 1,
  prompts,
});

describe('prompt hygiene', () => {
  it('drops duplicates and excluded prompts, fixes line endings and lone surrogates, counts each', () => {
    const { entries, summary } = promptHygiene(
      [entry(['a\r\nb', 'a\nb', 'x\uD800y', 'TODO: later', 'c', 'c'])],
      ['^TODO'],
    );
    expect(entries[0]!.prompts).toEqual(['a\nb', 'x\uFFFDy', 'c']);
    expect(summary.probes[0]).toEqual({
      probe: 'p',
      kind: 'delta_kl',
      prompts: 6,
      kept: 3,
      duplicates: 2,
      excluded: 1,
      lineEndings: 1,
      surrogates: 1,
    });
    expect(summary.totals.duplicates).toBe(2);
    expect(summary.exclude).toEqual(['^TODO']);
  });

  it('cleans strings outside `prompts` too (case fields), leaving name and kind alone', () => {
    const { entries, summary } = promptHygiene([
      {
        name: 'flip\r',
        kind: 'preference_flip',
        enabled: true,
        weight: 1,
        triples: [{ prompt: 'q\r\n', chosen: 'a', rejected: 'b\uDC00' }],
      },
    ]);
    expect(entries[0]).toMatchObject({
      name: 'flip\r',
      triples: [{ prompt: 'q\n', chosen: 'a', rejected: 'b\uFFFD' }],
    });
    expect(summary.probes[0]).toMatchObject({ lineEndings: 1, surrogates: 1, prompts: 0 });
  });

  it('refuses every empty prompt at once, naming the probe and the index as written', () => {
    const run = () => promptHygiene([entry(['ok', '  ', 'fine'], 'first'), entry(['\n\t'], 'second')]);
    expect(run).toThrow(PromptHygieneError);
    try {
      run();
    } catch (e) {
      const err = e as PromptHygieneError;
      expect(err.code).toBe('spec/invalid');
      expect(err.issues.map((i) => `${i.probe}.${i.field}`)).toEqual([
        'first.prompts[1]',
        'second.prompts[0]',
      ]);
      expect(err.message).toMatch(/first\.prompts\[1\]: empty or whitespace-only prompt/);
    }
  });

  it('refuses prompts past the context window with both lengths, and skips the check when unknown', async () => {
    const entries = [
      entry(['short', 'w '.repeat(40)]),
      {
        name: 'cases',
        kind: 'preference_flip',
        enabled: true,
        weight: 1,
        triples: [{ prompt: 'z'.repeat(30), chosen: 'a', rejected: 'b' }],
      },
    ];
    const count = (t: string) => Promise.resolve(t.length);
    await expect(checkContext(entries, 25, count)).rejects.toThrow(
      /p\.prompts\[1\]: 80 tokens, longer than the model's context window of 25[\s\S]*cases\.triples\[0\]\.prompt: 30 tokens/,
    );
    await expect(checkContext(entries, 100, count)).resolves.toBeUndefined();
    await expect(checkContext(entries, null, count)).resolves.toBeUndefined();
  });

  it('a spec exclude pattern that is no regular expression is a spec error with its line', () => {
    const spec = `version: 1
models: {base: {base: fake}, ft: {base: fake}}
hygiene:
  exclude: ['(unclosed']
suite:
  - {name: d, kind: delta_kl, prompts: [a]}
`;
    expect(() => parseSuiteSpec(spec)).toThrow(SpecError);
    expect(() => parseSuiteSpec(spec)).toThrow(
      /hygiene\.exclude\[0\] \(line 4:\d+\): not a regular expression/,
    );
  });

  it('properties: output has no \\r, no lone surrogate, no duplicate; counts add up; only typed errors', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { maxLength: 20 }), (prompts) => {
        const r = cleanPromptList(prompts, [/^x/u]);
        for (const p of r.prompts) {
          expect(p).not.toContain('\r');
          expect(cleanText(p).surrogates).toBe(false);
          expect(p.trim()).not.toBe('');
        }
        expect(new Set(r.prompts).size).toBe(r.prompts.length);
        expect(r.counts.kept + r.counts.duplicates + r.counts.excluded + r.empty.length).toBe(prompts.length);
        try {
          promptHygiene([entry(prompts)]);
        } catch (e) {
          expect(e).toBeInstanceOf(PromptHygieneError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('prompt hygiene in a suite run', () => {
  const SPEC = `version: 1
models: {base: {base: fake}, ft: {base: fake}}
hygiene: {exclude: ['^SKIP']}
suite:
  - name: shift
    kind: delta_kl
    prompts: ["The keeper\\r\\nof the lamp", "The keeper\\nof the lamp", "SKIP me", "A child found a lamp"]
`;

  it('runs the cleaned prompts and reports what hygiene did, in every format', async () => {
    const pair = await openPair({ kind: 'fake' });
    const result = await runSuite(parseSuiteSpec(SPEC), pair, { specPath: 'inline' });
    await pair.dispose();
    const shift = result.probes.find((p) => p.name === 'shift')!;
    expect(shift.evidence.num_prompts).toBe(2);
    expect(result.hygiene!.probes[0]).toMatchObject({
      prompts: 4,
      kept: 2,
      duplicates: 1,
      excluded: 1,
      lineEndings: 1,
    });
    const json = toJsonReport(result);
    expect(JSON.parse(json).prompt_hygiene.probes[0]).toMatchObject({ duplicates: 1, line_endings: 1 });
    expect(fromJsonReport(json).hygiene).toEqual(result.hygiene);
    const line =
      'shift (delta_kl): 1 duplicate dropped, 1 excluded by pattern, 1 with \\r\\n line endings normalised; 2 of 4 prompts run';
    expect(toMarkdownReport(result)).toContain(`## Prompt hygiene\n\n- ${line}`);
    expect(toTerminalReport(result)).toContain(`prompt hygiene:\n  - ${line}`);
  });

  it('an empty prompt stops the suite before any forward pass', async () => {
    const pair = await openPair({ kind: 'fake' });
    const spec = parseSuiteSpec(SPEC.replace('"SKIP me"', '"   "'));
    await expect(runSuite(spec, pair)).rejects.toThrow(/shift\.prompts\[2\]: empty or whitespace-only/);
    expect(pair.instrumentation.stats.forwardPasses).toBe(0);
    await pair.dispose();
  });

  it('on the demo model, a prompt past its 512-token window is refused naming probe, place and lengths', async () => {
    const pair = await openPair({ kind: 'demo' }, { warmup: false });
    expect(pair.info.contextTokens).toBe(512);
    const long = Array.from({ length: 600 }, (_, i) => `w${i}`).join(' ');
    const spec = parseSuiteSpec(SPEC.replace('"SKIP me"', JSON.stringify(long)));
    await expect(runSuite(spec, pair)).rejects.toThrow(
      /shift\.prompts\[2\]: \d+ tokens, longer than the model's context window of 512/,
    );
    await pair.dispose();
  });
});

describe('typed errors only, on any input', () => {
  it('the spec parser throws nothing but SpecError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.constantFrom(
            'version: 1\nsuite: [',
            'version: 1\nmodels: {base: {base: x}, ft: {base: y}}\nsuite: [{kind: delta_kl}]',
          ),
        ),
        (text) => {
          try {
            parseSuiteSpec(text);
          } catch (e) {
            expect(e).toBeInstanceOf(SpecError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('prompt hygiene throws nothing but PromptHygieneError on any entry shape', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue()),
        fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
        (fields, exclude) => {
          try {
            promptHygiene([{ ...fields, name: 'n', kind: 'k', enabled: true, weight: 1 }], exclude);
          } catch (e) {
            expect(e).toBeInstanceOf(DeltascopeError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
