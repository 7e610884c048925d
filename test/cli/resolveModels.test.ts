import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/backend/index.ts';
import { dtypeForSpec, resolveSpecModels } from '../../src/cli/resolveModels.ts';
import { gateDecision, parseWeights } from '../../src/cli/suiteCommand.ts';
import { UsageError } from '../../src/cli/errors.ts';
import { probeRegistry } from '../../src/probes/registry.ts';
import { parseSuiteSpec } from '../../src/suite/spec.ts';
import type { SuiteSpec } from '../../src/suite/types.ts';
import { fixtureResult } from '../suite/reportFixture.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLES = join(ROOT, 'examples');

const specWith = (base: string, ft: string, extra = ''): SuiteSpec =>
  parseSuiteSpec(
    `version: 1\nmodels:\n  base: {base: ${base}${extra}}\n  ft: {base: ${ft}${extra}}\nsuite: []\n`,
  );

describe('resolveSpecModels', () => {
  it('resolves folders relative to the spec file', () => {
    const source = resolveSpecModels(
      specWith('../public/models/deltascope-demo/base', '../public/models/deltascope-demo/ft'),
      EXAMPLES,
    );
    expect(source.base).toEqual({ kind: 'dir', path: join(ROOT, 'public/models/deltascope-demo/base') });
    expect(source.ft).toEqual({ kind: 'dir', path: join(ROOT, 'public/models/deltascope-demo/ft') });
  });

  it('treats a base that is not a folder as a hub id, on $DELTASCOPE_HUB_HOST when set', () => {
    const source = resolveSpecModels(specWith('org/base-model', 'org/ft-model'), EXAMPLES, {
      DELTASCOPE_HUB_HOST: 'http://127.0.0.1:9999',
    });
    expect(source.base).toEqual({ kind: 'hub', id: 'org/base-model', host: 'http://127.0.0.1:9999' });
    expect(source.ft).toMatchObject({ kind: 'hub', id: 'org/ft-model' });
    expect(resolveSpecModels(specWith('org/a', 'org/b'), EXAMPLES, {}).base).toEqual({
      kind: 'hub',
      id: 'org/a',
    });
  });

  it('opens models.ft.adapter as ft = its base + the adapter (runtime LoRA), a folder or a hub id', () => {
    const spec = (models: string) => parseSuiteSpec(`version: 1\nmodels:\n${models}suite: []\n`);
    expect(
      resolveSpecModels(
        spec('  base: {base: org/m}\n  ft: {base: org/m, adapter: org/lora}\n'),
        EXAMPLES,
        {},
      ),
    ).toEqual({
      kind: 'pair',
      base: { kind: 'hub', id: 'org/m' },
      ft: { kind: 'adapter', base: { kind: 'hub', id: 'org/m' }, adapter: { kind: 'hub', id: 'org/lora' } },
    });
    const local = resolveSpecModels(
      spec('  base: {base: org/m}\n  ft: {base: org/m, adapter: .}\n'),
      EXAMPLES,
      {},
    );
    expect(local.ft).toMatchObject({ kind: 'adapter', adapter: { kind: 'dir', path: EXAMPLES } });
    expect(() =>
      resolveSpecModels(spec('  base: {base: org/m}\n  ft: {base: org/m, adapter: ./adapter}\n'), EXAMPLES),
    ).toThrow(`models.ft.adapter: folder ${join(EXAMPLES, 'adapter')} does not exist`);
    expect(() =>
      resolveSpecModels(spec('  base: {base: org/m, adapter: org/lora}\n  ft: {base: org/m}\n'), EXAMPLES),
    ).toThrow(ModelLoadError);
    expect(() =>
      resolveSpecModels(spec('  base: {base: org/m, adapter: org/lora}\n  ft: {base: org/m}\n'), EXAMPLES),
    ).toThrow(expect.objectContaining({ code: 'model-load/unsupported', input: 'models.base.adapter' }));
  });

  it('refuses other kinds and missing folders with what to do instead', () => {
    expect(() => resolveSpecModels(specWith('org/m', 'org/m', ', kind: api'), EXAMPLES)).toThrow(
      /models\.base\.kind is "api"; the deltascope CLI loads kind "hf" models only/,
    );
    expect(() => resolveSpecModels(specWith('./missing', 'org/m'), EXAMPLES)).toThrow(
      `models.base.base: folder ${join(EXAMPLES, 'missing')} does not exist`,
    );
  });

  it('maps dtype auto to fp32 (CPU) and refuses bf16 and mixed dtypes', () => {
    expect(dtypeForSpec(specWith('org/a', 'org/b'))).toBe('fp32');
    expect(dtypeForSpec(specWith('org/a', 'org/b', ', dtype: fp16'))).toBe('fp16');
    expect(() => dtypeForSpec(specWith('org/a', 'org/b', ', dtype: bf16'))).toThrow(/bf16/);
  });
});

describe('gateDecision', () => {
  it('fails on any FAIL verdict and on an overall below the threshold, with every reason', () => {
    const r = fixtureResult();
    expect(gateDecision(r, 0.9)).toEqual({
      passed: false,
      reasons: [
        'probe drift (calibration_drift) FAILED: too many <regressions> & "drops"\nsecond line',
        'overall score 0.6123 is below the threshold 0.9',
      ],
    });
    r.probes = r.probes.filter((p) => p.verdict !== 'fail');
    expect(gateDecision(r, 0.6)).toEqual({ passed: true, reasons: [] });
    // With no scored probe sway's overall is 0.0, which gates like any low score.
    r.score = { ...r.score, overall: 0 };
    expect(gateDecision(r, 0.6).reasons).toEqual(['overall score 0.0000 is below the threshold 0.6']);
  });
});

describe('parseWeights (--weights)', () => {
  it("reads sway's category=weight list and names a bad part", () => {
    expect(parseWeights('attribution=0.5, adherence = 0.2', 'run')).toEqual({
      attribution: 0.5,
      adherence: 0.2,
    });
    expect(() => parseWeights('style=1', 'run')).toThrow(UsageError);
    expect(() => parseWeights('adherence=-1', 'run')).toThrow(/"adherence=-1" is not category=weight/);
    expect(() => parseWeights('adherence', 'gate')).toThrow(/"adherence"/);
  });
});

describe('example specs', () => {
  it('parse, and the demo suite uses every registered probe kind', () => {
    for (const name of ['minimal.yaml', 'demo-suite.yaml']) {
      const path = join(EXAMPLES, name);
      parseSuiteSpec(readFileSync(path, 'utf8'), { path });
    }
    const demo = parseSuiteSpec(readFileSync(join(EXAMPLES, 'demo-suite.yaml'), 'utf8'));
    expect(new Set(demo.suite.map((p) => p.kind))).toEqual(new Set(probeRegistry.keys()));
  });
});
