// The sweep's pure parts: natural order, shard assignment (a partition, sizes within one), glob
// expansion over a table of folders, the sweep identity (the same wherever the spec lies, another
// for another seed), reading and merging reports (order, refusals naming files and adapters), the
// labelled results other reports take, and the terminal and markdown summaries.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeltascopeError } from '../../src/core/errors.ts';
import { ReportFormatError } from '../../src/suite/reports/json.ts';
import { parseSuiteSpec } from '../../src/suite/spec.ts';
import {
  SWEEP_SCHEMA,
  expandAdapters,
  globPattern,
  mergeSweepReports,
  naturalCompare,
  parseShard,
  readSweepReport,
  resultEntry,
  shardIndices,
  suiteForAdapter,
  sweepHeader,
  sweepPlan,
  sweepToLabelledResults,
  toSweepJson,
  type FolderLister,
  type SweepPlan,
  type SweepReport,
} from '../../src/suite/sweep.ts';
import { toSweepMarkdown, toSweepTerminal } from '../../src/suite/sweepReport.ts';
import { parseSweepSpec } from '../../src/suite/sweepSpec.ts';
import { fixtureResult } from './reportFixture.ts';

const SUITE = parseSuiteSpec(
  'version: 1\nmodels:\n  base: {base: b}\n  ft: {base: b}\nsuite:\n  - {name: kl, kind: delta_kl, prompts: [a]}\n',
);

const SPEC = `version: 1
base: ../base
suite: suite.yaml
adapters:
  - glob: run/checkpoint-*
  - name: final
    path: run/final
  - hub: org/lora
    revision: v2
`;

/** A folder tree: path → subfolder names; adapters are the paths listed in `adapters`. */
function lister(tree: Record<string, string[]>, adapters: string[]): FolderLister {
  return {
    subfolders: (dir) => tree[dir] ?? null,
    isAdapter: (dir) => adapters.includes(dir),
  };
}

function plan(root = '/a', seedLine = ''): SweepPlan {
  const spec = parseSweepSpec(SPEC + seedLine);
  const tree = { [`${root}/run`]: ['checkpoint-100', 'checkpoint-20', 'checkpoint-3', 'logs', 'final'] };
  const adapters = expandAdapters(
    spec,
    'sweep.yaml',
    lister(
      tree,
      ['checkpoint-100', 'checkpoint-20', 'checkpoint-3'].map((c) => `${root}/run/${c}`),
    ),
    (rel) => `${root}/${rel.replace(/^\.$/, '').replace(/\/$/, '')}`.replace(/\/$/, ''),
  );
  return sweepPlan(spec, 'sweep.yaml', SUITE, adapters);
}

describe('natural order', () => {
  it('orders digit runs by value and is a total order consistent with equality', () => {
    expect(['checkpoint-100', 'checkpoint-20', 'checkpoint-3'].sort(naturalCompare)).toEqual([
      'checkpoint-3',
      'checkpoint-20',
      'checkpoint-100',
    ]);
    fc.assert(
      fc.property(fc.array(fc.nat(100_000), { minLength: 1, maxLength: 30 }), (steps) => {
        const names = steps.map((n) => `checkpoint-${n}`).sort(naturalCompare);
        expect(names.map((n) => Number(n.slice(11)))).toEqual([...steps].sort((a, b) => a - b));
      }),
    );
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (a, b, c) => {
        expect(Math.sign(naturalCompare(a, b)) + Math.sign(naturalCompare(b, a))).toBe(0);
        expect(naturalCompare(a, b) === 0).toBe(a === b);
        if (naturalCompare(a, b) < 0 && naturalCompare(b, c) < 0)
          expect(naturalCompare(a, c)).toBeLessThan(0);
      }),
    );
  });

  it('matches a glob part as a whole name (* any run, ? one character, the rest literal)', () => {
    expect(globPattern('checkpoint-*').test('checkpoint-12')).toBe(true);
    expect(globPattern('checkpoint-*').test('xcheckpoint-12')).toBe(false);
    expect(globPattern('ckpt.?').test('ckpt.1')).toBe(true);
    expect(globPattern('ckpt.?').test('ckptx1')).toBe(false);
  });
});

describe('shards', () => {
  it('assign every adapter to exactly one shard, round robin, sizes within one of each other', () => {
    fc.assert(
      fc.property(fc.nat(200), fc.integer({ min: 1, max: 40 }), (total, count) => {
        const all = Array.from({ length: count }, (_, i) => shardIndices(total, { index: i + 1, count }));
        expect(all.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
        all.forEach((s, i) => s.forEach((idx) => expect(idx % count).toBe(i)));
        const sizes = all.map((s) => s.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('parse i/n with 1 ≤ i ≤ n only', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
    for (const bad of ['0/3', '4/3', '1/0', '2', 'a/b', '-1/2', '1.5/3']) expect(parseShard(bad)).toBeNull();
  });
});

describe('plan', () => {
  it('expands the glob to adapter folders in natural order, then the named entries, each with its label and ref', () => {
    const p = plan();
    expect(p.adapters.map((a) => [a.index, a.label, a.ref])).toEqual([
      [0, 'checkpoint-3', 'run/checkpoint-3'],
      [1, 'checkpoint-20', 'run/checkpoint-20'],
      [2, 'checkpoint-100', 'run/checkpoint-100'],
      [3, 'final', 'run/final'],
      [4, 'org/lora@v2', 'org/lora@v2'],
    ]);
    expect(p.adapters[0]!.location).toEqual({ kind: 'dir', path: '/a/run/checkpoint-3' });
    expect(p.adapters[4]!.location).toEqual({ kind: 'hub', id: 'org/lora', revision: 'v2' });
    const suite = suiteForAdapter(p, p.adapters[1]!);
    expect(suite.models.ft).toMatchObject({ base: '../base', adapter: 'run/checkpoint-20' });
    expect(suite.models.base.adapter).toBeNull();
  });

  it('has one identity wherever the spec lies, and another for another seed', () => {
    expect(plan('/a').identity).toBe(plan('/elsewhere/b').identity);
    expect(plan('/a', 'seed: 5\n').identity).not.toBe(plan('/a').identity);
    expect(plan('/a', 'seed: 5\n').suite.defaults.seed).toBe(5);
  });

  it('refuses a glob that matches nothing and a label used twice, naming the spec line', () => {
    const spec = parseSweepSpec(SPEC);
    expect(() => expandAdapters(spec, 'sweep.yaml', lister({}, []), (r) => `/a/${r}`)).toThrow(
      /adapters\[0\]\.glob \(line 5:1\): "run\/checkpoint-\*" matches no folder holding adapter_config\.json \(run does not exist\)/,
    );
    const twice = parseSweepSpec(
      'version: 1\nbase: b\nsuite: s.yaml\nadapters:\n  - path: x/final\n  - path: y/final\n',
    );
    expect(() => expandAdapters(twice, 's', lister({}, []), (r) => r)).toThrow(
      /line 6:1\): two adapters are labelled "final" \(x\/final and y\/final\)/,
    );
  });
});

/** A shard's report over `plan` with fixture results (scores told apart by index). */
function shardReport(p: SweepPlan, index: number, count: number): SweepReport {
  const indices = shardIndices(p.adapters.length, { index, count });
  return {
    schema: SWEEP_SCHEMA,
    schema_version: 1,
    sweep: sweepHeader(p),
    runs: [
      {
        shard: { index, count },
        adapters: indices,
        started_at: '2026-01-01T00:00:00.000Z',
        finished_at: '2026-01-01T00:01:00.000Z',
        deltascope_version: '0.1.0',
        device: 'cpu',
        loads: indices.map((i, k) => ({ index: i, how: k === 0 ? 'loaded' : 'swapped', ms: 1 })),
      },
    ],
    results: indices.map((i) => {
      const r = fixtureResult();
      return resultEntry(p.adapters[i]!, { ...r, score: { ...r.score, overall: i / 10 } });
    }),
  };
}

const files = (p: SweepPlan, count: number, order = [...Array(count).keys()]) =>
  order.map((i) => ({ source: `shard-${i + 1}.json`, report: shardReport(p, i + 1, count) }));

describe('merge', () => {
  it('orders results by index whatever the order of the files, and equals the unsharded results', () => {
    const p = plan();
    const merged = mergeSweepReports(files(p, 3, [2, 0, 1]));
    expect(merged.results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
    expect(merged.results).toEqual(shardReport(p, 1, 1).results);
    expect(merged.runs.map((r) => r.shard.index)).toEqual([1, 2, 3]);
    // A merged report merges again (with nothing else) to itself.
    expect(mergeSweepReports([{ source: 'm.json', report: merged }])).toEqual(merged);
  });

  it('names the missing adapters with their shard, a duplicate with both files, and another sweep', () => {
    const p = plan();
    const [one, , three] = files(p, 3);
    expect(() => mergeSweepReports([one!, three!])).toThrow(
      '2 of 5 adapters have no result in these reports: "checkpoint-20" (index 1, shard 2/3), "org/lora@v2" (index 4, shard 2/3)',
    );
    expect(() => mergeSweepReports([one!, one!])).toThrow(
      'adapter "checkpoint-3" (index 0) is in both shard-1.json and shard-1.json',
    );
    const other = { source: 'other.json', report: shardReport(plan('/a', 'seed: 9\n'), 2, 3) };
    expect(() => mergeSweepReports([one!, other, three!])).toThrow(
      /other\.json is from another sweep than shard-1\.json/,
    );
  });

  it('reads back what it writes, and refuses what is not a sweep report', () => {
    const r = shardReport(plan(), 1, 2);
    expect(readSweepReport(toSweepJson(r), 'x.json')).toEqual(r);
    expect(() => readSweepReport('{"probes": []}', 'run.json')).toThrow(
      /run\.json is not a sweep report \(no "schema": "deltascope.sweep"\)/,
    );
    expect(() => readSweepReport('{', 'bad.json')).toThrow(/bad\.json is not valid JSON/);
    const future = { ...r, schema_version: 2 };
    expect(() => readSweepReport(JSON.stringify(future), 'f.json')).toThrow(/Upgrade deltascope/);
    const outOfRange = { ...r, results: [{ ...r.results[0]!, index: 99 }] };
    expect(() => readSweepReport(JSON.stringify(outOfRange), 'o.json')).toThrow(/results\[0\]/);
  });

  it('refuses a run without a valid shard, device or version, naming the file and runs[i]', () => {
    const r = shardReport(plan(), 1, 2);
    const run = r.runs[0]!;
    const cases: [unknown, RegExp][] = [
      [{}, /runs\[0\]\.shard/],
      [null, /runs\[0\] is not an object/],
      [{ ...run, shard: { index: 3, count: 2 } }, /runs\[0\]\.shard/],
      [{ ...run, device: 7 }, /runs\[0\]\.device/],
      [{ ...run, deltascope_version: undefined }, /runs\[0\]\.deltascope_version/],
      [{ ...run, failed: [{ index: 0 }] }, /runs\[0\]\.failed\[0\]/],
    ];
    for (const [bad, message] of cases) {
      const text = JSON.stringify({ ...r, runs: [bad] });
      expect(() => readSweepReport(text, 'm.json')).toThrow(ReportFormatError);
      expect(() => readSweepReport(text, 'm.json')).toThrow(message);
      expect(() => readSweepReport(text, 'm.json')).toThrow(/m\.json is not a sweep report/);
    }
  });

  it('on any JSON, reading, merging and rendering throw only typed deltascope errors', () => {
    const good = [shardReport(plan(), 1, 2), shardReport(plan(), 2, 2)];
    const paths = (v: unknown, at: (string | number)[] = []): (string | number)[][] =>
      typeof v === 'object' && v !== null
        ? [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, Array.isArray(v) ? Number(k) : k]))]
        : [at];
    const set = (root: unknown, at: (string | number)[], value: unknown): unknown => {
      if (at.length === 0) return value;
      const copy = (Array.isArray(root) ? [...root] : { ...(root as object) }) as Record<
        string | number,
        unknown
      >;
      copy[at[0]!] = set(copy[at[0]!], at.slice(1), value);
      return copy;
    };
    const typedOnly = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        if (!(e instanceof DeltascopeError)) throw e;
      }
    };
    fc.assert(
      fc.property(
        fc.nat(1),
        fc.array(fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 3 })), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          let doc: unknown = JSON.parse(toSweepJson(good[which]!));
          for (const [k, value] of edits) {
            const all = paths(doc);
            doc = set(doc, all[k % all.length]!, value);
          }
          typedOnly(() => {
            const read = readSweepReport(JSON.stringify(doc), 'x.json');
            const other = { source: 'y.json', report: good[1 - which]! };
            const merged = mergeSweepReports([{ source: 'x.json', report: read }, other]);
            toSweepTerminal(merged);
            toSweepMarkdown(merged);
          });
        },
      ),
      { numRuns: 300 },
    );
    // Arbitrary JSON, not derived from a report, too.
    fc.assert(
      fc.property(fc.jsonValue(), (v) => typedOnly(() => readSweepReport(JSON.stringify(v), 'z.json'))),
    );
  });

  it('refuses shards of another deltascope version, or whose base files hash differently', () => {
    const p = plan();
    const withBase = (f: { source: string; report: SweepReport }, sha: string) => ({
      ...f,
      report: {
        ...f.report,
        results: f.report.results.map((r) => ({
          ...r,
          report: {
            ...r.report,
            provenance: {
              files: [
                { role: 'base', path: 'config.json', bytes: 2, sha256: 'c'.repeat(64) },
                { role: 'base', path: 'onnx/model.onnx', bytes: 10, sha256: sha },
                {
                  role: 'adapter',
                  path: 'adapter_model.safetensors',
                  bytes: 3,
                  sha256: `${r.index}`.repeat(64),
                },
              ],
            },
          },
        })),
      },
    });
    const [one, two] = files(p, 2);
    expect(
      mergeSweepReports([withBase(one!, 'a'.repeat(64)), withBase(two!, 'a'.repeat(64))]).results,
    ).toHaveLength(5);
    expect(() => mergeSweepReports([withBase(one!, 'a'.repeat(64)), withBase(two!, 'b'.repeat(64))])).toThrow(
      /shard-1\.json and shard-2\.json ran on different base models: the base's onnx\/model\.onnx has SHA-256 aaaaaaaaaaaa… for "checkpoint-3" and bbbbbbbbbbbb… for "checkpoint-20"/,
    );
    const newer = {
      ...two!,
      report: { ...two!.report, runs: [{ ...two!.report.runs[0]!, deltascope_version: '0.2.0' }] },
    };
    expect(() => mergeSweepReports([one!, newer])).toThrow(
      'shard-2.json was written by deltascope 0.2.0 and shard-1.json by 0.1.0',
    );
  });

  it('names an adapter that failed on its shard with the shard, the file and the error', () => {
    const p = plan();
    const [one, two] = files(p, 2);
    const broken = {
      ...two!,
      report: {
        ...two!.report,
        runs: [
          {
            ...two!.report.runs[0]!,
            failed: [{ index: 1, label: 'checkpoint-20', code: 'model-load/invalid', message: 'truncated' }],
          },
        ],
        results: two!.report.results.filter((r) => r.index !== 1),
      },
    };
    expect(() => mergeSweepReports([one!, broken])).toThrow(
      '1 of 5 adapters have no result in these reports: "checkpoint-20" (index 1) failed on shard 2/2 (shard-2.json) with model-load/invalid: truncated; fix what failed',
    );
    expect(toSweepTerminal(broken.report)).toContain(
      'failed: checkpoint-20 (index 1, shard 2/2): model-load/invalid: truncated',
    );
  });
});

describe('for other reports', () => {
  it('sweepToLabelledResults gives one labelled SuiteResult per adapter, in adapter order', () => {
    const merged = mergeSweepReports(files(plan(), 2, [1, 0]));
    const labelled = sweepToLabelledResults(merged);
    expect(labelled.map((l) => l.label)).toEqual([
      'checkpoint-3',
      'checkpoint-20',
      'checkpoint-100',
      'final',
      'org/lora@v2',
    ]);
    expect(labelled.map((l) => l.result.score.overall)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expect(labelled[0]!.result.probes).toEqual(fixtureResult().probes);
  });

  it('renders the score per adapter and per probe in the terminal and in markdown', () => {
    const merged = mergeSweepReports(files(plan(), 2));
    const text = toSweepTerminal(merged);
    expect(text).toContain('adapters: 5 of 5 (shards 1/2, 2/2)');
    expect(text).toMatch(/^ {2}3 {2}checkpoint-100 +0\.20 {2}██░░░░░░░░ {2}healthy/m);
    const md = toSweepMarkdown(merged);
    expect(md).toContain('| 5 | org/lora@v2 | 0.40 | healthy |');
    expect(md).toMatch(
      /^\| probe \| checkpoint-3 \| checkpoint-20 \| checkpoint-100 \| final \| org\/lora@v2 \|$/m,
    );
  });
});
