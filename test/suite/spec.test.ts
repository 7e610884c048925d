import { describe, expect, it } from 'vitest';
import { DeltascopeError, fromErrorValue, toErrorValue } from '../../src/core/errors.ts';
import { SpecError, parseSuiteSpec, type SpecIssue } from '../../src/suite/spec.ts';

const MODELS = `models:
  base: {kind: hf, base: org/model}
  ft: {kind: hf, base: org/model, adapter: ./adapter}
`;

/** Parses and returns the SpecError's issues (fails the test if it parsed). */
function issuesOf(yaml: string): readonly SpecIssue[] {
  try {
    parseSuiteSpec(yaml, { path: 'test.yaml' });
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    return (e as SpecError).issues;
  }
  throw new Error('expected a SpecError');
}

const at = (issues: readonly SpecIssue[], path: string) => issues.find((i) => i.path === path);

describe('parseSuiteSpec', () => {
  it('parses a sway-shaped spec unchanged, filling every default', () => {
    const spec = parseSuiteSpec(
      `# a sway.yaml as sway writes it
version: 1
dlm_source: ./doc.dlm
${MODELS}defaults:
  seed: 7
  score_weights: {attribution: 0.5}
suite:
  - name: kl
    kind: delta_kl
    prompts: ["The keeper", "Every spring"]
  - {name: off, kind: delta_kl, enabled: false, weight: 2, prompts: [x], divergence: kl, top_k: 16}
`,
    );
    expect(spec.version).toBe(1);
    expect(spec.dlm_source).toBe('./doc.dlm');
    expect(spec.models.base).toEqual({
      kind: 'hf',
      base: 'org/model',
      adapter: null,
      dtype: 'auto',
      device: 'auto',
      trust_remote_code: false,
      entry_point: null,
      endpoint: null,
    });
    expect(spec.models.ft.adapter).toBe('./adapter');
    expect(spec.defaults).toEqual({
      seed: 7,
      top_k: 256,
      differential: true,
      coverage_threshold: 0.6,
      score_weights: { adherence: 0.3, attribution: 0.5, calibration: 0.2, ablation: 0.15, baseline: 0 },
      concurrent_probes: 1,
    });
    expect(spec.suite[0]).toEqual({
      name: 'kl',
      kind: 'delta_kl',
      enabled: true,
      weight: 1,
      prompts: ['The keeper', 'Every spring'],
      divergence: 'js',
      top_k: null,
      assert_mean_gte: 0.02,
      assert_z_gte: 3,
      method: 'topk',
    });
    expect(spec.suite[1]).toMatchObject({ enabled: false, weight: 2, divergence: 'kl', top_k: 16 });
  });

  it('reports several errors at once, in file order, each with its path and line:column', () => {
    const issues = issuesOf(`version: 1
${MODELS}suite:
  - name: kl
    kind: delta_kl
    prompts: "not a list"
    colour: red
  - name: second
    kind: delta_kl
    prompts: [a]
    top_k: 1.5
`);
    expect(issues.map((i) => `${i.path} ${i.line}:${i.column}`)).toEqual([
      'suite[0].prompts 8:5',
      'suite[0].colour 9:5',
      'suite[1].top_k 13:5',
    ]);
    expect(at(issues, 'suite[0].prompts')!.message).toBe('expected a list, got string "not a list"');
    expect(at(issues, 'suite[0].colour')!.message).toMatch(
      /^unknown key "colour"; known keys: name, kind, enabled/,
    );
    expect(at(issues, 'suite[1].top_k')!.message).toBe('expected a whole number, got 1.5');
  });

  it('rejects an unknown probe kind by name, listing the known kinds', () => {
    const issues = issuesOf(`version: 1
${MODELS}suite:
  - name: mystery
    kind: delta_kll
`);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'suite[0].kind', line: 7, column: 5 });
    expect(issues[0]!.message).toMatch(/^unknown probe kind "delta_kll"; known kinds: .*delta_kl/);
  });

  it('points a missing required key at the mapping that lacks it', () => {
    const issues = issuesOf(`version: 1
models:
  base:
    kind: hf
  ft: {base: org/ft}
suite:
  - kind: delta_kl
    prompts: [a]
`);
    expect(issues.map((i) => `${i.path} ${i.line}:${i.column} ${i.message}`)).toEqual([
      'models.base.base 3:3 required key "base" is missing',
      'suite[0].name 7:5 required key "name" is missing',
    ]);
  });

  it('reports a missing top-level key, wrong types and bad values in defaults and models', () => {
    const issues = issuesOf(`version: 2
models:
  base: {kind: tgi, base: org/model}
  ft: {base: org/model, dtype: int4, trust_remote_code: "yes"}
defaults:
  top_k: 0
  coverage_threshold: 1.5
  score_weights: {adherence: -1, style: 1}
`);
    const paths = issues.map((i) => i.path);
    // The missing `suite` points at the root mapping (1:1), like `version`; the sort keeps check order.
    expect(paths).toEqual([
      'suite',
      'version',
      'models.base.kind',
      'models.ft.dtype',
      'models.ft.trust_remote_code',
      'defaults.top_k',
      'defaults.coverage_threshold',
      'defaults.score_weights.adherence',
      'defaults.score_weights.style',
    ]);
    expect(at(issues, 'version')!.message).toMatch(/unsupported spec version 2/);
    expect(at(issues, 'models.base.kind')!.message).toBe(
      'must be one of hf, mlx, dummy, custom, api; got string "tgi"',
    );
    expect(at(issues, 'models.ft.trust_remote_code')!.message).toBe(
      'expected true or false, got string "yes"',
    );
    expect(at(issues, 'suite')).toMatchObject({
      line: 1,
      column: 1,
      message: 'required key "suite" is missing',
    });
  });

  it('requires at least one positive category weight after merging with the defaults', () => {
    const issues = issuesOf(`version: 1
${MODELS}defaults:
  score_weights: {adherence: 0, attribution: 0, calibration: 0, ablation: 0}
suite: []
`);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: 'defaults.score_weights', line: 6, column: 3 });
    expect(issues[0]!.message).toMatch(/at least one category weight must be positive/);
  });

  it('rejects duplicate probe names and non-mapping entries', () => {
    const issues = issuesOf(`version: 1
${MODELS}suite:
  - {name: a, kind: delta_kl, prompts: [x]}
  - just a string
  - {name: a, kind: delta_kl, prompts: [y]}
`);
    expect(issues.map((i) => `${i.path} ${i.line}:${i.column}`)).toEqual([
      'suite[1] 7:5',
      'suite[2].name 8:6',
    ]);
    expect(issues[1]!.message).toBe('duplicate probe name "a" (also suite[0]); names must be unique');
  });

  it('turns YAML syntax errors into issues with their line and column', () => {
    const issues = issuesOf(`version: 1
suite:
  - name: a
    prompts: [unclosed
  kind: x
`);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]!.path).toBe('(yaml)');
    expect(issues[0]!.line).toBeGreaterThanOrEqual(4);
    expect(issues[0]!.message).toMatch(/^YAML syntax error: /);
    expect(issues[0]!.message).not.toMatch(/at line/);
    const dup = issuesOf('version: 1\nversion: 1\n');
    expect(dup).toEqual([
      {
        path: '(yaml)',
        line: 2,
        column: 1,
        message: 'YAML syntax error: Map keys must be unique (DUPLICATE_KEY)',
      },
    ]);
  });

  it('rejects an empty document and a non-mapping root', () => {
    expect(issuesOf('')[0]).toMatchObject({ path: '(root)', line: 1, column: 1 });
    expect(issuesOf('- a\n- b\n')[0]!.message).toMatch(/expected a mapping with version, models/);
  });

  it("lists every issue in the error's message as `path (line L:C): message`, naming the file", () => {
    let err: SpecError | undefined;
    try {
      parseSuiteSpec(
        `version: 1\n${MODELS}suite:\n  - {name: a, kind: nope}\n  - {name: b, kind: delta_kl, x: 1}\n`,
        {
          path: 'specs/sway.yaml',
        },
      );
    } catch (e) {
      err = e as SpecError;
    }
    expect(err?.name).toBe('SpecError');
    const lines = err!.message.split('\n');
    expect(lines[0]).toBe('specs/sway.yaml: 2 problems in the suite spec; fix them and run again:');
    expect(lines[1]).toMatch(/^ {2}suite\[0\]\.kind \(line 6:15\): unknown probe kind "nope"/);
    expect(lines[2]).toMatch(/^ {2}suite\[1\]\.x \(line 7:31\): unknown key "x"/);
  });

  it('names an unknown field in a probe entry with its kind’s known fields, at its key', () => {
    const issues = issuesOf(`version: 1
${MODELS}suite:
  - name: drift
    kind: calibration_drift
    items_limt: 10
    regression_nats: 0
`);
    expect(issues).toEqual([
      {
        path: 'suite[0].items_limt',
        line: 8,
        column: 5,
        message:
          'unknown key "items_limt"; known keys: name, kind, enabled, weight, pack, items, items_limit, ' +
          'regression_nats, ' +
          'assert_fraction_regressed_lt, assert_mean_delta_gte, assert_z_gte',
      },
      { path: 'suite[0].regression_nats', line: 9, column: 5, message: 'must be > 0, got 0' },
    ]);
  });

  it('reports wrong types deep in lists of mappings, each at its own line:column', () => {
    const issues = issuesOf(`version: 1
${MODELS}suite:
  - name: para
    kind: paraphrase_invariance
    cases:
      - prompt: q
        gold: ""
        paraphrases: [ok, 3]
      - {prompt: q, gold: g, paraphrases: []}
  - name: sec
    kind: section_internalization
    sections:
      - {id: a, kind: poem, text: x}
      - {text: y}
`);
    expect(issues.map((i) => `${i.path} ${i.line}:${i.column} ${i.message}`)).toEqual([
      'suite[0].cases[0].gold 10:9 must not be empty',
      'suite[0].cases[0].paraphrases[1] 11:27 expected a string, got number 3',
      'suite[0].cases[1].paraphrases 12:30 needs at least 1 item, got 0',
      'suite[1].sections[0].kind 16:17 must be one of prose, instruction, preference; got string "poem"',
      'suite[1].sections[1].id 17:9 required key "id" is missing',
    ]);
  });

  it('checks cross-field rules (distinct lambdas) and tuple lengths in the probe’s schema', () => {
    const issues = issuesOf(`version: 1
${MODELS}suite:
  - name: abl
    kind: adapter_ablation
    prompts: [a]
    lambdas: [0, 0.5, 0.5]
  - name: abl2
    kind: adapter_ablation
    prompts: [a]
    assert_saturation_between: [0.3]
`);
    expect(issues.map((i) => `${i.path} ${i.line}:${i.column} ${i.message}`)).toEqual([
      'suite[0].lambdas 9:5 lambdas must be distinct',
      'suite[1].assert_saturation_between 13:5 expected a list of 2 values, got 1',
    ]);
  });

  it('says "whole number" for an int field given a string or a fraction, and names bounds', () => {
    const issues = issuesOf(`version: "1"
${MODELS}defaults:
  seed: 0.5
  top_k: 0
suite:
  - {name: n, kind: null_adapter, runs: 11, init_scale: 0, enabled: "no", weight: -1}
`);
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'version: expected a whole number, got string "1"',
      'defaults.seed: expected a whole number, got 0.5',
      'defaults.top_k: must be ≥ 1, got 0',
      'suite[0].runs: must be ≤ 10, got 11',
      'suite[0].init_scale: must be > 0, got 0',
      'suite[0].enabled: expected true or false, got string "no"',
      'suite[0].weight: must be ≥ 0, got -1',
    ]);
  });

  it('is a DeltascopeError spec/invalid whose input is the file and details the issues, across a boundary', () => {
    let err: unknown;
    try {
      parseSuiteSpec(`version: 1\n${MODELS}suite:\n  - {name: a, kind: nope}\n`, { path: 'specs/sway.yaml' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpecError);
    expect(err).toBeInstanceOf(DeltascopeError);
    const spec = err as SpecError;
    expect(spec.code).toBe('spec/invalid');
    expect(spec.input).toBe('specs/sway.yaml');
    expect(spec.details).toEqual(spec.issues);
    // What the page receives from the worker: a plain value, cloned, rebuilt with the same code.
    const back = fromErrorValue(structuredClone(toErrorValue(spec)));
    expect(back.code).toBe('spec/invalid');
    expect(back.details).toEqual([expect.objectContaining({ path: 'suite[0].kind', line: 6, column: 15 })]);
  });
});
