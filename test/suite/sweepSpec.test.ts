// The sweep spec parser: a valid spec (suite file or inline probes), and every problem at once with
// its path and line:column, in file order — the sweep's own keys, each adapter entry, and an inline
// suite checked by the suite spec's schema with its issues under `probes`.
import { describe, expect, it } from 'vitest';
import { errorCode } from '../../src/core/errors.ts';
import type { SpecIssue } from '../../src/suite/spec.ts';
import { parseSweepSpec, SweepSpecError } from '../../src/suite/sweepSpec.ts';

function issuesOf(text: string): SpecIssue[] {
  try {
    parseSweepSpec(text, { path: 'sweep.yaml' });
  } catch (e) {
    expect(e).toBeInstanceOf(SweepSpecError);
    expect(errorCode(e)).toBe('spec/invalid');
    return (e as SweepSpecError).issues as SpecIssue[];
  }
  throw new Error('expected a SweepSpecError');
}

const short = (i: SpecIssue) => `${i.path} @${i.line}:${i.column} ${i.message}`;

describe('parseSweepSpec', () => {
  it('reads a spec with a suite file, and one with inline probes checked as a suite', () => {
    const spec = parseSweepSpec(
      'version: 1\nbase: org/base\nbase_revision: v1\nseed: 4\nsuite: s.yaml\nadapters:\n  - glob: ck/checkpoint-*\n  - {hub: org/a, revision: r}\n',
    );
    expect(spec).toMatchObject({ base: 'org/base', baseRevision: 'v1', dtype: 'auto', seed: 4 });
    expect(spec.suite).toEqual({ path: 's.yaml' });
    expect(spec.adapters.map((a) => a.line)).toEqual([7, 8]);
    const inline = parseSweepSpec(
      'version: 1\nbase: ./b\ndefaults: {top_k: 8}\nprobes:\n  - {name: kl, kind: delta_kl, prompts: [hi]}\nadapters: [{path: a}]\n',
    );
    if (!('inline' in inline.suite)) throw new Error('expected an inline suite');
    expect(inline.suite.inline.defaults.top_k).toBe(8);
    expect(inline.suite.inline.suite.map((p) => p.name)).toEqual(['kl']);
    expect(inline.seed).toBeNull();
  });

  it('lists every problem of the keys and adapter entries with its line, in file order', () => {
    const issues = issuesOf(
      [
        'version: 2', // 1
        'base: ./b', // 2
        'base_revision: main', // 3
        'dtype: bf16', // 4
        'suite: s.yaml', // 5
        'probes: []', // 6
        'colour: red', // 7
        'adapters:', // 8
        '  - name: a', // 9
        '    path: x', // 10
        '    glob: y/*', // 11
        '  - {revision: v1, path: z}', // 12
        '  - glob: runs/ckpt', // 13
        '  - glob: runs/*/adapter', // 14
        '  - {glob: "c-*", name: c}', // 15
        '  - {name: a, hub: org/a}', // 16
        '',
      ].join('\n'),
    ).map(short);
    expect(issues).toEqual([
      'dtype @4:1 must be one of auto, fp32, fp16; got string "bf16"',
      'colour @7:1 unknown key "colour"; known keys: version, base, base_revision, dtype, seed, suite, defaults, probes, hygiene, adapters',
      'adapters[0] @9:5 give one of path, hub or glob, not path and glob',
      'adapters[0].name @9:5 a glob labels each match by its folder name; drop name or list the folders one by one',
      'adapters[1].revision @12:6 revision goes with hub only',
      'adapters[2].glob @13:5 "runs/ckpt" has no * or ? in its last part; use path for a single folder',
      'adapters[3].glob @14:5 "runs/*/adapter": only the last part of a glob may hold * or ? (e.g. runs/checkpoint-*)',
      'adapters[4].name @15:19 a glob labels each match by its folder name; drop name or list the folders one by one',
    ]);
  });

  it('checks across keys once the keys are right: version, one suite, base_revision, duplicate names', () => {
    const issues = issuesOf(
      'version: 2\nbase: ./b\nbase_revision: main\nsuite: s.yaml\nprobes: []\nadapters:\n  - {name: a, path: x}\n  - {name: a, hub: org/a}\n',
    ).map(short);
    expect(issues).toEqual([
      'version @1:1 unsupported sweep spec version 2; this reads 1',
      'base_revision @3:1 base_revision goes with a hub id, not a folder',
      'probes @5:1 give the suite as a file (suite) or inline (probes, defaults, hygiene), not both',
      'adapters[1].name @8:6 duplicate adapter name "a" (also adapters[0]); names label results and must be unique',
    ]);
    expect(issuesOf('version: 1\nbase: b\nadapters: [{path: a}]\n').map(short)).toEqual([
      '(root) @1:1 no suite: give suite (a suite spec file) or probes (a list of probe entries)',
    ]);
  });

  it('locates an inline suite’s problems under probes and defaults', () => {
    const issues = issuesOf(
      [
        'version: 1',
        'base: b',
        'defaults:',
        '  top_k: 0',
        'probes:',
        '  - {name: kl, kind: delta_kl, prompts: [hi]}',
        '  - {name: kl, kind: delta_kl, prompts: hi}',
        '  - {name: x, kind: no_such_kind}',
        'adapters: [{path: a}]',
        '',
      ].join('\n'),
    );
    expect(issues.map((i) => `${i.path} @${i.line}`)).toEqual([
      'defaults.top_k @4',
      'probes[1].name @7',
      'probes[1].prompts @7',
      'probes[2].kind @8',
    ]);
    expect(issues[1]!.message).toContain('duplicate probe name "kl" (also suite[0])');
  });

  it('reports YAML syntax errors and a document that is not a mapping', () => {
    expect(issuesOf('version: 1\nbase: [b\n').map((i) => i.path)).toContain('(yaml)');
    expect(issuesOf('- a\n').map(short)).toEqual([
      '(root) @1:1 expected a mapping with version, base, suite (or probes) and adapters',
    ]);
    expect(() => parseSweepSpec('adapters: []\n', { path: 'sw.yaml' })).toThrow(
      /^sw\.yaml: \d+ problems in the sweep spec/,
    );
  });
});
