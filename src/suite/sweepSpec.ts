/**
 * The sweep spec: one base, a list of adapters (or checkpoints of a training run, by glob), the suite
 * to run on each, and a seed. `deltascope sweep` reads it; every problem is reported at once with
 * its line:column, like the suite spec's.
 *
 * ```yaml
 * version: 1
 * base: ../models/base            # a folder (relative to this file) or a hub id
 * base_revision: main             # hub ids only
 * dtype: auto                     # auto | fp32 | fp16
 * seed: 0                         # optional: overrides the suite's defaults.seed
 * suite: demo-adapter.yaml        # a suite spec (its models are replaced), or inline:
 * # defaults: {top_k: 256}        #   the suite's defaults, probes and hygiene, as in a suite spec
 * # probes: [...]
 * adapters:
 *   - glob: runs/checkpoint-*     # every folder matching that holds adapter_config.json, in natural
 *                                 # order (checkpoint-9 before checkpoint-10); each labelled by its name
 *   - name: final                 # a folder
 *     path: runs/final
 *   - name: published             # a hub repo at a revision
 *     hub: org/adapter
 *     revision: v1
 * ```
 *
 * What pins it in a report: each result's provenance carries this file's SHA-256 (`spec_sha256`,
 * with `spec_path`), as a suite run's carries its suite spec's; a suite in a file of its own is
 * pinned by the sweep report's header, `sweep.suite_sha256` (the SHA-256 of that file's text as
 * read; null for an inline suite, which the spec's hash covers). The sweep identity (what `merge`
 * matches) hashes the suite's content, not its text, so a comment changed in the suite file keeps
 * the identity but not `suite_sha256`; the merged report keeps the first shard's header.
 */
import { z } from 'zod';
import { nonEmptyString } from '../probes/probeSpec.ts';
import { readYamlSpec, SpecError, type SpecIssue } from './spec.ts';
import { specErrorMap, toPathIssues, type PathIssue } from './specIssues.ts';
import { SuiteSpecSchema } from './specSchema.ts';
import type { SuiteSpec } from './types.ts';

/**
 * A sweep spec that cannot run (code `spec/invalid`): every problem, each with its line:column, in
 * the message and in `details`, as `SpecError` does for a suite spec.
 */
export class SweepSpecError extends SpecError {
  override name = 'SweepSpecError';
  constructor(source: string, issues: readonly SpecIssue[]) {
    super(source, issues, 'sweep spec');
  }
}

const WILDCARD = /[*?]/;

const AdapterEntrySchema = z
  .strictObject({
    /** The label in reports (default: the folder's name, or `<hub id>@<revision>`). */
    name: nonEmptyString.optional(),
    path: nonEmptyString.optional(),
    hub: nonEmptyString.optional(),
    revision: nonEmptyString.optional(),
    glob: nonEmptyString.optional(),
  })
  .superRefine((e, ctx) => {
    const given = (['path', 'hub', 'glob'] as const).filter((k) => e[k] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message:
          given.length === 0
            ? 'an adapter needs one of path (a folder), hub (a hub repo id) or glob (a folder pattern)'
            : `give one of path, hub or glob, not ${given.join(' and ')}`,
      });
    if (e.revision !== undefined && e.hub === undefined)
      ctx.addIssue({ code: 'custom', path: ['revision'], message: 'revision goes with hub only' });
    if (e.glob !== undefined) {
      if (e.name !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['name'],
          message: 'a glob labels each match by its folder name; drop name or list the folders one by one',
        });
      const segments = e.glob.replace(/\/+$/, '').split('/');
      if (segments.slice(0, -1).some((s) => WILDCARD.test(s)))
        ctx.addIssue({
          code: 'custom',
          path: ['glob'],
          message: `"${e.glob}": only the last part of a glob may hold * or ? (e.g. runs/checkpoint-*)`,
        });
      else if (!WILDCARD.test(segments.at(-1) ?? ''))
        ctx.addIssue({
          code: 'custom',
          path: ['glob'],
          message: `"${e.glob}" has no * or ? in its last part; use path for a single folder`,
        });
    }
  });

export type SweepAdapterEntry = z.output<typeof AdapterEntrySchema>;

const SweepSpecSchema = z.strictObject(
  {
    version: z.int(),
    base: nonEmptyString,
    base_revision: nonEmptyString.optional(),
    dtype: z.enum(['auto', 'fp32', 'fp16']).default('auto'),
    seed: z.int().optional(),
    suite: nonEmptyString.optional(),
    // Checked against the suite spec's own schema below (as `defaults`, `suite` and `hygiene`).
    defaults: z.unknown().optional(),
    probes: z.unknown().optional(),
    hygiene: z.unknown().optional(),
    adapters: z.array(AdapterEntrySchema).min(1),
  },
  {
    error: (iss) =>
      iss.code === 'invalid_type' && (iss.path ?? []).length === 0
        ? 'expected a mapping with version, base, suite (or probes) and adapters'
        : undefined,
  },
);

type RawSweepSpec = z.output<typeof SweepSpecSchema>;

/** A validated sweep spec; paths are as written (relative to the spec file's folder). */
export interface SweepSpec {
  base: string;
  baseRevision: string | null;
  dtype: 'auto' | 'fp32' | 'fp16';
  /** Overrides the suite's `defaults.seed`; null keeps it. */
  seed: number | null;
  /**
   * The suite: a suite spec file to read, or the probes given inline (as a suite spec whose models
   * are placeholders; the sweep sets them for each adapter).
   */
  suite: { path: string } | { inline: SuiteSpec };
  /** The adapter entries in order, each with the line it starts on (for later errors). */
  adapters: (SweepAdapterEntry & { line: number })[];
}

export interface ParseSweepOptions {
  /** Shown in error messages. */
  path?: string;
}

const INLINE_KEYS = ['defaults', 'probes', 'hygiene'] as const;

/** The checks that span keys: one suite, labels unique among named entries, a known version. */
function crossIssues(spec: RawSweepSpec): PathIssue[] {
  const out: PathIssue[] = [];
  if (spec.version !== 1)
    out.push({ path: ['version'], message: `unsupported sweep spec version ${spec.version}; this reads 1` });
  const inline = INLINE_KEYS.filter((k) => spec[k] !== undefined);
  if (spec.suite !== undefined && inline.length > 0)
    out.push({
      path: [inline[0]!],
      message: `give the suite as a file (suite) or inline (probes, defaults, hygiene), not both`,
    });
  else if (spec.suite === undefined && spec.probes === undefined)
    out.push({
      path: [],
      message: 'no suite: give suite (a suite spec file) or probes (a list of probe entries)',
    });
  if (spec.base_revision !== undefined && (spec.base.startsWith('.') || spec.base.startsWith('/')))
    out.push({ path: ['base_revision'], message: 'base_revision goes with a hub id, not a folder' });
  const named = new Map<string, number>();
  spec.adapters.forEach((a, i) => {
    if (a.name === undefined) return;
    const first = named.get(a.name);
    if (first === undefined) named.set(a.name, i);
    else
      out.push({
        path: ['adapters', i, 'name'],
        message: `duplicate adapter name "${a.name}" (also adapters[${first}]); names label results and must be unique`,
      });
  });
  return out;
}

/** The inline suite checked by the suite spec's schema, its issues moved to the sweep's keys. */
function inlineSuite(spec: RawSweepSpec): { suite: SuiteSpec | null; issues: PathIssue[] } {
  const placeholder = { base: spec.base };
  const parsed = SuiteSpecSchema.safeParse(
    {
      version: 1,
      models: { base: placeholder, ft: placeholder },
      suite: spec.probes,
      ...(spec.defaults !== undefined ? { defaults: spec.defaults } : {}),
      ...(spec.hygiene !== undefined ? { hygiene: spec.hygiene } : {}),
    },
    { error: specErrorMap, reportInput: true },
  );
  if (parsed.success) return { suite: parsed.data, issues: [] };
  const issues = toPathIssues(parsed.error.issues).map((i) => ({
    ...i,
    path: i.path[0] === 'suite' ? ['probes', ...i.path.slice(1)] : i.path,
  }));
  return { suite: null, issues };
}

/**
 * Parses and validates a sweep spec before anything loads: its own keys, each adapter entry, and an
 * inline suite against the suite spec's schema. Throws `SweepSpecError` with every problem at once,
 * in file order. A suite file and globs are read later (`deltascope sweep` resolves them).
 */
export function parseSweepSpec(yamlText: string, opts: ParseSweepOptions = {}): SweepSpec {
  const source = opts.path ?? '<sweep spec>';
  const text = readYamlSpec(yamlText);
  if (!text.ok) throw new SweepSpecError(source, text.issues);
  const fail = (issues: PathIssue[]): never => {
    throw new SweepSpecError(source, text.locate(issues));
  };
  const parsed = SweepSpecSchema.safeParse(text.value, { error: specErrorMap, reportInput: true });
  if (!parsed.success) return fail(toPathIssues(parsed.error.issues));
  const spec = parsed.data;
  const issues = crossIssues(spec);
  let inline: SuiteSpec | null = null;
  if (spec.suite === undefined && spec.probes !== undefined) {
    const checked = inlineSuite(spec);
    inline = checked.suite;
    issues.push(...checked.issues);
  }
  if (issues.length > 0) fail(issues);
  return {
    base: spec.base,
    baseRevision: spec.base_revision ?? null,
    dtype: spec.dtype,
    seed: spec.seed ?? null,
    suite: inline !== null ? { inline } : { path: spec.suite! },
    adapters: spec.adapters.map((a, i) => ({ ...a, line: text.position(['adapters', i]).line })),
  };
}
